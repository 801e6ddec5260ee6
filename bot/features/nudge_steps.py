"""Overdue nudges' buttons and their "set new date" form as their listeners (``bot/commands/nudges.py``) call
them: each move in one transaction, and the nudge redrawn in place from current data afterwards."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from bot.blocks.nudge import nudge_message
from bot.domain import nudge_actions
from bot.domain.lifecycle import Change, change_once
from bot.domain.people import locale_of
from bot.features.record_cards import after_change
from bot.slack import ids
from bot.slack.gateway import SlackGateway
from bot.slack.services import Services

SNOOZE_ACTIONS = {ids.ACTION_NUDGE_SNOOZE: 1, ids.ACTION_NUDGE_SNOOZE_WEEK: 7}


def redraw_nudge(
    services: Services,
    gateway: SlackGateway,
    *,
    team_id: str,
    user_id: str,
    channel: str,
    ts: str,
    listed: list[str],
    more: int,
) -> str:
    """Redraw the nudge at ``channel``/``ts`` from current data; returns the locale it was drawn in."""
    with services.db.read() as session:
        items = nudge_actions.listed_items(
            session, team_id=team_id, keys=listed, user_id=user_id, now=services.now()
        )
        fallback = next((i.project_locale for i in items if i.project_locale), services.default_locale)
        locale = locale_of(session, team_id=team_id, user_id=user_id, default=fallback)
    text, blocks = nudge_message(items, locale=locale, more=more)
    gateway.update(channel=channel, ts=ts, text=text, blocks=blocks)
    return locale


def apply_button(
    services: Services, *, team_id: str, user_id: str, action_id: str, ref: dict[str, Any]
) -> Change:
    """Done or Snooze (1 day, 1 week, or the days the button carries), once, at the version the button was drawn at."""
    now = services.now()

    def apply(session: Session) -> Change:
        if action_id == ids.ACTION_NUDGE_DONE:
            return nudge_actions.mark_done(
                session, team_id=team_id, key=ref["key"], user_id=user_id, now=now, expected_version=ref["v"]
            )
        days = ref["days"] if isinstance(ref["days"], int) else SNOOZE_ACTIONS[action_id]
        return nudge_actions.snooze(
            session, team_id=team_id, key=ref["key"], days=days, user_id=user_id, now=now,
            expected_version=ref["v"],
        )  # fmt: skip

    return change_once(services.db, team_id=team_id, key=ref["key"], apply=apply)


def new_due_form(
    services: Services, *, team_id: str, user_id: str, key: str, version: int | None
) -> tuple[nudge_actions.DueForm, str]:
    """What the "set new date" form starts from, and the person's language (else the record's)."""
    with services.db.read() as session:
        form = nudge_actions.check_new_due(
            session, team_id=team_id, key=key, user_id=user_id, now=services.now(), expected_version=version
        )
        return form, locale_of(session, team_id=team_id, user_id=user_id, default=form.record.locale)


def set_new_due(
    services: Services, *, team_id: str, user_id: str, key: str, due: date, version: int | None
) -> Change:
    """The picked date, once (clears a snooze); a record changed since the form opened comes back stale."""
    return change_once(
        services.db, team_id=team_id, key=key,
        apply=lambda session: nudge_actions.set_new_due(
            session, team_id=team_id, key=key, due=due, user_id=user_id, now=services.now(),
            expected_version=version,
        ),
    )  # fmt: skip


def press_nudge_button(
    services: Services,
    gateway: SlackGateway,
    *,
    team_id: str,
    user_id: str,
    action_id: str,
    ref: dict[str, Any],
    channel: str | None,
    ts: str | None,
) -> tuple[Change, str | None]:
    """A nudge's button: the record changed once, what follows it, and the reminder redrawn in place from
    current data; returns the change and the language the reminder speaks (when it was redrawn)."""
    change = apply_button(services, team_id=team_id, user_id=user_id, action_id=action_id, ref=ref)
    after_change(services, gateway, change, actor=user_id)
    locale = None
    if channel and ts:
        locale = redraw_nudge(
            services, gateway, team_id=team_id, user_id=user_id, channel=channel, ts=ts,
            listed=ref["list"], more=ref["more"],
        )  # fmt: skip
    return change, locale
