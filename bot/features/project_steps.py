"""The steps of ``/project`` and its two forms, each one call for its listener (``bot/commands/project.py``).

Each step opens its own transactions and asks Slack only between them. Once the channel's project is
known, an error raised inside is noted with the project's language (:func:`bot.domain.errors.speaking`),
so the person is answered in it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import TypeVar

from sqlalchemy.orm import Session

from bot.blocks.project import parse_settings_form
from bot.domain.documents import DocsIndex, docs_index
from bot.domain.errors import N_, UserError, speaking
from bot.domain.project_settings import (
    ProjectSettings,
    SavedSettings,
    check_settings,
    project_settings,
    save_settings,
    set_report_channel,
)
from bot.domain.projects import (
    Unlinked,
    create_project,
    link_channel,
    list_projects,
    prepare_link,
    project_by_key,
    project_for_channel,
    project_for_manager,
    project_in_channel,
    reopen_project,
    unlink_channel,
)
from bot.domain.retrospective import Retrospective, retrospective
from bot.domain.status import StatusSnapshot, project_status
from bot.domain.surveys import StartedSurvey, start_on_demand_survey
from bot.domain.views import ProjectView
from bot.features.channels import ensure_bot_can_post, report_channel_problem, summary_links
from bot.jobs.digest import DigestPreview, preview_digest
from bot.slack.gateway import SlackGateway
from bot.slack.services import Services
from storage.models import ProjectStatus

T = TypeVar("T")


@contextmanager
def _channel_project(session: Session, team_id: str, channel_id: str) -> Iterator[ProjectView]:
    """The channel's project (``UserError`` when it has none); an error raised inside is answered in its language."""
    project = project_in_channel(session, team_id=team_id, channel_id=channel_id)
    with speaking(project.locale):
        yield project


def new_project(
    services: Services, gateway: SlackGateway, *, team_id: str, enterprise_id: str | None, key: str, name: str,
    channel_id: str, user_id: str,
) -> ProjectView:  # fmt: skip
    """``/project new``: refuse a taken key or a linked channel, make sure the bot can post, then create."""
    with services.db.read() as session:
        if project_by_key(session, team_id=team_id, key=key):
            raise UserError(
                N_("There is already a project %(key)s in this workspace. Pick another key."), key=key
            )
        linked = project_for_channel(session, team_id=team_id, channel_id=channel_id)
        if linked:
            raise UserError(
                N_("This channel is already linked to project %(key)s. Use /project unlink first."),
                key=linked.key,
            )
    if not name:
        raise UserError(N_("Give the project a name: /project new %(key)s Acme Corp after-sales"), key=key)
    ensure_bot_can_post(gateway, channel_id)
    with services.db.write() as session:
        return create_project(
            session,
            team_id=team_id,
            enterprise_id=enterprise_id,
            key=key,
            name=name,
            channel_id=channel_id,
            user_id=user_id,
            timezone=services.default_timezone,
            locale=services.default_locale,
            now=services.now(),
        )


def link_project(
    services: Services, gateway: SlackGateway, *, team_id: str, key: str, channel_id: str, user_id: str
) -> ProjectView:
    """``/project link``: checked, then Slack is asked outside any transaction; the link is checked again."""
    with services.db.read() as session:
        project = prepare_link(session, team_id=team_id, key=key, channel_id=channel_id, user_id=user_id)
    with speaking(project.locale):
        ensure_bot_can_post(gateway, channel_id)
        with services.db.write() as session:
            return link_channel(
                session, team_id=team_id, key=key, channel_id=channel_id, user_id=user_id, now=services.now()
            )


def unlink_project(services: Services, *, team_id: str, channel_id: str, user_id: str) -> Unlinked:
    with services.db.write() as session:
        locale = project_in_channel(session, team_id=team_id, channel_id=channel_id).locale
        with speaking(locale):
            return unlink_channel(
                session, team_id=team_id, channel_id=channel_id, user_id=user_id, now=services.now()
            )


def all_projects(services: Services, *, team_id: str) -> list[ProjectView]:
    with services.db.read() as session:
        return list_projects(session, team_id=team_id)


def channel_status(
    services: Services, *, team_id: str, channel_id: str, user_id: str
) -> tuple[ProjectView, StatusSnapshot]:
    """``/project status``: the channel's project as its asker may see it (internal figures for its own team)."""
    return _as_seen_by(services, project_status, team_id=team_id, channel_id=channel_id, user_id=user_id)


def digest_preview(
    services: Services, *, team_id: str, channel_id: str, user_id: str
) -> tuple[ProjectView, DigestPreview]:
    """``/project digest``: the channel's project's next digest, as a preview for its asker."""
    return _as_seen_by(services, preview_digest, team_id=team_id, channel_id=channel_id, user_id=user_id)


def _as_seen_by(
    services: Services, build: Callable[..., T], *, team_id: str, channel_id: str, user_id: str
) -> tuple[ProjectView, T]:
    with services.db.read() as session, _channel_project(session, team_id, channel_id) as project:
        return project, build(
            session, team_id=team_id, project_id=project.id, now=services.now(), viewer_id=user_id
        )


