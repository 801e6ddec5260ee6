"""Every Slack id the bot uses, spelled once. ``manifest.yml`` is tested against this module."""

from __future__ import annotations

import re

from bot.domain.customer_settings import CUSTOMER_COLUMNS
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
VIEW_EDIT_RECORD = "record_edit"
VIEW_SET_DUE = "record_set_due"
VIEW_MEETING = "meeting_new"
VIEW_PROJECT_SETTINGS = "project_settings"
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
# Risk and task fields of the record forms.
BLOCK_PROBABILITY = "probability"
BLOCK_IMPACT = "impact"
BLOCK_MITIGATION = "mitigation"
BLOCK_ESTIMATE = "estimate"
ACTION_PROBABILITY = "probability_select"
ACTION_IMPACT = "impact_select"
ACTION_MITIGATION = "mitigation_input"
ACTION_ESTIMATE = "estimate_input"

# Meeting form. Action-item rows are numbered: f"{BLOCK_ITEM_TEXT}_{n}" for n in range(MEETING_ITEM_ROWS).
BLOCK_MEETING_TITLE = "meeting_title"
BLOCK_MEETING_DATE = "meeting_date"
BLOCK_ATTENDEES = "attendees"
BLOCK_NOTES = "notes"
BLOCK_DECISIONS = "decisions"
BLOCK_ITEM_TEXT = "item_text"
BLOCK_ITEM_OWNER = "item_owner"
BLOCK_ITEM_DUE = "item_due"
ACTION_MEETING_TITLE = "meeting_title_input"
ACTION_MEETING_DATE = "meeting_date_picker"
ACTION_ATTENDEES = "attendees_select"
ACTION_NOTES = "notes_input"
ACTION_DECISIONS = "decisions_input"
ACTION_ITEM_TEXT = "item_text_input"
ACTION_ITEM_OWNER = "item_owner_select"
ACTION_ITEM_DUE = "item_due_picker"
MEETING_ITEM_ROWS = 5

# Project settings form: one block per setting, action id = block id + "_input".
SETTINGS_FIELDS = (
    "owners",
    "customer_contacts",
    "report_channel",
    "timezone",
    "locale",
    "digest_weekday",
    "digest_time",
    "nudges_enabled",
    "escalate_after_days",
    "review_weekday",
    "review_time",
    "review_every_weeks",
    "survey_pulse_days",
    "survey_open_days",
    "survey_include_team",
    *CUSTOMER_COLUMNS,  # customers and service levels
)

# Buttons on record cards (and on App Home). Values are JSON: {"key": "ACME-1", "v": <version>, ...}.
ACTION_CARD_ASSIGN_ME = "card_assign_me"
ACTION_CARD_MOVE = "card_move"  # one per verb: "card_move:start", "card_move:done", … (unique within a block)
ACTION_CARD_CLOSE = "card_close"
ACTION_CARD_EDIT = "card_edit"
ACTION_UNDO_DELETE = "undo_delete"
ACTION_OPEN_LINK = "open_link"  # link buttons; acknowledged and ignored
CARD_ACTIONS = (ACTION_CARD_ASSIGN_ME, ACTION_CARD_MOVE, ACTION_CARD_CLOSE, ACTION_CARD_EDIT)
CARD_MOVE_ACTION = re.compile(rf"^{ACTION_CARD_MOVE}:[a-z_]+$")


def card_move_action(verb: str) -> str:
    return f"{ACTION_CARD_MOVE}:{verb}"


# App Home preferences.
ACTION_HOME_NOTIFY_ASSIGNMENTS = "home_notify_assignments"

# Events the bot subscribes to.
EVENT_APP_HOME_OPENED = "app_home_opened"
EVENT_USER_CHANGE = "user_change"
EVENT_APP_UNINSTALLED = "app_uninstalled"
EVENT_TOKENS_REVOKED = "tokens_revoked"
# A person writing in the app's Messages tab (a DM to the bot); it arrives as a ``message`` event
# with ``channel_type: im`` and gets a short help reply.
EVENT_MESSAGE_IM = "message.im"
# Customer intake: messages of linked channels and the intake emoji.
# ``message.channels`` / ``message.groups`` need ``channels:history`` / ``groups:history``;
# ``reaction_added`` needs ``reactions:read``.
EVENT_MESSAGE = "message"
EVENT_MESSAGE_CHANNELS = "message.channels"
EVENT_MESSAGE_GROUPS = "message.groups"
EVENT_REACTION_ADDED = "reaction_added"
# A channel became shared with another organisation (Slack Connect): owners are told (bot.delivery.customer);
# it needs ``channels:read``.
EVENT_CHANNEL_SHARED = "channel_shared"
BOT_EVENTS = (
    EVENT_APP_HOME_OPENED,
    EVENT_USER_CHANGE,
    EVENT_APP_UNINSTALLED,
    EVENT_TOKENS_REVOKED,
    EVENT_MESSAGE_IM,
    EVENT_MESSAGE_CHANNELS,
    EVENT_MESSAGE_GROUPS,
    EVENT_REACTION_ADDED,
    EVENT_CHANNEL_SHARED,
)

