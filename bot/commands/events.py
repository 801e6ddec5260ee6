"""Workspace events: keep the user directory fresh; note when the app loses its access."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import App, BoltContext

from bot.commands.common import services_of, tenant_of
from bot.features.channels import channel_became_shared
from bot.slack import ids
from bot.slack.directory import store_members
from bot.slack.installations import stop_sending

log = logging.getLogger("aftercare.listeners.events")


def user_changed(event: dict[str, Any], context: BoltContext) -> None:
    """``user_change``: store the person's new name, time zone, locale and flags."""
    member = event.get("user")
    if not isinstance(member, dict) or not member.get("id"):
        return
    store_members(services_of(context), tenant_of(context), [member])


def access_lost(event: dict[str, Any], context: BoltContext) -> None:
    """``app_uninstalled`` / ``tokens_revoked``: stop all sending for the workspace (pending messages fail).

    In OAuth mode the workspace's installation is deleted too, as Bolt's own revocation listeners would.
    """
    if event.get("type") == ids.EVENT_TOKENS_REVOKED and not (event.get("tokens") or {}).get("bot"):
        return  # only user tokens went: the bot still works
    services = services_of(context)
    team_id = tenant_of(context)
    log.warning("Slack says %s for workspace %s: sending to it stops", event.get("type"), team_id)
    stop_sending(
        services, team_id=team_id, enterprise_id=context.enterprise_id, installation_team_id=context.team_id
    )


def channel_shared(event: dict[str, Any], context: BoltContext) -> None:
    """``channel_shared``: the owners of each project using the channel are told once, through the ledger,
    that the internal posts made there before are now visible to the other organisation."""
    channel = event.get("channel")
    if not isinstance(channel, str) or not channel:
        return
    channel_became_shared(services_of(context), team_id=tenant_of(context), channel=channel)


def register(app: App) -> None:
    app.event(ids.EVENT_USER_CHANGE)(user_changed)
    app.event(ids.EVENT_APP_UNINSTALLED)(access_lost)
    app.event(ids.EVENT_TOKENS_REVOKED)(access_lost)
    app.event(ids.EVENT_CHANNEL_SHARED)(channel_shared)
