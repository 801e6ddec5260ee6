"""App Home: the dashboard drawn when the Home tab opens, and its preference toggle."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from bot.blocks.home import notify_choice
from bot.commands.common import services_of, tenant_of
from bot.features.home import publish_home, set_assignment_dms
from bot.slack import ids

log = logging.getLogger("aftercare.listeners.home")


def home_opened(event: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    """``app_home_opened`` (acknowledged by Bolt): draw the dashboard when the Home tab is shown."""
    if event.get("tab") != "home" or not event.get("user"):
        return
    publish_home(services_of(context), client, tenant_of(context), str(event["user"]))


def toggle_assignment_dms(ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    """The "Turn on/off" button of the preferences: store the choice, then redraw the home."""
    ack()
    services = services_of(context)
    team_id = tenant_of(context)
    user_id = str(body["user"]["id"])
    wanted = notify_choice((body.get("actions") or [{}])[0])
    if wanted is None:
        log.warning("unreadable %s value from %s", ids.ACTION_HOME_NOTIFY_ASSIGNMENTS, user_id)
    else:
        set_assignment_dms(services, team_id=team_id, user_id=user_id, enabled=wanted)
    publish_home(services, client, team_id, user_id)


def register(app: App) -> None:
    app.event(ids.EVENT_APP_HOME_OPENED)(home_opened)
    app.action(ids.ACTION_HOME_NOTIFY_ASSIGNMENTS)(toggle_assignment_dms)
