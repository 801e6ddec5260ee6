"""The risk review's buttons as their listener (``bot/commands/review.py``) calls them: one risk changed in
its own transaction, and the review it sits in read again to be redrawn."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from bot.blocks.review import message_layout, part_with, review_message
from bot.domain import lifecycle
from bot.domain.risk_review import RiskReview, adjust_risk, confirm_risk, risk_review
from bot.domain.views import RecordView
from bot.features.record_cards import after_change
from bot.slack import ids
from bot.slack.gateway import SlackGateway
from bot.slack.payloads import Pressed
from bot.slack.services import Services
from storage.models import Kind

_FIELDS = {"p": "probability", "i": "impact"}


def apply_button(
    services: Services, *, team_id: str, user_id: str, action_id: str, value: dict[str, Any]
) -> lifecycle.Change:
    """Still valid, raise/lower probability or impact, Mitigating or Close: once, at the button's version."""
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


def review_of(services: Services, record: RecordView, *, keys: list[str] | None) -> RiskReview:
    """The review of ``record``'s project as it stands: listing ``keys`` (the message's risks), or, when the
    message's blocks were not sent along, the part that lists ``record``."""
    now = services.now()
    with services.db.read() as session:
        if keys is not None:
            return risk_review(
                session, team_id=record.team_id, project_id=record.project_id, now=now, keys=keys
            )
        return risk_review(
            session, team_id=record.team_id, project_id=record.project_id, now=now, including=record.key
        )


def redraw_review(
    services: Services, gateway: SlackGateway, body: dict[str, Any], respond: Any, change: lifecycle.Change
) -> None:
    """Rebuild the clicked review message from current data, with the risks it listed."""
    container = body.get("container") or {}
    if container.get("type") != "message":
        return
    record = change.record
    layout = message_layout((body.get("message") or {}).get("blocks"))
    review = review_of(services, record, keys=layout[0] if layout is not None else None)
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


def press_review_button(services: Services, gateway: SlackGateway, pressed: Pressed) -> lifecycle.Change:
    """A risk-review button: the risk changed once, what follows it, and the review message rebuilt in place."""
    change = apply_button(
        services,
        team_id=pressed.team_id,
        user_id=pressed.user_id,
        action_id=pressed.action_id,
        value=pressed.value,
    )
    after_change(services, gateway, change, actor=pressed.user_id)
    redraw_review(services, gateway, pressed.body, pressed.respond, change)
    return change
