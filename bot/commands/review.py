"""Buttons on risk-review messages: Still valid, raise/lower probability or impact, Mitigating, Close.

Each click changes one risk (if its version still matches the button's), then the
review message is rebuilt in place from current data, listing the same risks.
"""

from __future__ import annotations

import json
from typing import Any

from slack_bolt import App

from bot.blocks.review import message_layout, part_with, review_message
from bot.commands.common import Click, on_click
from bot.domain import lifecycle
from bot.domain.errors import N_, UserError
from bot.features import review_steps as steps
from bot.features.record_cards import after_change
from bot.i18n import t
from bot.slack import ids
from bot.slack.gateway import SlackGateway
from bot.slack.services import Services


def _value(action: dict[str, Any]) -> dict[str, Any]:
    raw = (action.get("selected_option") or {}).get("value") or action.get("value") or "{}"
    try:
        value = json.loads(raw)
    except (TypeError, json.JSONDecodeError):
        value = {}
    if not isinstance(value, dict) or not isinstance(value.get("key"), str):
        raise UserError(N_("This button is broken. Please use the command instead."))
    version = value.get("v")
    value["v"] = version if isinstance(version, int) else None
    return value


def _redraw(
    services: Services, gateway: SlackGateway, body: dict[str, Any], respond: Any, change: lifecycle.Change
) -> None:
    """Rebuild the clicked review message from current data, with the risks it listed."""
    container = body.get("container") or {}
    if container.get("type") != "message":
        return
    record = change.record
    layout = message_layout((body.get("message") or {}).get("blocks"))
    review = steps.review_of(services, record, keys=layout[0] if layout is not None else None)
    if layout is not None:
        _, part, total = layout
        text, blocks = review_message(review, review.risks, part=part, total=total)
    else:
        text, blocks = part_with(review, record.key)
    if container.get("is_ephemeral"):
        respond(text=text, blocks=blocks, replace_original=True)
        return
    channel, ts = container.get("channel_id"), container.get("message_ts")
    if channel and ts:
        gateway.update(channel=str(channel), ts=str(ts), text=text, blocks=blocks)


@on_click
def on_review_action(click: Click, body: dict[str, Any], action: dict[str, Any]) -> None:
    value = _value(action)
    change = steps.apply_button(
        click.services, team_id=click.team_id, user_id=click.user_id, action_id=str(action["action_id"]),
        value=value,
    )  # fmt: skip
    after_change(click.services, click.gateway, change, actor=click.user_id)
    _redraw(click.services, click.gateway, body, click.respond, change)
    if change.stale:
        click.tell(
            t(click.locale, "%(key)s had changed since this review was drawn: here is how it stands now.",
              key=change.record.key)
        )  # fmt: skip


def register(app: App) -> None:
    for action_id in ids.REVIEW_ACTIONS:
        app.action(action_id)(on_review_action)
