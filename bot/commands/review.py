"""Buttons on risk-review messages: Still valid, raise/lower probability or impact, Mitigating, Close.

Each click changes one risk (if its version still matches the button's), then the
review message is rebuilt in place from current data, listing the same risks.
"""

from __future__ import annotations

import json
from typing import Any

from slack_bolt import App

from bot.commands.common import Click, on_click
from bot.domain.errors import N_, UserError
from bot.features import review_steps as steps
from bot.i18n import t
from bot.slack import ids
from bot.slack.payloads import Pressed


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


@on_click
def on_review_action(click: Click, body: dict[str, Any], action: dict[str, Any]) -> None:
    value = _value(action)
    change = steps.press_review_button(
        click.services,
        click.gateway,
        Pressed(click.team_id, click.user_id, str(action["action_id"]), value, body, click.respond),
    )
    if change.stale:
        click.tell(
            t(click.locale, "%(key)s had changed since this review was drawn: here is how it stands now.",
              key=change.record.key)
        )  # fmt: skip


def register(app: App) -> None:
    for action_id in ids.REVIEW_ACTIONS:
        app.action(action_id)(on_review_action)