# App settings the code needs (the manifest carries them; `aftercare check` compares a manifest with them).
# Enterprise Grid: installable org-wide; jobs find such an install by enterprise id, tenancy stays per workspace.
ORG_DEPLOY_ENABLED = True

# Bot scopes, each with the reason it is needed.
BOT_SCOPES: dict[str, str] = {
    "commands": "slash commands and shortcuts",
    "chat:write": "post cards, confirmations and thread replies",
    "chat:write.public": "post cards in public channels the bot has not joined yet",
    "channels:join": "join a public channel when a project is linked to it",
    "channels:read": "tell public from private channels, and who is in them (is a channel shared?)",
    "groups:read": "see private channels the bot was invited to, and who is in them",
    "im:write": "send direct messages",
    "users:read": "people's time zones and locales, and who is a guest",
    "files:write": "upload the retrospective report of a closed project",
    "files:read": "link reports with the permalink Slack gives, and find an upload whose answer was lost",
    "channels:history": "find a message whose delivery was in doubt before sending it again",
    "groups:history": "the same in private report channels",
    "im:history": "the same for direct messages",
    "reactions:read": "read a message someone marked with the intake emoji (reactions.get)",
}

# Buttons on nudges (overdue DMs). Values are JSON: {"key": "ACME-1", ...}.
ACTION_NUDGE_DONE = "nudge_done"
ACTION_NUDGE_SNOOZE = "nudge_snooze"  # value also carries "days": 1 or 7
ACTION_NUDGE_SET_DATE = "nudge_set_date"  # opens VIEW_SET_DUE
BLOCK_NEW_DUE = "new_due"
ACTION_NEW_DUE = "new_due_picker"
# Buttons on risk reviews.
ACTION_REVIEW_STILL_VALID = "review_still_valid"
ACTION_REVIEW_ADJUST = "review_adjust"  # overflow: raise/lower probability/impact
ACTION_REVIEW_MITIGATING = "review_mitigating"
ACTION_REVIEW_CLOSE = "review_close"
# Message metadata that carries a delivery's ledger key (to find in-doubt sends in history).
DELIVERY_EVENT_TYPE = "aftercare_delivery"
# Slack rejects a block with two elements of one action_id (invalid_blocks), so "Snooze 1 week"
# has its own id next to ACTION_NUDGE_SNOOZE ("Snooze 1 day"); both values carry "days".
ACTION_NUDGE_SNOOZE_WEEK = "nudge_snooze_week"
# Block ids of a risk-review message (suffixed with ":<record key>", the header with ":<part>:<total>").
BLOCK_REVIEW_HEAD = "review_head"
BLOCK_REVIEW_RISK = "review_risk"
BLOCK_REVIEW_ACTIONS = "review_actions"
REVIEW_ACTIONS = (
    ACTION_REVIEW_STILL_VALID,
    ACTION_REVIEW_ADJUST,
    ACTION_REVIEW_MITIGATING,
    ACTION_REVIEW_CLOSE,
)
# Closing a project (`/project close`): the confirmation modal with the closing summary and lessons learned.
VIEW_CLOSE_PROJECT = "project_close"
BLOCK_CLOSE_SUMMARY = "closing_summary"
BLOCK_CLOSE_LESSONS = "lessons_learned"
ACTION_CLOSE_SUMMARY = "closing_summary_input"
ACTION_CLOSE_LESSONS = "lessons_learned_input"
# Satisfaction surveys (a DM per recipient). Score buttons are "survey_score:<n>" (n = 1..5, one
# action id per button: Slack refuses two of one id in a block); values are JSON {"s": <survey id>, ...}.
ACTION_SURVEY_SCORE = "survey_score"
SURVEY_SCORE_ACTION = re.compile(rf"^{ACTION_SURVEY_SCORE}:[1-5]$")
ACTION_SURVEY_DETAILS = "survey_details"  # opens VIEW_SURVEY
VIEW_SURVEY = "survey_answer"
BLOCK_SURVEY_SCORE = "survey_score_field"
BLOCK_SURVEY_RECOMMEND = "survey_recommend_field"
BLOCK_SURVEY_COMMENT = "survey_comment_field"
BLOCK_SURVEY_SIGN = "survey_sign_field"
ACTION_SURVEY_SCORE_SELECT = "survey_score_select"
ACTION_SURVEY_RECOMMEND = "survey_recommend_select"
ACTION_SURVEY_COMMENT = "survey_comment_input"
ACTION_SURVEY_SIGN = "survey_sign_check"
SURVEY_SIGN_VALUE = "signed"


def survey_score_action(score: int) -> str:
    return f"{ACTION_SURVEY_SCORE}:{score}"


# Buttons of the triage card (a customer's message suggested for intake). Values are JSON
# {"c": <channel>, "ts": <message ts>}.
ACTION_TRIAGE_ISSUE = "triage_log_issue"
ACTION_TRIAGE_REQUIREMENT = "triage_log_requirement"
ACTION_TRIAGE_IGNORE = "triage_ignore"
TRIAGE_ACTIONS = (ACTION_TRIAGE_ISSUE, ACTION_TRIAGE_REQUIREMENT, ACTION_TRIAGE_IGNORE)
BLOCK_TRIAGE_ACTIONS = "triage_actions"
