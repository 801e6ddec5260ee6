"""Every Slack id the bot uses, spelled once. ``manifest.yml`` is tested against this module."""

from __future__ import annotations

from storage.models import Kind

# Slash commands.
CMD_PROJECT = "/project"
CMD_REQ = "/req"
CMD_ISSUE = "/issue"
CMD_TASK = "/task"
CMD_RISK = "/risk"
CMD_MEETING = "/meeting"

RECORD_COMMANDS: dict[str, Kind] = {
    CMD_REQ: Kind.REQUIREMENT,
    CMD_ISSUE: Kind.ISSUE,
    CMD_TASK: Kind.TASK,
    CMD_RISK: Kind.RISK,
}
COMMAND_FOR_KIND: dict[Kind, str] = {kind: cmd for cmd, kind in RECORD_COMMANDS.items()}
ALL_COMMANDS = (CMD_PROJECT, CMD_REQ, CMD_ISSUE, CMD_TASK, CMD_RISK, CMD_MEETING)

# Message shortcuts (callback ids) and the kind of record each one logs.
SHORTCUT_LOG_REQUIREMENT = "log_as_requirement"
SHORTCUT_LOG_ISSUE = "log_as_issue"
SHORTCUT_CREATE_TASK = "create_task"
SHORTCUT_ADD_TO_MEETING = "add_to_meeting_notes"
MESSAGE_SHORTCUTS: dict[str, Kind] = {
    SHORTCUT_LOG_REQUIREMENT: Kind.REQUIREMENT,
    SHORTCUT_LOG_ISSUE: Kind.ISSUE,
    SHORTCUT_CREATE_TASK: Kind.TASK,
}
# Global shortcut.
SHORTCUT_NEW_RECORD = "new_record"

# Modals (view callback ids).
VIEW_NEW_RECORD = "record_new"
VIEW_NOTICE = "notice"

# Blocks and actions inside the record modal.
BLOCK_PROJECT = "project"
BLOCK_TITLE = "title"
BLOCK_DESCRIPTION = "description"
BLOCK_ASSIGNEE = "assignee"
BLOCK_DUE = "due"
BLOCK_PRIORITY = "priority"
BLOCK_KIND = "kind"
ACTION_PROJECT = "project_select"
ACTION_TITLE = "title_input"
ACTION_DESCRIPTION = "description_input"
ACTION_ASSIGNEE = "assignee_select"
ACTION_DUE = "due_picker"
ACTION_PRIORITY = "priority_select"
ACTION_KIND = "kind_select"

# Events the bot subscribes to.
EVENT_APP_UNINSTALLED = "app_uninstalled"
EVENT_TOKENS_REVOKED = "tokens_revoked"
BOT_EVENTS = (EVENT_APP_UNINSTALLED, EVENT_TOKENS_REVOKED)

# Bot scopes, each with the reason it is needed.
BOT_SCOPES: dict[str, str] = {
    "commands": "slash commands and shortcuts",
    "chat:write": "post cards, confirmations and thread replies",
    "chat:write.public": "post cards in public channels the bot has not joined yet",
    "channels:join": "join a public channel when a project is linked to it",
    "channels:read": "tell public from private channels when linking",
    "groups:read": "see private channels the bot was invited to",
    "im:write": "send direct messages",
    "users:read": "people's time zones and locales",
}
