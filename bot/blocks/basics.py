"""Pure Block Kit builders: plain data in, Slack JSON out. No I/O.

Text comes from the catalogue and templates; user text is escaped there.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

from bot.blocks.rendering import render
from bot.domain.errors import N_
from bot.domain.statuses import LIFECYCLES, Verb
from bot.domain.views import RecordView
from bot.i18n import t
from bot.i18n.labels import kind_name, priority_name, status_name
from bot.slack import ids, limits
from bot.slack.text import shorten

Block = dict[str, Any]
# Slack's limits (spelled once in bot.slack.limits).
MAX_INPUT = limits.INPUT
MAX_SECTION_TEXT = limits.SECTION_TEXT
MAX_OPTIONS = limits.SELECT_OPTIONS


def plain(text: str, *, emoji: bool = True) -> dict[str, Any]:
    return {"type": "plain_text", "text": text, "emoji": emoji}


def mrkdwn(text: str) -> dict[str, Any]:
    return {"type": "mrkdwn", "text": text}


def fit_lines(lines: Sequence[str], limit: int = MAX_SECTION_TEXT, *, latest: bool = False) -> list[str]:
    """As many whole lines as fit in ``limit`` characters joined by newlines: the first ones, or the last.

    Lists shrink this way, by whole items, never by cutting a line (or a mention or link in it).
    """
    picked: list[str] = []
    used = 0
    for line in reversed(lines) if latest else lines:
        cost = len(line) + (1 if picked else 0)
        if used + cost > limit:
            break
        picked.append(line)
        used += cost
    return picked[::-1] if latest else picked


def fit_rendered(text: str, draw: Callable[[str], str], limit: int = MAX_SECTION_TEXT) -> str:
    """``draw(text)``, or — when that is longer than ``limit`` — ``draw`` of ``text`` shortened as little as needed.

    The plain text is shortened before ``draw`` escapes it, so no entity is ever cut.
    """
    drawn = draw(text)
    if len(drawn) <= limit:
        return drawn
    low, high = 0, len(text)
    while low < high:
        middle = (low + high + 1) // 2
        if len(draw(shorten(text, middle))) <= limit:
            low = middle
        else:
            high = middle - 1
    return draw(shorten(text, low))


def _within(text: str) -> str:
    """Last resort for a builder that did not fit its text itself: drop whole lines, not half of one."""
    if len(text) <= MAX_SECTION_TEXT:
        return text
    end = text.rfind("\n", 0, MAX_SECTION_TEXT + 1)
    return text[:end] if end > 0 else text[:MAX_SECTION_TEXT]


def section(text: str) -> Block:
    return {"type": "section", "text": mrkdwn(_within(text))}


def context(text: str) -> Block:
    return {"type": "context", "elements": [mrkdwn(_within(text))]}


# A card offers exactly the moves the domain accepts from the record's status (``Lifecycle.moves_from``);
# these are drawn as the primary step.
_FORWARD = (Verb.DONE, Verb.RESOLVE, Verb.DELIVER, Verb.ACCEPT)
VERB_LABELS = {
    "accept": N_("Accept"),
    "reject": N_("Reject"),
    "start": N_("Start"),
    "deliver": N_("Deliver"),
    "resolve": N_("Resolve"),
    "reopen": N_("Reopen"),
    "done": N_("Done"),
    "mitigate": N_("Mitigating"),
}


# json.dumps with separators builds a new encoder every call; a day's nudges draw tens of thousands of buttons.
_compact_json = json.JSONEncoder(separators=(",", ":")).encode


def _button(text: str, action_id: str, value: dict[str, Any], style: str | None = None) -> dict[str, Any]:
    button: dict[str, Any] = {
        "type": "button",
        "text": plain(text[:75]),
        "action_id": action_id,
        "value": _compact_json(value),
    }
    if style:
        button["style"] = style
    return button


def record_buttons(record: RecordView) -> list[dict[str, Any]]:
    """Buttons that fit the record's kind and status; each carries the version it was drawn at."""
    locale = record.locale
    ref = {"key": record.key, "v": record.version}
    buttons: list[dict[str, Any]] = []
    if record.deleted_at is not None or record.project_status != "active":
        return []
    if record.is_open and not record.assignee_id:
        buttons.append(_button(t(locale, "Assign to me"), ids.ACTION_CARD_ASSIGN_ME, ref))
    moves = LIFECYCLES[record.kind].moves_from(record.status)
    for verb in moves:
        if verb is not Verb.CLOSE:
            style = "primary" if verb in _FORWARD else None
            buttons.append(
                _button(
                    t(locale, VERB_LABELS[verb]), ids.card_move_action(verb), {**ref, "verb": verb}, style
                )
            )
    if Verb.CLOSE in moves:
        buttons.append(_button(t(locale, "Close"), ids.ACTION_CARD_CLOSE, ref))
    if record.is_open:
        buttons.append(_button(t(locale, "Edit"), ids.ACTION_CARD_EDIT, ref))
    return buttons[:25]


