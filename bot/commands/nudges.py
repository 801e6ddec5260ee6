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

from bot.blocks.basics import modal_errors, notice_modal
from bot.blocks.nudge import NUDGE_ITEMS_SHOWN, set_due_modal
from bot.commands.common import Click, on_click, services_of, tenant_of
from bot.domain.errors import N_, UserError
from bot.features import nudge_steps as steps
from bot.features.record_cards import after_change
from bot.i18n import error_text, normalise_locale, t
from bot.slack import ids
from bot.slack.gateway import SlackGateway
from bot.slack.payloads import metadata_of
from bot.slack.services import Services

log = logging.getLogger(__name__)


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


def _stale_text(locale: str, key: str) -> str:
    return t(locale, "%(key)s had changed since this reminder was sent: here is how it stands now.", key=key)


@on_click
def on_nudge_button(click: Click, body: dict[str, Any], action: dict[str, Any]) -> None:
    services, gateway, team_id, user_id = click.services, click.gateway, click.team_id, click.user_id
    ref = _ref(action.get("value"))
    action_id = str(action["action_id"])
    if action_id == ids.ACTION_NUDGE_SET_DATE:
        _open_set_date(services, gateway, body, team_id, user_id, ref, click.channel, click.ts, click.tell)
        return
    change, locale = steps.press_nudge_button(
        services, gateway, team_id=team_id, user_id=user_id, action_id=action_id, ref=ref, channel=click.channel,
        ts=click.ts,
    )  # fmt: skip
    click.locale = locale or click.locale
    if change.stale:
        click.tell(_stale_text(click.locale, change.record.key))


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
    form, locale = steps.new_due_form(
        services, team_id=team_id, user_id=user_id, key=ref["key"], version=ref["v"]
    )
    record = form.record
    if form.stale:
        if channel and ts:
            locale = steps.redraw_nudge(
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
    gateway.open_form(trigger_id=str(body.get("trigger_id", "")), view=view)


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
        change = steps.set_new_due(
            services, team_id=team_id, user_id=user_id, key=key, due=picked, version=version
        )
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
            steps.redraw_nudge(
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
