"""Steps that combine the store and Slack, never holding a transaction across a Slack call."""

from __future__ import annotations

from bot.domain.records import set_card
from bot.domain.views import RecordView
from bot.labels import kind_name
from bot.rendering import render
from bot.services import Services
from bot.slack.blocks import record_card
from bot.slack.gateway import Sent, SlackGateway


def post_record_card(services: Services, gateway: SlackGateway, record: RecordView, *, channel: str) -> Sent:
    """Post the record's card and remember where it is (for redraws)."""
    text, blocks = record_card(record)
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
