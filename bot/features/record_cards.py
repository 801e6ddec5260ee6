"""Steps that combine the store and Slack, never holding a transaction across a Slack call."""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any

from bot.blocks.basics import Block, context, record_card, section
from bot.blocks.record import edit_modal, record_modal
from bot.blocks.rendering import render
from bot.blocks.sla import state_line
from bot.domain import lifecycle
from bot.domain.drafts import save_draft
from bot.domain.lifecycle import Change
from bot.domain.people import locale_of, wants_assignment_dms
from bot.domain.projects import list_projects
from bot.domain.records import set_cards
from bot.domain.resolution import RESOLVED
from bot.domain.service_levels import service_level_now
from bot.domain.views import RecordView
from bot.features import home
from bot.features.card_level import with_level
from bot.i18n import t
from bot.i18n.labels import kind_name
from bot.jobs.intake import tell_thread
from bot.jobs.issue_csat import after_resolution
from bot.slack.gateway import Sent, SlackGateway
from bot.slack.services import Services
from bot.slack.text import mention
from storage.models import Kind, ProjectStatus

log = logging.getLogger(__name__)


def post_record_card(
    services: Services, gateway: SlackGateway, record: RecordView, *, channel: str, service_level: bool = True
) -> Sent:
    """Post the record's card and remember where it is (for redraws). ``service_level=False``: the record was
    just logged without service-level clocks (``NewRecord.starts_clocks``), so no line is looked for."""
    text, blocks = record_card(record)
    if service_level:
        blocks = with_service_level(services, gateway, record, channel, blocks)
    sent = gateway.post(channel=channel, text=text, blocks=blocks)
    if sent.ok and sent.ts:
        if services.after_ack is not None:  # a burst's cards are remembered in one transaction
            services.after_ack.batch(
                "card_ts", (record.id, channel, sent.ts), lambda cards: _set_cards(services, cards)
            )
        else:
            _set_cards(services, [(record.id, channel, sent.ts)])
    return sent


def _set_cards(services: Services, cards: list[tuple[int, str, str]]) -> None:
    with services.db.write() as session:
        set_cards(session, cards)


def reply_logged_in_thread(
    gateway: SlackGateway, record: RecordView, *, channel: str, thread_ts: str, user_id: str
) -> Sent:
    text = render(
        "logged_in_thread.j2",
        record.locale,
        kind_label=kind_name(record.kind, record.locale),
        key=record.key,
        user_id=user_id,
    )
    return gateway.post(channel=channel, text=text, thread_ts=thread_ts)


def with_service_level(
    services: Services, gateway: SlackGateway, record: RecordView, channel: str, blocks: list[Block]
) -> list[Block]:
    """A channel card shows the service-level line only where the channel is internal (bot.features.card_level)."""
    try:
        return with_level(
            services, gateway.client, team_id=record.team_id, project_id=record.project_id,
            record_id=record.id, channel=channel, locale=record.locale, blocks=blocks,
        )  # fmt: skip
    except Exception:
        log.exception("service level of %s not shown on its card", record.key)
        return blocks


def redraw_card(gateway: SlackGateway, record: RecordView, services: Services | None = None) -> None:
    """Redraw the record's channel card in place, if it has one (with ``services``: and its service level
    where the channel is internal)."""
    if record.card_channel_id and record.card_ts:
        text, blocks = record_card(record)
        if services is not None:
            blocks = with_service_level(services, gateway, record, record.card_channel_id, blocks)
        gateway.update(channel=record.card_channel_id, ts=record.card_ts, text=text, blocks=blocks)


def notify_assignee(services: Services, gateway: SlackGateway, change: Change, *, actor: str) -> None:
    """One DM to a new assignee (not when they assigned themselves, and not when they turned these off)."""
    assignee = change.newly_assigned
    record = change.record
    if not assignee or assignee == actor:
        return
    with services.db.read() as session:
        if not wants_assignment_dms(session, team_id=record.team_id, user_id=assignee):
            return
        locale = locale_of(session, team_id=record.team_id, user_id=assignee, default=record.locale)
        level = service_level_now(session, record_id=record.id, now=services.now())
    personal = replace(record, locale=locale)
    text, blocks = record_card(personal)
    if level is not None:  # a DM is internal: the service level may show
        blocks = [*blocks[:2], context(state_line(level, locale)), *blocks[2:]]
    intro = t(locale, "%(who)s assigned %(key)s to you.", who=mention(actor), key=record.key)
    gateway.dm(
        user=assignee,
        text=f"{intro} {text}",
        blocks=[section(intro), *blocks],
    )


