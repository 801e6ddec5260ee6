"""Workspace events: keep the user directory fresh; note when the app loses its access."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import App, BoltContext

from bot import ids
from bot.commands.common import services_of, tenant_of
from bot.directory import store_members

log = logging.getLogger("aftercare.listeners.events")


def user_changed(event: dict[str, Any], context: BoltContext) -> None:
    """``user_change``: store the person's new name, time zone, locale and flags."""
    member = event.get("user")
    if not isinstance(member, dict) or not member.get("id"):
        return
    try:
        store_members(services_of(context), tenant_of(context), [member])
    except Exception:
        log.exception("user_change for %s could not be stored", member.get("id"))


def access_lost(event: dict[str, Any], context: BoltContext) -> None:
    """``app_uninstalled`` / ``tokens_revoked`` with a fixed bot token: nothing to delete, say it loudly."""
    log.warning(
        "Slack says %s for workspace %s: the bot token no longer works there; "
        "reinstall the app and update SLACK_BOT_TOKEN.",
        event.get("type"),
        context.team_id or context.enterprise_id,
    )


def register(app: App) -> None:
    app.event(ids.EVENT_USER_CHANGE)(user_changed)
    # In OAuth mode Bolt's own revocation listeners (enable_token_revocation_listeners) delete the
    # installation; Bolt runs only the first matching listener, so ours would never be reached there.
    if app.oauth_flow is None:
        app.event(ids.EVENT_APP_UNINSTALLED)(access_lost)
        app.event(ids.EVENT_TOKENS_REVOKED)(access_lost)
