"""Block Kit for overdue nudges (a DM per person), their "set new date" form and escalations to owners.

Pure: plain data in, Slack JSON out. A nudge's buttons carry the keys the message
lists (``list``) and how many it left out (``more``), so a click can redraw the
whole message from current data without reading it back from Slack.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date
from typing import Any

from bot.blocks.basics import MAX_SECTION_TEXT, Block, _button, context, plain, section
from bot.blocks.rendering import render
from bot.domain.errors import N_
from bot.domain.nudge_actions import ItemState, ListedItem
from bot.domain.nudges import OverdueItem, ProjectFacts
from bot.i18n import format_date, t
from bot.i18n.labels import status_name
from bot.slack import ids
from bot.slack.text import escape

MAX_BLOCKS = 50
# An item takes two blocks (its text, its buttons): 1 intro + 2 × 20 + 1 "and N more" ≤ 50.
NUDGE_ITEMS_SHOWN = 20
# Items named in one escalation; the rest follow in the next one.
ESCALATION_ITEMS_SHOWN = 60
MAX_FALLBACK_TEXT = 3000

SNOOZE_LABELS = {1: N_("Snooze 1 day"), 7: N_("Snooze 1 week")}


def _date(value: date | None, locale: str) -> str:
    return format_date(value, locale) if value else ""


def _gone_text(item: ListedItem, locale: str) -> str:
    """How a listed item that is no longer overdue stands now (after a click, or a change since)."""
    state = item.state
    if state == ItemState.DONE:
        return f":white_check_mark: {escape(status_name(item.status, locale))}"
    if state == ItemState.SNOOZED:
        return ":zzz: " + t(locale, "snoozed until %(date)s", date=_date(item.snoozed_until, locale))
    if state == ItemState.RESCHEDULED:
        return ":calendar: " + t(locale, "due %(date)s", date=_date(item.due_date, locale))
    if state == ItemState.NO_DUE:
        return t(locale, "no due date")
    if state == ItemState.REASSIGNED:
        if item.assignee_id:
            mention = f"<@{item.assignee_id}>"
            return t(locale, "now assigned to %(who)s", who=mention)
        return t(locale, "now unassigned")
    if state == ItemState.DELETED:
        return t(locale, "deleted")
    return t(locale, "project closed")


def _item_text(item: ListedItem, locale: str) -> str:
    """One item of a nudge as Slack text (user text escaped). Built in Python, not a template: a day's
    nudges list tens of thousands of items."""
    key, title = escape(item.key), escape(item.title or "")
    if item.state == ItemState.OVERDUE:
        days = item.days_overdue
        late = t(locale, "1 day overdue") if days == 1 else t(locale, "%(days)s days overdue", days=days)
        due = t(locale, "due %(date)s", date=_date(item.due_date, locale))
        return f"*{key}* {title}\n{escape(item.project_name or '')} · {due} · {late}"
    if item.state == ItemState.MISSING:
        gone = t(locale, "no longer exists")
        return f"~*{key}*~ — {gone}"
    return f"~*{key}* {title}~ — {_gone_text(item, locale)}".rstrip()


def _item_buttons(item: ListedItem, locale: str, listed: list[str], more: int) -> Block:
    ref: dict[str, Any] = {"key": item.key, "v": item.version, "list": listed, "more": more}
    return {
        "type": "actions",
        # A new block id for each version of the item, as Slack asks of updated messages.
        "block_id": f"nudge:{item.key}:{item.version}",
        "elements": [
            _button(t(locale, "Done"), ids.ACTION_NUDGE_DONE, ref, "primary"),
            _button(t(locale, SNOOZE_LABELS[1]), ids.ACTION_NUDGE_SNOOZE, {**ref, "days": 1}),
            _button(t(locale, SNOOZE_LABELS[7]), ids.ACTION_NUDGE_SNOOZE_WEEK, {**ref, "days": 7}),
            _button(t(locale, "Set new date"), ids.ACTION_NUDGE_SET_DATE, ref),
        ],
    }


def nudge_message(items: Sequence[ListedItem], *, locale: str, more: int = 0) -> tuple[str, list[Block]]:
    """A person's nudge: the items (at most :data:`NUDGE_ITEMS_SHOWN`), each overdue one with its buttons.

    ``more`` counts overdue items the message leaves out. Used both to send the nudge and to
    redraw it after a click (handled items then show how they stand, without buttons).
    """
    shown = list(items[:NUDGE_ITEMS_SHOWN])
    more += len(items) - len(shown)
    listed = [item.key for item in shown]
    still_overdue = [item for item in shown if item.state == ItemState.OVERDUE]
    intro = render("nudge_intro.j2", locale, count=len(still_overdue) + more)
    blocks: list[Block] = [section(intro)]
    for item in shown:
        blocks.append(section(_item_text(item, locale)))
        if item.state == ItemState.OVERDUE:
            blocks.append(_item_buttons(item, locale, listed, more))
    if more:
        blocks.append(context(render("nudge_more.j2", locale, count=more)))
    keys = ", ".join(item.key for item in still_overdue)
    text = f"{intro} {keys}".strip() if keys else intro
    return text[:MAX_FALLBACK_TEXT], blocks[:MAX_BLOCKS]


def set_due_modal(
    *, key: str, title: str, locale: str, initial: date, metadata: dict[str, Any]
) -> dict[str, Any]:
    """The "Set new date" form: one date picker, the nudge to redraw in ``private_metadata``."""
    return {
        "type": "modal",
        "callback_id": ids.VIEW_SET_DUE,
        "title": plain(t(locale, "New due date")[:24]),
        "submit": plain(t(locale, "Save")),
        "close": plain(t(locale, "Cancel")),
        "private_metadata": json.dumps(metadata, separators=(",", ":")),
        "blocks": [
            section(render("record_card.j2", locale, key=key, title=title, source_url=None)),
            {
                "type": "input",
                "block_id": ids.BLOCK_NEW_DUE,
                "label": plain(t(locale, "New due date")),
                "element": {
                    "type": "datepicker",
                    "action_id": ids.ACTION_NEW_DUE,
                    "initial_date": initial.isoformat(),
                },
            },
        ],
    }


def escalation_message(
    project: ProjectFacts, items: Sequence[OverdueItem], *, locale: str, more: int = 0
) -> tuple[str, list[Block]]:
    """What a project owner gets: the items past the project's limit, with their assignees."""
    intro = render(
        "escalation_intro.j2",
        locale,
        key=project.key,
        name=project.name,
        days=project.escalate_after_days,
        count=len(items) + more,
    )
    blocks: list[Block] = [section(intro)]
    chunk = ""
    for item in items:
        line = render(
            "escalation_item.j2",
            locale,
            key=item.key,
            title=item.title,
            assignee_id=item.assignee_id,
            due_date=item.due_date,
            days=item.days_overdue,
        )
        if chunk and len(chunk) + 1 + len(line) > MAX_SECTION_TEXT:
            blocks.append(section(chunk))
            chunk = ""
        chunk = f"{chunk}\n{line}" if chunk else line
    if chunk:
        blocks.append(section(chunk))
    if more:
        blocks.append(context(render("escalation_more.j2", locale, count=more)))
    text = f"{intro} {', '.join(item.key for item in items)}"
    return text[:MAX_FALLBACK_TEXT], blocks[:MAX_BLOCKS]