def redraw_clicked(
    services: Services, gateway: SlackGateway, change: Change, container: dict[str, Any], respond: Any
) -> None:
    """Show the record's current state on the message whose button was clicked (App Home: ``after_change``)."""
    if container.get("type") != "message":
        return
    record = change.record
    text, blocks = record_card(record)
    if container.get("is_ephemeral"):
        respond(text=text, blocks=blocks, replace_original=True)
        return
    channel, ts = container.get("channel_id"), container.get("message_ts")
    if not channel or not ts:
        return
    if change.changed and (channel, ts) == (record.card_channel_id, record.card_ts):
        return  # after_change already redrew the record's own card
    blocks = with_service_level(services, gateway, record, channel, blocks)  # internal channels only
    gateway.update(channel=channel, ts=ts, text=text, blocks=blocks)


def after_change(services: Services, gateway: SlackGateway, change: Change, *, actor: str) -> None:
    """Everything that follows a change: the card redrawn, the new assignee told, dashboards refreshed."""
    if not change.changed:
        return
    try:
        redraw_card(gateway, change.record, services)
        notify_assignee(services, gateway, change, actor=actor)
        people = {actor, change.record.assignee_id, change.previous_assignee, change.record.created_by}
        home.redraw_homes(services, gateway.client, change.record.team_id, [p for p in people if p])
    except Exception:
        # The change is saved; a failed redraw or DM must not turn it into an error.
        log.exception("follow-up of a change to %s failed", change.record.key)
    try:  # the record's source thread hears of it (customer intake)
        tell_thread(services, gateway, change)
    except Exception:
        log.exception("thread update of %s failed", change.record.key)
    if change.record.kind == Kind.ISSUE and change.record.status == RESOLVED:
        try:  # satisfaction per resolved issue: its card in the issue's thread (once per resolution)
            after_resolution(services, record_id=change.record.id)
        except Exception:
            log.exception("the satisfaction card of %s failed", change.record.key)


def open_record_form(
    services: Services,
    gateway: SlackGateway,
    *,
    team_id: str,
    kind: Kind | None,
    locale: str,
    trigger_id: str,
    channel_id: str | None,
    user_id: str,
    selected_project_id: int | None = None,
    title: str = "",
    description: str = "",
    notice: str | None = None,
    draft: dict[str, Any] | None = None,
) -> str:
    """Open the form; returns the draft id that the submission will find its context under."""
    with services.db.write() as session:
        projects = [p for p in list_projects(session, team_id=team_id) if p.status == ProjectStatus.ACTIVE]
        data = {
            "kind": kind.value if kind else None,
            "channel_id": channel_id,
            "user_id": user_id,
            "locale": locale,
        }
        draft_id = save_draft(session, team_id=team_id, data={**data, **(draft or {})}, now=services.now())
    if selected_project_id is None and channel_id:
        selected_project_id = next((p.id for p in projects if p.channel_id == channel_id), None)
    view = record_modal(
        kind=kind,
        locale=locale,
        projects=projects,
        selected_project_id=selected_project_id,
        metadata={"draft": draft_id},
        title=title,
        description=description,
        notice=notice,
    )
    gateway.open_form(trigger_id=trigger_id, view=view)
    return draft_id


def open_edit_form(
    services: Services,
    gateway: SlackGateway,
    *,
    team_id: str,
    key: str,
    kind: Kind | None,
    user_id: str,
    trigger_id: str,
) -> None:
    with services.db.read() as session:
        record = lifecycle.editable(session, team_id=team_id, key=key, kind=kind, user_id=user_id)
    gateway.open_form(trigger_id=trigger_id, view=edit_modal(record, record.locale))
