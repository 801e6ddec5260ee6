"""``/meeting``: declared in the manifest; meeting notes arrive in a later version."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, BoltContext

from bot import ids
from bot.commands.common import ephemeral_reply, reporting, services_of
from bot.domain.errors import N_, UserError


def meeting_command(ack: Ack, respond: Any, context: BoltContext) -> None:
    ack()
    services = services_of(context)
    with reporting(ephemeral_reply(respond), lambda: services.default_locale):
        raise UserError(N_("/meeting is not available in this version yet."))


def register(app: App) -> None:
    app.command(ids.CMD_MEETING)(meeting_command)
