"""Meetings at the Slack edge: the notes form, reading it back, and the summary posted in the channel.

Pure functions, no I/O. Message text comes from ``templates/meeting_*.j2`` (user text escaped there).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from bot.blocks.basics import MAX_INPUT, Block, _input, context, plain, section, split_text
from bot.blocks.project_picker import project_picker
from bot.blocks.rendering import render
from bot.domain.meetings import (
    FIELD_DECISIONS,
    FIELD_HELD_ON,
    FIELD_NOTES,
    FIELD_PROJECT,
    FIELD_TITLE,
    MAX_MEETING_TITLE,
    MeetingView,
    item_row,
)
from bot.domain.parsing import MAX_TITLE
from bot.domain.views import ProjectView
from bot.i18n import t
from bot.slack import ids

# Slack allows 50 blocks in a message.
MAX_MESSAGE_BLOCKS = 50
MODAL_TITLE_LIMIT = 24


def item_block(prefix: str, row: int) -> str:
    """Block id of one cell of the action-item rows: ``item_text_0``, ``item_owner_0``, ``item_due_0``…"""
    return f"{prefix}_{row}"


# -- the form ------------------------------------------------------------------------------------------


def meeting_modal(
    *,
    locale: str,
    metadata: dict[str, Any],
    held_on: date,
    project: ProjectView | None = None,
    projects: Sequence[ProjectView] = (),
    title: str = "",
    notes: str = "",
    notice: str | None = None,
) -> dict[str, Any]:
    """The meeting notes form: for ``project``, or with a picker over ``projects`` when none is known."""
    blocks: list[Block] = []
    if notice:
        blocks.append(context(notice))
    if project is not None:
        name = f"{project.key} — {project.name}"
        label = t(locale, "Project: %(project)s", project=name)
        blocks.append({"type": "context", "elements": [plain(label)]})
    else:
        blocks.append(_input(ids.BLOCK_PROJECT, t(locale, "Project"), project_picker(locale, projects)))
    title_input: dict[str, Any] = {
        "type": "plain_text_input",
        "action_id": ids.ACTION_MEETING_TITLE,
        "max_length": MAX_MEETING_TITLE,
    }
    if title:
        title_input["initial_value"] = title[:MAX_MEETING_TITLE]
    notes_input: dict[str, Any] = {
        "type": "plain_text_input",
        "action_id": ids.ACTION_NOTES,
        "multiline": True,
        "max_length": MAX_INPUT,
    }
    if notes:
        notes_input["initial_value"] = notes[:MAX_INPUT]
    blocks += [
        _input(ids.BLOCK_MEETING_TITLE, t(locale, "Title"), title_input),
        _input(
            ids.BLOCK_MEETING_DATE,
            t(locale, "Date"),
            {"type": "datepicker", "action_id": ids.ACTION_MEETING_DATE, "initial_date": held_on.isoformat()},
        ),
        _input(
            ids.BLOCK_ATTENDEES,
            t(locale, "Attendees"),
            {"type": "multi_users_select", "action_id": ids.ACTION_ATTENDEES},
            optional=True,
        ),
        _input(ids.BLOCK_NOTES, t(locale, "Notes"), notes_input, optional=True),
        _input(
            ids.BLOCK_DECISIONS,
            t(locale, "Decisions"),
            {
                "type": "plain_text_input",
                "action_id": ids.ACTION_DECISIONS,
                "multiline": True,
                "max_length": MAX_INPUT,
            },
            optional=True,
        ),
        {"type": "divider"},
        context(t(locale, "Action items: each one becomes a task of the project.")),
    ]
    for row in range(ids.MEETING_ITEM_ROWS):
        blocks += [
            _input(
                item_block(ids.BLOCK_ITEM_TEXT, row),
                t(locale, "Action item %(n)s", n=row + 1),
                {"type": "plain_text_input", "action_id": ids.ACTION_ITEM_TEXT, "max_length": MAX_TITLE},
                optional=True,
            ),
            _input(
                item_block(ids.BLOCK_ITEM_OWNER, row),
                t(locale, "Owner"),
                {"type": "users_select", "action_id": ids.ACTION_ITEM_OWNER},
                optional=True,
            ),
            _input(
                item_block(ids.BLOCK_ITEM_DUE, row),
                t(locale, "Due date"),
                {"type": "datepicker", "action_id": ids.ACTION_ITEM_DUE},
                optional=True,
            ),
        ]
    return {
        "type": "modal",
        "callback_id": ids.VIEW_MEETING,
        "title": plain(t(locale, "Meeting notes")[:MODAL_TITLE_LIMIT]),
        "submit": plain(t(locale, "Save")),
        "close": plain(t(locale, "Cancel")),
        "private_metadata": json.dumps(metadata, separators=(",", ":")),
        "blocks": blocks,
    }


class _Lenient(BaseModel):
    model_config = ConfigDict(extra="ignore")


class ActionItemForm(_Lenient):
    row: int
    text: str = ""
    owner_id: str | None = None
    due_date: date | None = None


class MeetingForm(_Lenient):
    """Values of the meeting notes form."""

    project_id: int | None = None
    title: str = ""
    held_on: date | None = None
    attendees: list[str] = Field(default_factory=list)
    notes: str = ""
    decisions: str = ""
    items: list[ActionItemForm] = Field(default_factory=list)


def _element(values: dict[str, Any], block: str, action: str) -> dict[str, Any]:
    element = values.get(block, {}).get(action)
    return element if isinstance(element, dict) else {}


def parse_meeting_form(view: dict[str, Any]) -> MeetingForm:
    values = view.get("state", {}).get("values", {}) or {}
    project = (_element(values, ids.BLOCK_PROJECT, ids.ACTION_PROJECT).get("selected_option") or {}).get(
        "value"
    )

    def cell(prefix: str, action: str, row: int) -> dict[str, Any]:
        return _element(values, item_block(prefix, row), action)

    items = [
        ActionItemForm(
            row=row,
            text=cell(ids.BLOCK_ITEM_TEXT, ids.ACTION_ITEM_TEXT, row).get("value") or "",
            owner_id=cell(ids.BLOCK_ITEM_OWNER, ids.ACTION_ITEM_OWNER, row).get("selected_user"),
            due_date=cell(ids.BLOCK_ITEM_DUE, ids.ACTION_ITEM_DUE, row).get("selected_date"),
        )
        for row in range(ids.MEETING_ITEM_ROWS)
    ]
    return MeetingForm(
        project_id=project,
        title=_element(values, ids.BLOCK_MEETING_TITLE, ids.ACTION_MEETING_TITLE).get("value") or "",
        held_on=_element(values, ids.BLOCK_MEETING_DATE, ids.ACTION_MEETING_DATE).get("selected_date"),
        attendees=_element(values, ids.BLOCK_ATTENDEES, ids.ACTION_ATTENDEES).get("selected_users") or [],
        notes=_element(values, ids.BLOCK_NOTES, ids.ACTION_NOTES).get("value") or "",
        decisions=_element(values, ids.BLOCK_DECISIONS, ids.ACTION_DECISIONS).get("value") or "",
        items=items,
    )


_FIELD_BLOCKS = {
    FIELD_PROJECT: ids.BLOCK_PROJECT,
    FIELD_TITLE: ids.BLOCK_MEETING_TITLE,
    FIELD_HELD_ON: ids.BLOCK_MEETING_DATE,
    FIELD_NOTES: ids.BLOCK_NOTES,
    FIELD_DECISIONS: ids.BLOCK_DECISIONS,
}


def meeting_form_errors(view: dict[str, Any], errors: Iterable[tuple[str | None, str]]) -> dict[str, str]:
    """``(field, text)`` pairs from the domain → ``{block_id: text}`` for a ``response_action: errors``.

    An error whose field has no block in this form is shown on the title.
    """
    present = {b.get("block_id") for b in view.get("blocks", [])}
    out: dict[str, str] = {}
    for field, text in errors:
        row = item_row(field or "")
        block = item_block(ids.BLOCK_ITEM_TEXT, row) if row is not None else _FIELD_BLOCKS.get(field or "")
        if block is None or block not in present:
            block = ids.BLOCK_MEETING_TITLE
        out[block] = f"{out[block]} {text}" if block in out else text
    return out


# -- messages ------------------------------------------------------------------------------------------


def meeting_summary(meeting: MeetingView) -> tuple[str, list[Block]]:
    """The summary posted in the project's channel: fallback text (the headline) and blocks."""
    text = render("meeting_summary.j2", meeting.locale, meeting=meeting)
    pieces = split_text(text)
    blocks = [section(piece) for piece in pieces[:MAX_MESSAGE_BLOCKS]]
    headline = text.split("\n", 1)[0]
    return headline, blocks


def meeting_thread_reply(meeting: MeetingView, *, user_id: str) -> str:
    return render("meeting_logged_in_thread.j2", meeting.locale, key=meeting.key, user_id=user_id)


def meeting_list_text(project_key: str, meetings: Sequence[MeetingView], locale: str) -> str:
    return render("meeting_list.j2", locale, key=project_key, meetings=meetings)


def meeting_help_text(locale: str) -> str:
    return render("meeting_help.j2", locale)
