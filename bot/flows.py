"""Steps that combine the store and Slack, never holding a transaction across a Slack call."""

from __future__ import annotations

import logging
from dataclasses import replace

from bot.card_level import with_level
from bot.domain.lifecycle import Change
from bot.domain.people import locale_of, wants_assignment_dms
from bot.domain.records import set_card
from bot.domain.service_levels import service_level_now
from bot.domain.views import RecordView
from bot.i18n import t
from bot.labels import kind_name
from bot.rendering import render
from bot.services import Services
from bot.slack.blocks import Block, context, record_card, section
from bot.slack.gateway import Sent, SlackGateway
from bot.slack.sla_blocks import state_line
from bot.text import mention

log = logging.getLogger(__name__)


def post_record_card(services: Services, gateway: SlackGateway, record: RecordView, *, channel: str) -> Sent:
    """Post the record's card and remember where it is (for redraws)."""
    text, blocks = record_card(record)
    blocks = with_service_level(services, gateway, record, channel, blocks)
    sent = gateway.post(channel=channel, text=text, blocks=blocks)
    if sent.ok and sent.ts:
        with services.db.write() as session:
            set_card(session, record_id=record.id, channel_id=channel, ts=sent.ts)
    return sent


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
    """A channel card shows the service-level line only where the channel is internal (bot.card_level)."""
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


def after_change(services: Services, gateway: SlackGateway, change: Change, *, actor: str) -> None:
    """Everything that follows a change: the card redrawn, the new assignee told, dashboards refreshed."""
    if not change.changed:
        return
    try:
        redraw_card(gateway, change.record, services)
        notify_assignee(services, gateway, change, actor=actor)
        from bot import home

        people = {actor, change.record.assignee_id, change.previous_assignee, change.record.created_by}
        home.refresh_homes(services, gateway.client, change.record.team_id, [p for p in people if p])
    except Exception:
        # The change is saved; a failed redraw or DM must not turn it into an error.
        log.exception("follow-up of a change to %s failed", change.record.key)
    try:  # the record's source thread hears of it (customer intake)
        from bot.jobs.intake import tell_thread

        tell_thread(services, gateway, change)
    except Exception:
        log.exception("thread update of %s failed", change.record.key)
    if change.record.kind == "issue" and change.record.status == "resolved":
        try:  # satisfaction per resolved issue: its card in the issue's thread (once per resolution)
            from bot.jobs.issue_csat import after_resolution

            after_resolution(services, record_id=change.record.id)
        except Exception:
            log.exception("the satisfaction card of %s failed", change.record.key)
