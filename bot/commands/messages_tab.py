"""The app's Messages tab: the bot's DMs live there, so a person may write back. They get a short help reply.

Slack sends such a message as a ``message`` event with ``channel_type: im`` (bot event ``message.im``):
https://docs.slack.dev/reference/events/message.im
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import App, BoltContext
from slack_sdk import WebClient

from bot.commands.common import services_of, tenant_of
from bot.domain.errors import N_
from bot.domain.people import person_locale
from bot.i18n import t
from bot.slack.gateway import SlackGateway

log = logging.getLogger("aftercare.listeners.messages_tab")

HELP = N_(
    "I don't read messages here. Log and track work with /project, /req, /issue, /task, /risk and "
    "/meeting in a project's channel (add help to any of them for usage), and open my Home tab for your dashboard."
)


def _from_a_person(event: dict[str, Any]) -> bool:
    """A new message typed by someone: not the bot's own, not an edit, a join or any other subtype."""
    return bool(event.get("user")) and not event.get("bot_id") and not event.get("subtype")


def direct_message(event: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    if not _from_a_person(event):
        return
    services = services_of(context)
    try:
        locale = person_locale(
            services.db,
            team_id=tenant_of(context),
            user_id=str(event["user"]),
            default=services.default_locale,
        )
        SlackGateway(client).post(
            channel=str(event["channel"]), text=t(locale, HELP), thread_ts=event.get("thread_ts")
        )
    except Exception:
        log.exception("could not answer a direct message")


def _in_a_dm(event: dict[str, Any]) -> bool:
    # Bolt's event constraints compare only ``type`` and ``subtype``: the channel type needs a matcher, or
    # every channel message (``message.channels``) would be taken for a DM.
    return event.get("channel_type") == "im"


def register(app: App) -> None:
    app.event("message", matchers=[_in_a_dm])(direct_message)