def record_card(record: RecordView) -> tuple[str, list[Block]]:
    """A record as a channel card: fallback text and blocks."""
    locale = record.locale
    title = render("record_card.j2", locale, key=record.key, title=record.title, source_url=record.source_url)
    facts = render(
        "record_facts.j2",
        locale,
        kind_label=kind_name(record.kind, locale).capitalize(),
        status_label=status_name(record.status, locale),
        priority_label=priority_name(record.priority, locale),
        assignee_id=record.assignee_id,
        due_date=record.due_date,
        estimate_hours=record.estimate_hours,
        score=record.score,
        probability=record.probability,
        impact=record.impact,
        created_by=record.created_by,
    )
    if record.deleted_at is not None:
        title = f"~{title}~"
        facts = t(locale, "Deleted.") + " " + facts
    blocks = [section(title), context(facts)]
    buttons = record_buttons(record)
    if buttons:
        blocks.append({"type": "actions", "block_id": f"card:{record.key}", "elements": buttons})
    return title, blocks


def text_blocks(text: str) -> list[Block]:
    return [section(text)]


def _option(text: str, value: str) -> dict[str, Any]:
    return {"text": plain(text[: limits.OPTION_TEXT]), "value": value}


def _input(
    block_id: str, label: str, element: dict[str, Any], *, optional: bool = False, hint: str | None = None
) -> Block:
    block: Block = {
        "type": "input",
        "block_id": block_id,
        "label": plain(label),
        "element": element,
        "optional": optional,
    }
    if hint:
        block["hint"] = plain(hint)
    return block


def notice_modal(*, title: str, text: str, locale: str) -> dict[str, Any]:
    return {
        "type": "modal",
        "callback_id": ids.VIEW_NOTICE,
        "title": plain(title[:24]),
        "close": plain(t(locale, "Close")),
        "blocks": [section(text)],
    }


def no_project_modal(locale: str) -> dict[str, Any]:
    """What a shortcut shows in a workspace with no active project yet."""
    return notice_modal(
        title=t(locale, "No project yet"),
        text=t(
            locale, "Create a project first: type /project new ACME Acme Corp after-sales in its channel."
        ),
        locale=locale,
    )


def modal_errors(errors: dict[str, str]) -> dict[str, Any]:
    return {"response_action": "errors", "errors": errors}


def _cut(line: str, limit: int) -> tuple[str, str]:
    """Cut escaped text at ``limit`` without splitting an entity such as ``&amp;``."""
    head = line[:limit]
    amp = head.rfind("&", max(0, limit - 5))
    if amp != -1 and ";" not in head[amp:]:
        head = head[:amp]
    return head, line[len(head) :]


def split_text(text: str, limit: int = MAX_SECTION_TEXT) -> list[str]:
    """Cut rendered mrkdwn into pieces that fit a section block, between lines where possible
    (a line too long is cut, never inside an entity such as ``&amp;``)."""
    pieces: list[str] = []
    current = ""
    for line in text.split("\n"):
        while len(line) > limit:
            head, line = _cut(line, limit)
            if current:
                pieces.append(current)
                current = ""
            pieces.append(head)
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > limit:
            pieces.append(current)
            current = line
        else:
            current = candidate
    if current.strip():
        pieces.append(current)
    return [p for p in pieces if p.strip()]
