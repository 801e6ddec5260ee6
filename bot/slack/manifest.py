"""The Slack app manifest, built from :mod:`bot.slack.ids` so it never drifts from the code."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import yaml

from bot.slack import ids

COMMAND_DESCRIPTIONS = {
    ids.CMD_PROJECT: (
        "After-sales projects",
        "new <KEY> <name> | link <KEY> | unlink | list | status | digest | settings | survey | docs | close | reopen | help",
    ),
    ids.CMD_REQ: (
        "Log and track customer requirements",
        "new <title> [@owner] [due:<date>] [!priority] | list | show <KEY> | accept|start|deliver|reject <KEY> | help",
    ),
    ids.CMD_ISSUE: (
        "Log and track issues",
        "new <title> [@assignee] [due:<date>] [!priority] | list | show <KEY> | start|resolve|close|reopen <KEY> | help",
    ),
    ids.CMD_TASK: (
        "Plan tasks with owners and dates",
        "new <title> [@assignee] [due:<date>] [est:4h] | list [mine|overdue] | start|done <KEY> | help",
    ),
    ids.CMD_RISK: (
        "Keep the risk register",
        "new <title> [@owner] [p:1-5] [i:1-5] | list | mitigate <KEY> [plan] | close <KEY> | help",
    ),
    ids.CMD_MEETING: ("Meeting notes with decisions and action items", "new [title] | list | help"),
}
SHORTCUT_TEXT = {
    ids.SHORTCUT_LOG_REQUIREMENT: ("Log as requirement", "Turn this message into a requirement"),
    ids.SHORTCUT_LOG_ISSUE: ("Log as issue", "Turn this message into an issue"),
    ids.SHORTCUT_CREATE_TASK: ("Create task", "Turn this message into a task"),
    ids.SHORTCUT_ADD_TO_MEETING: ("Add to meeting notes", "Start meeting notes from this message"),
}


def build_manifest(*, url: str | None = None) -> dict[str, Any]:
    """Socket Mode when ``url`` is None, else HTTP mode with every request going to ``<url>/slack/events``."""
    events_url = f"{url.rstrip('/')}/slack/events" if url else None
    commands = []
    for command in ids.ALL_COMMANDS:
        description, usage = COMMAND_DESCRIPTIONS[command]
        entry: dict[str, Any] = {
            "command": command,
            "description": description,
            "usage_hint": usage,
            "should_escape": True,
        }
        if events_url:
            entry["url"] = events_url
        commands.append(entry)
    shortcuts = [
        {"name": name, "type": "message", "callback_id": callback_id, "description": description}
        for callback_id, (name, description) in SHORTCUT_TEXT.items()
    ]
    shortcuts.append(
        {
            "name": "New Aftercare record",
            "type": "global",
            "callback_id": ids.SHORTCUT_NEW_RECORD,
            "description": "Log a requirement, issue, task or risk in any project",
        }
    )
    events: dict[str, Any] = {"bot_events": list(ids.BOT_EVENTS)}
    interactivity: dict[str, Any] = {"is_enabled": True}
    oauth: dict[str, Any] = {"scopes": {"bot": list(ids.BOT_SCOPES)}}
    if events_url:
        events["request_url"] = events_url
        interactivity["request_url"] = events_url
        # External selects (the project picker of a workspace with over 100 projects) load their options here.
        interactivity["message_menu_options_url"] = events_url
        oauth["redirect_urls"] = [f"{url.rstrip('/')}/slack/oauth_redirect"]  # type: ignore[union-attr]
    return {
        "_metadata": {"major_version": 1, "minor_version": 1},
        "display_information": {
            "name": "Aftercare",
            "description": "After-sales project management: requirements, issues, tasks, risks and meetings.",
            "long_description": (
                "Aftercare keeps a delivered product's after-sales work where the team talks. "
                "Log requirements, issues, tasks and risks with slash commands or straight from a message, "
                "every record gets a key like ACME-12, and nothing a customer asked for gets lost. "
                "Weekly digests, overdue nudges, risk reviews and satisfaction surveys keep the project moving."
            ),
            "background_color": "#2c4a6e",
        },
        "features": {
            "app_home": {
                "home_tab_enabled": True,
                "messages_tab_enabled": True,
                "messages_tab_read_only_enabled": False,
            },
            "bot_user": {"display_name": "Aftercare", "always_online": True},
            "slash_commands": commands,
            "shortcuts": shortcuts,
        },
        "oauth_config": oauth,
        "settings": {
            "event_subscriptions": events,
            "interactivity": interactivity,
            "org_deploy_enabled": ids.ORG_DEPLOY_ENABLED,
            "socket_mode_enabled": url is None,
            "token_rotation_enabled": False,
        },
    }


def missing_settings(manifest: Mapping[str, Any]) -> list[str]:
    """What the code needs that an app manifest lacks, one line each (empty: nothing)."""
    needed = build_manifest()
    features = manifest.get("features") or {}
    settings = manifest.get("settings") or {}
    problems: list[str] = []
    bot_scopes = set(((manifest.get("oauth_config") or {}).get("scopes") or {}).get("bot") or [])
    problems += [f"bot scope {s} ({why})" for s, why in ids.BOT_SCOPES.items() if s not in bot_scopes]
    events = set((settings.get("event_subscriptions") or {}).get("bot_events") or [])
    problems += [f"bot event {e}" for e in ids.BOT_EVENTS if e not in events]
    if not (settings.get("interactivity") or {}).get("is_enabled"):
        problems.append("interactivity (buttons, modals and shortcuts)")
    if bool(settings.get("org_deploy_enabled")) != ids.ORG_DEPLOY_ENABLED:
        problems.append(
            f"org_deploy_enabled: {str(ids.ORG_DEPLOY_ENABLED).lower()} (Enterprise Grid org-wide installs)"
        )
    commands = {c.get("command"): c for c in features.get("slash_commands") or []}
    for command in ids.ALL_COMMANDS:
        if command not in commands:
            problems.append(f"slash command {command}")
        elif not commands[command].get("should_escape"):
            problems.append(f"slash command {command} with should_escape: true")
    callbacks = {s.get("callback_id") for s in features.get("shortcuts") or []}
    for shortcut in needed["features"]["shortcuts"]:
        if shortcut["callback_id"] not in callbacks:
            problems.append(f"{shortcut['type']} shortcut {shortcut['callback_id']} ({shortcut['name']})")
    if not (features.get("app_home") or {}).get("home_tab_enabled"):
        problems.append("App Home tab (home_tab_enabled)")
    if not (features.get("app_home") or {}).get("messages_tab_enabled"):
        problems.append("App Home messages tab (direct messages from the bot)")
    return problems


def render_manifest(*, url: str | None = None) -> str:
    header = "# Generated by `aftercare manifest`" + (f" --url {url}" if url else " --socket") + "\n"
    return header + yaml.safe_dump(build_manifest(url=url), sort_keys=False, allow_unicode=True, width=100)
