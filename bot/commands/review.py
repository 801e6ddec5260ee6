"""Buttons on risk-review messages: Still valid, raise/lower probability or impact, Mitigating, Close.

Each click changes one risk (if its version still matches the button's), then the
review message is rebuilt in place from current data, listing the same risks.
"""

from __future__ import annotations

import json
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient
from sqlalchemy.orm import Session

from bot import ids
from bot.commands.common import clicked, reporting
from bot.domain import lifecycle
from bot.domain.errors import N_, UserError
from bot.domain.risk_review import adjust_risk, confirm_risk, risk_review
from bot.flows import after_change
from bot.i18n import t
from bot.services import Services
from bot.slack.gateway import SlackGateway
from bot.slack.review_blocks import message_layout, part_with, review_message
from storage.models import Kind

_FIELDS = {"p": "probability", "i": "impact"}


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


def _apply(
    services: Services, team_id: str, user_id: str, action_id: str, value: dict[str, Any]
) -> lifecycle.Change:
    key, version = value["key"], value["v"]
    now = services.now()

    def apply(session: Session) -> lifecycle.Change:
        if action_id == ids.ACTION_REVIEW_STILL_VALID:
            return confirm_risk(
                session, team_id=team_id, key=key, user_id=user_id, now=now, expected_version=version
            )
        if action_id == ids.ACTION_REVIEW_ADJUST:
            delta = value.get("d")
            return adjust_risk(
                session,
                team_id=team_id,
                key=key,
                field_name=_FIELDS.get(str(value.get("f")), ""),
                delta=delta if isinstance(delta, int) else 0,
                user_id=user_id,
                now=now,
                expected_version=version,
            )
        verb = "mitigate" if action_id == ids.ACTION_REVIEW_MITIGATING else "close"
        return lifecycle.move(
            session,
            team_id=team_id,
            key=key,
            verb=verb,
            user_id=user_id,
            now=now,
            kind=Kind.RISK,
            expected_version=version,
        )

    return lifecycle.change_once(services.db, team_id=team_id, key=key, apply=apply)


def _redraw(
    services: Services, gateway: SlackGateway, body: dict[str, Any], respond: Any, change: lifecycle.Change
) -> None:
    """Rebuild the clicked review message from current data, with the risks it listed."""
    container = body.get("container") or {}
    if container.get("type") != "message":
        return
    record = change.record
    layout = message_layout((body.get("message") or {}).get("blocks"))
    now = services.now()
    with services.db.read() as session:
        if layout is not None:
            keys, part, total = layout
            review = risk_review(
                session, team_id=record.team_id, project_id=record.project_id, now=now, keys=keys
            )
        else:
            # The message's blocks were not sent along: rebuild the part of the review listing this risk.
            review = risk_review(
                session, team_id=record.team_id, project_id=record.project_id, now=now, including=record.key
            )
    if layout is not None:
        text, blocks = review_message(review, review.risks, part=part, total=total)
    else:
        text, blocks = part_with(review, record.key)
    if container.get("is_ephemeral"):
        respond(text=text, blocks=blocks, replace_original=True)
        return
    channel, ts = container.get("channel_id"), container.get("message_ts")
    if channel and ts:
        gateway.update(channel=str(channel), ts=str(ts), text=text, blocks=blocks)


def on_review_action(
    ack: Ack,
    body: dict[str, Any],
    action: dict[str, Any],
    respond: Any,
    client: WebClient,
    context: BoltContext,
) -> None:
    ack()
    click = clicked(body, respond, client, context)
    services, team_id, user_id, gateway, locale, tell = (
        click.services, click.team_id, click.user_id, click.gateway, click.locale, click.tell,
    )  # fmt: skip
    with reporting(tell, lambda: locale):
        value = _value(action)
        change = _apply(services, team_id, user_id, str(action["action_id"]), value)
        after_change(services, gateway, change, actor=user_id)
        _redraw(services, gateway, body, respond, change)
        if change.stale:
            tell(
                t(
                    locale,
                    "%(key)s had changed since this review was drawn: here is how it stands now.",
                    key=change.record.key,
                )
            )


def register(app: App) -> None:
    for action_id in ids.REVIEW_ACTIONS:
        app.action(action_id)(on_review_action)
