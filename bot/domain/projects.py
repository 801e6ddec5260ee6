"""Projects: create, link and unlink channels, close and reopen; find the project of a channel.

A project's settings are :mod:`bot.domain.project_settings`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.domain.errors import N_, UserError
from bot.domain.parsing import parse_project_key
from bot.domain.permissions import require_project_manager
from bot.domain.views import ProjectView
from storage import queries
from storage.models import (
    HistoryEntry,
    MemberRole,
    Project,
    ProjectChannel,
    ProjectMember,
    ProjectStatus,
)

MAX_NAME = 200


def create_project(
    session: Session,
    *,
    team_id: str,
    key: str,
    name: str,
    channel_id: str,
    user_id: str,
    timezone: str,
    locale: str,
    now: datetime,
    enterprise_id: str | None = None,
) -> ProjectView:
    """Create a project owned by ``user_id`` and link ``channel_id`` to it."""
    key = parse_project_key(key)
    name = name.strip()
    if not name:
        raise UserError(N_("Give the project a name: /project new %(key)s Acme Corp after-sales"), key=key)
    if len(name) > MAX_NAME:
        raise UserError(N_("A project name can have at most %(limit)s characters."), limit=MAX_NAME)
    if queries.project_by_key(session, team_id=team_id, key=key):
        raise UserError(
            N_("There is already a project %(key)s in this workspace. Pick another key."), key=key
        )
    _refuse_linked_channel(session, team_id=team_id, channel_id=channel_id)
    project = Project(
        team_id=team_id,
        enterprise_id=enterprise_id,
        key=key,
        name=name,
        channel_id=channel_id,
        status=ProjectStatus.ACTIVE,
        timezone=timezone,
        locale=locale,
        created_by=user_id,
        created_at=now,
        last_seq=0,
    )
    session.add(project)
    try:
        session.flush()
        session.add(
            ProjectMember(team_id=team_id, project_id=project.id, user_id=user_id, role=MemberRole.OWNER)
        )
        session.add(
            ProjectChannel(
                team_id=team_id,
                channel_id=channel_id,
                project_id=project.id,
                linked_by=user_id,
                linked_at=now,
            )
        )
        session.flush()
    except IntegrityError:
        # Lost a race with another creator of the same key or channel link.
        raise UserError(
            N_("Project %(key)s or this channel's link was just created by someone else."), key=key
        ) from None
    return ProjectView.of(project)


def _refuse_linked_channel(session: Session, *, team_id: str, channel_id: str) -> None:
    linked = queries.project_for_channel(session, team_id=team_id, channel_id=channel_id)
    if linked:
        raise UserError(
            N_("This channel is already linked to project %(key)s. Use /project unlink first."),
            key=linked.key,
        )


def project_for_channel(session: Session, *, team_id: str, channel_id: str) -> ProjectView | None:
    project = queries.project_for_channel(session, team_id=team_id, channel_id=channel_id)
    return ProjectView.of(project) if project else None


NOT_LINKED = N_(
    "This channel isn't linked to a project. Create one here with /project new ACME Acme Corp after-sales, "
    "or link an existing one with /project link ACME."
)


# What a record or meeting command says in a channel no project uses.
NOT_LINKED_YET = N_(
    "This channel isn't linked to a project yet. Create one here with /project new ACME Acme Corp after-sales."
)


def project_in_channel(session: Session, *, team_id: str, channel_id: str) -> ProjectView:
    """The project of ``channel_id``; a clear refusal when the channel has none."""
    project = project_for_channel(session, team_id=team_id, channel_id=channel_id)
    if project is None:
        raise UserError(NOT_LINKED)
    return project


def project_by_key(session: Session, *, team_id: str, key: str) -> ProjectView | None:
    project = queries.project_by_key(session, team_id=team_id, key=key)
    return ProjectView.of(project) if project else None


def list_projects(session: Session, *, team_id: str) -> list[ProjectView]:
    return [ProjectView.of(p) for p in queries.projects(session, team_id=team_id)]


def find_active_projects(session: Session, *, team_id: str, text: str, limit: int) -> list[ProjectView]:
    """What a project picker offers for ``text`` typed so far: open projects of this workspace only.

    Each word typed must appear in the key or the name ("acme after" finds "ACME — Acme Corp after-sales");
    the dash the picker shows between them is no word.
    """
    terms = [word for word in text.split() if word.strip("—–-")]
    found = queries.active_projects_matching(session, team_id=team_id, terms=terms, limit=limit)
    return [ProjectView.of(p) for p in found]


# -- channel links -------------------------------------------------------------------------


def managed_project(session: Session, *, team_id: str, project_id: int, user_id: str) -> Project:
    """The project, once ``user_id`` is known to be one of its owners or a workspace admin."""
    project = session.get(Project, project_id)
    if project is None or project.team_id != team_id:
        raise UserError(N_("That project no longer exists."))
    require_project_manager(session, team_id=team_id, project_id=project.id, user_id=user_id, key=project.key)
    return project


def project_for_manager(session: Session, *, team_id: str, project_id: int, user_id: str) -> ProjectView:
    """The project, when ``user_id`` may manage it (an owner or a workspace admin); else a refusal."""
    return ProjectView.of(managed_project(session, team_id=team_id, project_id=project_id, user_id=user_id))


def record_change(
    session: Session, project: Project, *, field: str, old: str | None, new: str | None, by: str, at: datetime
) -> None:
    session.add(
        HistoryEntry(
            team_id=project.team_id,
            project_id=project.id,
            record_key=project.key,
            field=field,
            old=old,
            new=new,
            by=by,
            at=at,
        )
    )


def _linked_channels(session: Session, project_id: int) -> list[str]:
    return list(
        session.scalars(
            select(ProjectChannel.channel_id)
            .where(ProjectChannel.project_id == project_id)
            .order_by(ProjectChannel.linked_at, ProjectChannel.id)
        )
    )


def joined(values: Sequence[str]) -> str | None:
    return ",".join(values) if values else None


def prepare_link(session: Session, *, team_id: str, key: str, channel_id: str, user_id: str) -> ProjectView:
    """Check that ``channel_id`` may be linked to project ``key`` by ``user_id``; nothing is written."""
    project = queries.project_by_key(session, team_id=team_id, key=key)
    if project is None:
        raise UserError(
            N_("There is no project %(key)s in this workspace. See /project list for the keys."), key=key
        )
    require_project_manager(session, team_id=team_id, project_id=project.id, user_id=user_id, key=project.key)
    _refuse_linked_channel(session, team_id=team_id, channel_id=channel_id)
    return ProjectView.of(project)


def link_channel(
    session: Session, *, team_id: str, key: str, channel_id: str, user_id: str, now: datetime
) -> ProjectView:
    """Link ``channel_id`` to project ``key``; a project without a channel takes it as its channel."""
    view = prepare_link(session, team_id=team_id, key=key, channel_id=channel_id, user_id=user_id)
    project = session.get(Project, view.id)
    assert project is not None
    before = _linked_channels(session, project.id)
    session.add(
        ProjectChannel(
            team_id=team_id, channel_id=channel_id, project_id=project.id, linked_by=user_id, linked_at=now
        )
    )
    try:
        session.flush()
    except IntegrityError:
        raise UserError(N_("This channel was just linked to a project by someone else.")) from None
    record_change(
        session, project, field="channels", old=joined(before), new=joined([*before, channel_id]),
        by=user_id, at=now,
    )  # fmt: skip
    if project.channel_id is None:
        project.channel_id = channel_id
        record_change(session, project, field="channel_id", old=None, new=channel_id, by=user_id, at=now)
    return ProjectView.of(project)


@dataclass(frozen=True)
class Unlinked:
    project: ProjectView
    # The project's main channel after the change (``None``: no channel is linked any more).
    channel_id: str | None
    # True when the unlinked channel was the project's main channel.
    was_main: bool


def unlink_channel(
    session: Session, *, team_id: str, channel_id: str, user_id: str, now: datetime
) -> Unlinked:
    """Unlink ``channel_id`` from its project.

    The last channel may be unlinked too: the project and its records stay, and
    ``/project link <KEY>`` links it again from any channel. When the main channel
    goes, the longest-linked remaining channel takes its place.
    """
    link = queries.channel_link(session, team_id=team_id, channel_id=channel_id)
    if link is None:
        raise UserError(NOT_LINKED)
    project = managed_project(session, team_id=team_id, project_id=link.project_id, user_id=user_id)
    before = _linked_channels(session, project.id)
    session.delete(link)
    session.flush()
    after = [c for c in before if c != channel_id]
    record_change(
        session, project, field="channels", old=joined(before), new=joined(after), by=user_id, at=now
    )
    was_main = project.channel_id == channel_id
    if was_main or project.channel_id not in after:
        new_main = after[0] if after else None
        if new_main != project.channel_id:
            record_change(
                session, project, field="channel_id", old=project.channel_id, new=new_main, by=user_id, at=now
            )
            project.channel_id = new_main
    return Unlinked(project=ProjectView.of(project), channel_id=project.channel_id, was_main=was_main)


# -- closing and reopening -----------------------------------------------------------------


def close_project(
    session: Session, *, team_id: str, project_id: int, user_id: str, now: datetime
) -> ProjectView:
    """Close an active project: no new records until it is reopened."""
    project = managed_project(session, team_id=team_id, project_id=project_id, user_id=user_id)
    if project.status == ProjectStatus.CLOSED:
        raise UserError(N_("Project %(key)s is already closed."), key=project.key)
    _move(session, project, to=ProjectStatus.CLOSED, by=user_id, at=now)
    return ProjectView.of(project)


def reopen_project(
    session: Session, *, team_id: str, project_id: int, user_id: str, now: datetime
) -> ProjectView:
    project = managed_project(session, team_id=team_id, project_id=project_id, user_id=user_id)
    if project.status == ProjectStatus.ACTIVE:
        raise UserError(N_("Project %(key)s is already active."), key=project.key)
    _move(session, project, to=ProjectStatus.ACTIVE, by=user_id, at=now)
    return ProjectView.of(project)


def _move(session: Session, project: Project, *, to: ProjectStatus, by: str, at: datetime) -> None:
    """The project's status changed and the change kept in its history; a closed project remembers when."""
    record_change(session, project, field="status", old=project.status, new=to.value, by=by, at=at)
    project.status = to
    project.closed_at = at if to is ProjectStatus.CLOSED else None
