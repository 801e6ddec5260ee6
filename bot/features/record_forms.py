"""The record forms' submissions as their listeners (``bot/commands/forms.py``) call them: a new record from the
form, how the person hears of it (card, thread reply or DM), an edit, and what the global shortcut and the
project picker need. Transactions are opened here, never across a Slack call.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from bot.domain import lifecycle
from bot.domain.drafts import submitted_draft
from bot.domain.errors import N_, UserError, speaking
from bot.domain.parsing import parse_estimate
from bot.domain.people import locale_of
from bot.domain.projects import find_active_projects, list_projects
from bot.domain.records import NewRecord, create_record, set_source
from bot.domain.views import ProjectView, RecordView
from bot.features.record_cards import after_change, post_record_card, reply_logged_in_thread
from bot.i18n import t
from bot.slack import ids
from bot.slack.gateway import SlackGateway
from bot.slack.payloads import RecordForm
from bot.slack.services import Services
from storage.models import Kind, Priority, ProjectStatus

log = logging.getLogger(__name__)


def _kind_fields(form: RecordForm) -> dict[str, Any]:
    return {
        "estimate_hours": parse_estimate(form.estimate) if form.estimate else None,
        "probability": form.probability,
        "impact": form.impact,
        "mitigation": form.mitigation,
    }


@dataclass(frozen=True)
class NewFromForm:
    record: RecordView
    draft: dict[str, Any]


def save_new_record(
    services: Services, *, team_id: str, user_id: str, draft_id: str, form: RecordForm
) -> NewFromForm:
    """The "new record" form as a record; raises ``UserError`` noted with the draft's language."""
    with services.db.write() as session:
        draft = submitted_draft(session, team_id=team_id, draft_id=draft_id, field=ids.BLOCK_TITLE)
        with speaking(draft.get("locale", services.default_locale)):
            if form.project_id is None:
                raise UserError(N_("Choose a project."), field=ids.BLOCK_PROJECT)
            description = form.description
            full_text = draft.get("full_text")
            # An untouched, cut-down description stands for the whole message.
            if full_text and description == draft.get("shown_text"):
                description = full_text
            new = NewRecord(
                kind=Kind(draft.get("kind") or form.kind or Kind.ISSUE),
                title=form.title,
                description=description,
                assignee_id=form.assignee_id,
                due_date=form.due_date,
                priority=Priority(form.priority) if form.priority else None,
                requester_id=draft.get("author_id"),
                source_url=draft.get("permalink"),
                source_channel_id=draft.get("source_channel_id"),
                source_ts=draft.get("message_ts"),
                **_kind_fields(form),
            )
            record = create_record(
                session,
                team_id=team_id,
                project_id=form.project_id,
                user_id=user_id,
                new=new,
                now=services.now(),
            )
    return NewFromForm(record=record, draft=draft)


def confirm_new_record(
    services: Services, gateway: SlackGateway, saved: NewFromForm, *, user_id: str
) -> None:
    """After the ack: the card (or a thread reply, or a DM) and the assignee's note; a failure is told by DM."""
    record, draft = saved.record, saved.draft
    try:
        if draft.get("message_ts"):
            _confirm_from_message(services, gateway, record, draft, user_id)
        elif draft.get("global"):
            _confirm_by_dm(services, gateway, record, user_id, card=True)
        else:
            channel = draft.get("channel_id") or record.project_channel_id
            sent = post_record_card(services, gateway, record, channel=channel) if channel else None
            if sent is None or not sent.ok:
                _confirm_by_dm(services, gateway, record, user_id, card=False)
        if record.assignee_id:
            after_change(
                services, gateway, lifecycle.Change(record, newly_assigned=record.assignee_id), actor=user_id
            )
    except Exception:
        log.exception("confirming %s failed", record.key)
        gateway.dm(user=user_id, text=t(record.locale, "Logged %(key)s.", key=record.key))


def _confirm_by_dm(
    services: Services, gateway: SlackGateway, record: RecordView, user_id: str, *, card: bool
) -> None:
    with services.db.read() as session:
        locale = locale_of(session, team_id=record.team_id, user_id=user_id, default=record.locale)
    text = t(locale, "Logged %(key)s.", key=record.key)
    if card and record.project_channel_id:
        sent = post_record_card(services, gateway, record, channel=record.project_channel_id)
        if sent.ok:
            text = t(
                locale,
                "Logged %(key)s and posted it in <#%(channel)s>.",
                key=record.key,
                channel=record.project_channel_id,
            )
    gateway.dm(user=user_id, text=text)


def _confirm_from_message(
    services: Services, gateway: SlackGateway, record: RecordView, draft: dict[str, Any], user_id: str
) -> None:
    channel = draft["source_channel_id"]
    if not record.source_url:
        link = gateway.permalink(channel=channel, ts=draft["message_ts"])
        if link:
            with services.db.write() as session:
                set_source(session, record_id=record.id, url=link)
    sent = reply_logged_in_thread(
        gateway, record, channel=channel, thread_ts=draft["thread_root"], user_id=user_id
    )
    if not sent.ok:
        gateway.dm(
            user=user_id,
            text=t(
                record.locale,
                "Logged %(key)s. I couldn't reply in the message's thread (%(error)s); invite me to the channel to see replies there.",
                key=record.key,
                error=sent.error,
            ),
        )


def edit_record(
    services: Services, *, team_id: str, user_id: str, key: str, form: RecordForm
) -> lifecycle.Change:
    """The "edit record" form applied once (a stale card's edit comes back as a stale change)."""
    values = lifecycle.RecordEdit(
        title=form.title,
        description=form.description,
        assignee_id=form.assignee_id,
        due_date=form.due_date,
        priority=Priority(form.priority or Priority.MEDIUM),
        **_kind_fields(form),
    )
    return lifecycle.change_once(
        services.db, team_id=team_id, key=key,
        apply=lambda session: lifecycle.edit(
            session, team_id=team_id, key=key, values=values, user_id=user_id, now=services.now()
        ),
    )  # fmt: skip


def shortcut_start(services: Services, *, team_id: str, user_id: str) -> tuple[str, bool]:
    """The person's language, and whether the workspace has an active project to log into."""
    with services.db.read() as session:
        locale = locale_of(session, team_id=team_id, user_id=user_id, default=services.default_locale)
        has_projects = any(p.status == ProjectStatus.ACTIVE for p in list_projects(session, team_id=team_id))
    return locale, has_projects


def suggested_projects(services: Services, *, team_id: str, typed: str, limit: int) -> list[ProjectView]:
    """Open projects of the workspace with every typed word in their key or name."""
    with services.db.read() as session:
        return find_active_projects(session, team_id=team_id, text=typed, limit=limit)
