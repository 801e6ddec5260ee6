"""Buttons on overdue nudges (Done, Snooze 1 day / 1 week, Set new date) and the "set new date" form.

After each, the nudge is redrawn in place from current data: the handled item shows
how it stands (done, snoozed until …, due …) without buttons, the others as they are.
A button drawn at an older version of its record changes nothing and shows the
current state instead.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import date
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient
from sqlalchemy.orm import Session

from bot import ids
from bot.commands.common import clicked, reporting, services_of, tenant_of
from bot.domain import nudge_actions
from bot.domain.errors import N_, UserError
from bot.domain.lifecycle import Change, change_once
from bot.domain.people import locale_of
from bot.flows import after_change
from bot.i18n import error_text, normalise_locale, t
from bot.services import Services
from bot.slack.blocks import modal_errors, notice_modal
from bot.slack.gateway import SlackGateway
from bot.slack.nudge_blocks import NUDGE_ITEMS_SHOWN, nudge_message, set_due_modal
from bot.slack.payloads import metadata_of

log = logging.getLogger(__name__)

SNOOZE_ACTIONS = {ids.ACTION_NUDGE_SNOOZE: 1, ids.ACTION_NUDGE_SNOOZE_WEEK: 7}


def _ref(raw: str | None) -> dict[str, Any]:
    """A nudge button's value: the item's key and version, the keys the message lists, how many it left out."""
    try:
        value = json.loads(raw or "{}")
    except json.JSONDecodeError:
        value = {}
    if not isinstance(value, dict) or not isinstance(value.get("key"), str):
        raise UserError(N_("This button is broken. Please use the command instead."))
    listed = value.get("list")
    if not isinstance(listed, list) or not all(isinstance(k, str) for k in listed):
        listed = [value["key"]]
    version = value.get("v")
    more = value.get("more")
    return {
        "key": value["key"],
        "v": version if isinstance(version, int) else None,
        "list": listed[:NUDGE_ITEMS_SHOWN],
        "more": more if isinstance(more, int) and more >= 0 else 0,
        "days": value.get("days"),
    }


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


def _stale_text(locale: str, key: str) -> str:
    return t(locale, "%(key)s had changed since this reminder was sent: here is how it stands now.", key=key)


def _apply(services: Services, team_id: str, user_id: str, action_id: str, ref: dict[str, Any]) -> Change:
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


def on_nudge_button(
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
    channel, ts = click.channel, click.ts
    with reporting(tell, lambda: locale):
        ref = _ref(action.get("value"))
        action_id = str(action["action_id"])
        if action_id == ids.ACTION_NUDGE_SET_DATE:
            _open_set_date(services, gateway, body, team_id, user_id, ref, channel, ts, tell)
            return
        change = _apply(services, team_id, user_id, action_id, ref)
        after_change(services, gateway, change, actor=user_id)
        if channel and ts:
            locale = redraw_nudge(
                services, gateway, team_id=team_id, user_id=user_id, channel=channel, ts=ts,
                listed=ref["list"], more=ref["more"],
            )  # fmt: skip
        if change.stale:
            tell(_stale_text(locale, change.record.key))


def _open_set_date(
    services: Services,
    gateway: SlackGateway,
    body: dict[str, Any],
    team_id: str,
    user_id: str,
    ref: dict[str, Any],
    channel: str,
    ts: str,
    tell: Callable[[str], None],
) -> None:
    with services.db.read() as session:
        form = nudge_actions.check_new_due(
            session, team_id=team_id, key=ref["key"], user_id=user_id, now=services.now(),
            expected_version=ref["v"],
        )  # fmt: skip
        locale = locale_of(session, team_id=team_id, user_id=user_id, default=form.record.locale)
    record = form.record
    if form.stale:
        if channel and ts:
            locale = redraw_nudge(
                services, gateway, team_id=team_id, user_id=user_id, channel=channel, ts=ts,
                listed=ref["list"], more=ref["more"],
            )  # fmt: skip
        tell(_stale_text(locale, record.key))
        return
    metadata = {
        "key": record.key,
        "v": record.version,
        "channel": channel,
        "ts": ts,
        "list": ref["list"],
        "more": ref["more"],
        "locale": locale,
    }
    view = set_due_modal(
        key=record.key, title=record.title, locale=locale, initial=form.initial, metadata=metadata
    )
    sent = gateway.open_view(trigger_id=str(body.get("trigger_id", "")), view=view)
    if not sent.ok:
        raise UserError(N_("I couldn't open the form (%(error)s). Please try again."), error=sent.error)


def _picked_date(view: dict[str, Any]) -> date | None:
    values = view.get("state", {}).get("values", {})
    picked = (values.get(ids.BLOCK_NEW_DUE) or {}).get(ids.ACTION_NEW_DUE) or {}
    raw = picked.get("selected_date")
    if not isinstance(raw, str):
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        return None


def on_set_due_submit(
    ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient, context: BoltContext
) -> None:
    """The "Set new date" form: save the date (clears a snooze), then redraw the nudge it came from."""
    services = services_of(context)
    team_id = tenant_of(context)
    user_id = str(body["user"]["id"])
    meta = metadata_of(view)
    key = str(meta.get("key", ""))
    version = meta.get("v") if isinstance(meta.get("v"), int) else None
    locale = normalise_locale(str(meta.get("locale") or ""), services.default_locale)
    try:
        picked = _picked_date(view)
        if picked is None:
            raise UserError(N_("Choose a date."))
        change = change_once(
            services.db, team_id=team_id, key=key,
            apply=lambda session: nudge_actions.set_new_due(
                session, team_id=team_id, key=key, due=picked, user_id=user_id, now=services.now(),
                expected_version=version,
            ),
        )  # fmt: skip
    except UserError as error:
        ack(**modal_errors({ids.BLOCK_NEW_DUE: error_text(locale, error)}))
        return
    if change.stale:
        ack(
            response_action="update",
            view=notice_modal(
                title=t(locale, "New due date"), text=_stale_text(locale, change.record.key), locale=locale
            ),
        )
    else:
        ack()
    gateway = SlackGateway(client)
    try:
        after_change(services, gateway, change, actor=user_id)
        channel, ts = meta.get("channel"), meta.get("ts")
        if isinstance(channel, str) and isinstance(ts, str) and channel and ts:
            listed = meta.get("list")
            more = meta.get("more")
            redraw_nudge(
                services, gateway, team_id=team_id, user_id=user_id, channel=channel, ts=ts,
                listed=[k for k in listed if isinstance(k, str)] if isinstance(listed, list) else [key],
                more=more if isinstance(more, int) else 0,
            )  # fmt: skip
    except Exception:
        log.exception("redrawing the nudge after %s's new date failed", key)


def register(app: App) -> None:
    for action_id in (
        ids.ACTION_NUDGE_DONE,
        ids.ACTION_NUDGE_SNOOZE,
        ids.ACTION_NUDGE_SNOOZE_WEEK,
        ids.ACTION_NUDGE_SET_DATE,
    ):
        app.action(action_id)(on_nudge_button)
    app.view(ids.VIEW_SET_DUE)(on_set_due_submit)
