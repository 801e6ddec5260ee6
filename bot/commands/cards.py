"""Buttons on record cards (in channels, DMs, ephemeral replies and App Home) and the Undo of a delete."""

from __future__ import annotations

import json
from typing import Any

from slack_bolt import Ack, App

from bot.blocks.record import restored_blocks
from bot.commands.common import Click, on_click
from bot.domain.errors import N_, UserError
from bot.features import record_steps as steps
from bot.features.record_cards import open_edit_form
from bot.i18n import t
from bot.slack import ids
from bot.slack.payloads import Pressed


def _value(action: dict[str, Any]) -> dict[str, Any]:
    try:
        value = json.loads(action.get("value") or "{}")
    except json.JSONDecodeError:
        value = {}
    if not isinstance(value, dict) or not isinstance(value.get("key"), str):
        raise UserError(N_("This button is broken. Please use the command instead."))
    return value


@on_click
def on_card_button(click: Click, body: dict[str, Any], action: dict[str, Any]) -> None:
    services, gateway = click.services, click.gateway
    value = _value(action)
    if action["action_id"] == ids.ACTION_CARD_EDIT:
        open_edit_form(
            services, gateway, team_id=click.team_id, key=value["key"], kind=None, user_id=click.user_id,
            trigger_id=str(body.get("trigger_id", "")),
        )  # fmt: skip
        return
    change = steps.press_card_button(
        services,
        gateway,
        Pressed(click.team_id, click.user_id, action["action_id"], value, body, click.respond),
    )
    if change.stale:
        click.tell(
            t(click.locale, "%(key)s had changed since this card was drawn: here is how it stands now.",
              key=change.record.key)
        )  # fmt: skip


@on_click
def on_undo_delete(click: Click, body: dict[str, Any], action: dict[str, Any]) -> None:
    value = _value(action)
    change = steps.restore(
        click.services, click.gateway, team_id=click.team_id, key=value["key"], user_id=click.user_id
    )
    text, blocks = restored_blocks(change.record, change.record.locale)
    click.respond(text=text, blocks=blocks, replace_original=True)


def on_link_button(ack: Ack) -> None:
    """Link buttons open a URL in the browser; Slack still sends an action, which needs only an ack."""
    ack()


def register(app: App) -> None:
    for action_id in (ids.ACTION_CARD_ASSIGN_ME, ids.ACTION_CARD_CLOSE, ids.ACTION_CARD_EDIT):
        app.action(action_id)(on_card_button)
    app.action(ids.CARD_MOVE_ACTION)(on_card_button)
    app.action(ids.ACTION_UNDO_DELETE)(on_undo_delete)
    app.action(ids.ACTION_OPEN_LINK)(on_link_button)