def settings_to_edit(
    services: Services, *, team_id: str, channel_id: str, user_id: str
) -> tuple[ProjectView, ProjectSettings]:
    """The channel's project and its settings, for its owners and admins."""
    with services.db.read() as session, _channel_project(session, team_id, channel_id) as project:
        project_for_manager(session, team_id=team_id, project_id=project.id, user_id=user_id)
        return project, project_settings(session, team_id=team_id, project_id=project.id)


def project_to_close(
    services: Services, *, team_id: str, channel_id: str, user_id: str
) -> tuple[ProjectView, Retrospective]:
    """The channel's project (owners and admins, not closed yet) and its retrospective as of now."""
    with services.db.read() as session, _channel_project(session, team_id, channel_id) as project:
        project_for_manager(session, team_id=team_id, project_id=project.id, user_id=user_id)
        if project.status == ProjectStatus.CLOSED:
            raise UserError(N_("Project %(key)s is already closed."), key=project.key)
        return project, retrospective(session, team_id=team_id, project_id=project.id, now=services.now())


def reopen(services: Services, *, team_id: str, channel_id: str, user_id: str) -> ProjectView:
    with services.db.write() as session, _channel_project(session, team_id, channel_id) as project:
        return reopen_project(
            session, team_id=team_id, project_id=project.id, user_id=user_id, now=services.now()
        )


def documents(
    services: Services, gateway: SlackGateway, *, team_id: str, channel_id: str, user_id: str
) -> tuple[DocsIndex, dict[str, str]]:
    """The project's documents, each report's link as Slack gives it now (the file may have moved or gone),
    and the meeting summaries' links."""
    with services.db.read() as session, _channel_project(session, team_id, channel_id) as project:
        index = docs_index(session, team_id=team_id, project_id=project.id, viewer_id=user_id)
    with speaking(project.locale):
        linked = tuple(
            replace(d, permalink=gateway.file_permalink(file=d.file_id) if d.file_id else None)
            for d in index.documents
        )
        return replace(index, documents=linked), summary_links(gateway, index.meetings)


def start_survey(services: Services, *, team_id: str, channel_id: str, user_id: str) -> StartedSurvey:
    with services.db.write() as session, _channel_project(session, team_id, channel_id) as project:
        return start_on_demand_survey(
            session, team_id=team_id, project_id=project.id, user_id=user_id, now=services.now()
        )


# -- the settings form ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class SettingsSubmitted:
    """What the settings form saved before its ack, and the new report channel still to be vouched for."""

    saved: SavedSettings
    wanted: str | None
    project_id: int


def save_settings_form(
    services: Services, *, team_id: str, project_id: int, user_id: str, view: dict[str, object]
) -> SettingsSubmitted:
    """Validate and save what can be checked without Slack (raises ``InvalidSettings`` / ``UserError``).

    A new report channel is kept back: it is set by :func:`vouch_report_channel` once Slack says it is internal.
    """
    with services.db.read() as session:
        locale = project_for_manager(session, team_id=team_id, project_id=project_id, user_id=user_id).locale
        current = project_settings(session, team_id=team_id, project_id=project_id).report_channel_id
    with speaking(locale):
        settings = check_settings(parse_settings_form(view))
        wanted = settings.report_channel_id if settings.report_channel_id != current else None
        if wanted:
            if wanted.startswith("D"):  # told apart by its id, no need to ask Slack
                raise UserError(N_("Choose a channel, not a direct message."), field="report_channel")
            settings = replace(settings, report_channel_id=current)  # set once Slack has vouched for it
        with services.db.write() as session:
            saved = save_settings(
                session, team_id=team_id, project_id=project_id, user_id=user_id, settings=settings,
                now=services.now(),
            )  # fmt: skip
    return SettingsSubmitted(saved=saved, wanted=wanted, project_id=project_id)


def vouch_report_channel(
    services: Services, gateway: SlackGateway, submitted: SettingsSubmitted, *, team_id: str, user_id: str
) -> tuple[SavedSettings, UserError | None]:
    """After the ack: ask Slack about the wanted report channel and set it when internal; what was saved in
    all, and why the channel was refused (``None`` when it was not)."""
    wanted, saved = submitted.wanted, submitted.saved
    refused = report_channel_problem(gateway, wanted) if wanted else None
    if wanted and refused is None:
        with services.db.write() as session:
            channel_saved = set_report_channel(
                session, team_id=team_id, project_id=submitted.project_id, user_id=user_id, channel_id=wanted,
                now=services.now(),
            )  # fmt: skip
        saved = SavedSettings(project=channel_saved.project, changes=saved.changes + channel_saved.changes)
    return saved, refused


def closable_project(services: Services, *, team_id: str, project_id: int, user_id: str) -> ProjectView:
    """The project the closing form is about, if the person may close it and it is not closed yet."""
    with services.db.read() as session:
        project = project_for_manager(session, team_id=team_id, project_id=project_id, user_id=user_id)
    if project.status == ProjectStatus.CLOSED:
        with speaking(project.locale):
            raise UserError(N_("Project %(key)s is already closed."), key=project.key)
    return project
