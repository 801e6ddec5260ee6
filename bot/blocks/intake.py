"""Block Kit and texts of customer intake: the triage card, thread updates, private notes. Pure builders.

User text (the customer's message, titles) is decoded from Slack's wire format and escaped again, so a message
containing ``<!channel>`` pings no one where the bot repeats it.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from bot.blocks.basics import Block, _button, context, section
from bot.domain.errors import N_
from bot.i18n import format_date, t
from bot.i18n.labels import status_name
from bot.slack import ids
from bot.slack.text import decode_slack_text, escape, mention, shorten

QUOTE_LIMIT = 600

IGNORED = N_("Ignored by %(who)s.")
LOGGED_BY = N_("Logged as %(key)s by %(who)s.")
LOGGED = N_("Logged as %(key)s.")


def quote(text: str, limit: int = QUOTE_LIMIT) -> str:
    """A customer's text as a Slack quote: decoded, shortened, escaped (no mention or link of theirs works)."""
    plain = shorten(decode_slack_text(text or "").strip(), limit)
    return "\n".join(f"> {escape(line)}" for line in plain.splitlines()) or ">"


def triage_value(channel: str, ts: str) -> dict[str, Any]:
    return {"c": channel, "ts": ts}


def triage_card(
    *, locale: str, project_key: str, author: str | None, channel: str, ts: str, text: str,
    file_name: str | None, permalink: str | None, state: str | None = None, key: str | None = None,
    decided_by: str | None = None,
) -> tuple[str, list[Block]]:  # fmt: skip
    """The card suggesting a customer's message for intake; once someone acted, the outcome and no buttons."""
    who = mention(author) if author else t(locale, "Someone")
    intro = t(
        locale, "%(project)s: a customer message from %(who)s in <#%(channel)s> may need tracking.",
        project=project_key, who=who, channel=channel,
    )  # fmt: skip
    body = quote(text) if text.strip() else ""
    if file_name:
        body = (body + "\n" if body else "") + f"📎 {escape(file_name)}"
    blocks: list[Block] = [section(intro)]
    if body:
        blocks.append(section(body))
    if permalink:
        label = t(locale, "Open the message")  # outside the f-string, where extraction sees it
        blocks.append(context(f"<{permalink}|{label}>"))
    if state == "logged" and key:
        outcome = (
            t(locale, LOGGED_BY, key=key, who=mention(decided_by))
            if decided_by
            else t(locale, LOGGED, key=key)
        )
        blocks.append(context(outcome))
    elif state == "ignored":
        blocks.append(context(t(locale, IGNORED, who=mention(decided_by or ""))))
    else:
        value = triage_value(channel, ts)
        blocks.append(
            {
                "type": "actions",
                "block_id": ids.BLOCK_TRIAGE_ACTIONS,
                "elements": [
                    _button(t(locale, "Log as issue"), ids.ACTION_TRIAGE_ISSUE, value, style="primary"),
                    _button(t(locale, "Log as requirement"), ids.ACTION_TRIAGE_REQUIREMENT, value),
                    _button(t(locale, "Ignore"), ids.ACTION_TRIAGE_IGNORE, value),
                ],
            }
        )
    return intro, blocks


def thread_update(
    *, locale: str, key: str, status: str, shared: bool, new_status: str | None = None,
    assignee: str | None = None, due: date | None = None, due_changed: bool = False,
) -> str | None:  # fmt: skip
    """The one line a record's source thread gets about a change (None: nothing to say).

    In a channel shared with the customer: the key and the status only.
    """
    status_text = status_name(status, locale)
    if shared:
        if not (new_status or assignee or due_changed):
            return None
        return t(locale, "Update on %(key)s: %(status)s.", key=key, status=status_text)
    parts: list[str] = []
    if new_status:
        parts.append(t(locale, "%(key)s is now %(status)s.", key=key, status=status_name(new_status, locale)))
    if assignee:
        parts.append(t(locale, "%(key)s is assigned to %(who)s.", key=key, who=mention(assignee)))
    if due_changed:
        if due is None:
            parts.append(t(locale, "%(key)s no longer has a due date.", key=key))
        else:
            parts.append(t(locale, "%(key)s is due %(date)s.", key=key, date=format_date(due, locale)))
    return " ".join(parts) or None


# Private notes to the person who reacted with the intake emoji.
NOTE_NOT_LINKED = N_("This channel isn't linked to a project, so I can't log this message.")
NOTE_OWN_MESSAGE = N_("I don't log my own messages.")
NOTE_CLOSED = N_("Project %(key)s is closed; reopen it to log new records.")
NOTE_ALREADY = N_("This message is already logged as %(key)s.")
NOTE_UNREADABLE = N_("I couldn't read that message (%(error)s), so nothing was logged.")
UNTITLED = N_("Message without text")
