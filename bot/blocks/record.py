"""Block Kit for records: the new/edit forms, lists, the detail view with history, the delete notice."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from bot.blocks.basics import (
    MAX_INPUT,
    MAX_SECTION_TEXT,
    Block,
    _button,
    _input,
    _option,
    context,
    fit_lines,
    fit_rendered,
    plain,
    record_card,
    section,
)
from bot.blocks.project_picker import project_picker
from bot.blocks.rendering import render, slack_gettext
from bot.blocks.sla import state_line
from bot.domain.errors import N_
from bot.domain.listing import HistoryView, RecordList
from bot.domain.views import ProjectView, RecordView
from bot.i18n import format_date, t
from bot.i18n.labels import (
    KIND_NAMES,
    KIND_PLURALS,
    LIST_SCOPES,
    MODAL_TITLES,
    PRIORITY_NAMES,
    describe_change,
    priority_name,
    status_name,
)
from bot.slack import ids
from bot.slack.text import shorten
from storage.models import Kind

EDIT_TITLES = {
    Kind.REQUIREMENT: N_("Edit requirement"),
    Kind.ISSUE: N_("Edit issue"),
    Kind.TASK: N_("Edit task"),
    Kind.RISK: N_("Edit risk"),
}
HISTORY_SHOWN = 15
# A history value or comment is shown in at most this many characters (the export has it whole).
MAX_HISTORY_TEXT = 500


def _text_input(
    action_id: str, value: str | None, *, multiline: bool = False, max_length: int = MAX_INPUT
) -> dict[str, Any]:
    element: dict[str, Any] = {"type": "plain_text_input", "action_id": action_id, "max_length": max_length}
    if multiline:
        element["multiline"] = True
    if value:
        element["initial_value"] = value[:max_length]
    return element


def _score_select(action_id: str, value: int | None, locale: str) -> dict[str, Any]:
    options = [_option(str(n), str(n)) for n in range(1, 6)]
    element: dict[str, Any] = {
        "type": "static_select",
        "action_id": action_id,
        "placeholder": plain(t(locale, "1 (low) to 5 (high)")),
        "options": options,
    }
    if value:
        element["initial_option"] = options[value - 1]
    return element


def record_fields(
    kind: Kind, locale: str, current: RecordView | None = None, *, title: str = "", description: str = ""
) -> list[Block]:
    """The inputs every record form shares, prefilled from ``current`` when editing."""
    title = current.title if current else title
    description = current.description if current else description
    assignee: dict[str, Any] = {"type": "users_select", "action_id": ids.ACTION_ASSIGNEE}
    if current and current.assignee_id:
        assignee["initial_user"] = current.assignee_id
    due: dict[str, Any] = {"type": "datepicker", "action_id": ids.ACTION_DUE}
    if current and current.due_date:
        due["initial_date"] = current.due_date.isoformat()
    priority_options = [_option(priority_name(p, locale), p.value) for p in PRIORITY_NAMES]
    chosen = next(
        (o for o in priority_options if current and o["value"] == current.priority), priority_options[1]
    )
    blocks = [
        _input(ids.BLOCK_TITLE, t(locale, "Title"), _text_input(ids.ACTION_TITLE, title, max_length=200)),
        _input(
            ids.BLOCK_DESCRIPTION,
            t(locale, "Description"),
            _text_input(ids.ACTION_DESCRIPTION, description, multiline=True),
            optional=True,
        ),
        _input(
            ids.BLOCK_ASSIGNEE,
            t(locale, "Owner") if kind is Kind.RISK else t(locale, "Assignee"),
            assignee,
            optional=True,
        ),
        _input(ids.BLOCK_DUE, t(locale, "Due date"), due, optional=True),
        _input(
            ids.BLOCK_PRIORITY,
            t(locale, "Priority"),
            {
                "type": "static_select",
                "action_id": ids.ACTION_PRIORITY,
                "options": priority_options,
                "initial_option": chosen,
            },
        ),
    ]
    if kind is Kind.TASK:
        estimate = current.estimate_hours if current else None
        blocks.append(
            _input(
                ids.BLOCK_ESTIMATE,
                t(locale, "Estimate (hours)"),
                _text_input(ids.ACTION_ESTIMATE, f"{estimate:g}" if estimate else None, max_length=10),
                optional=True,
                hint=t(locale, "For example 4, 1.5 or 30m."),
            )
        )
    if kind is Kind.RISK:
        blocks += [
            _input(
                ids.BLOCK_PROBABILITY,
                t(locale, "Probability"),
                _score_select(ids.ACTION_PROBABILITY, current.probability if current else None, locale),
                optional=True,
            ),
            _input(
                ids.BLOCK_IMPACT,
                t(locale, "Impact"),
                _score_select(ids.ACTION_IMPACT, current.impact if current else None, locale),
                optional=True,
            ),
            _input(
                ids.BLOCK_MITIGATION,
                t(locale, "Mitigation plan"),
                _text_input(ids.ACTION_MITIGATION, current.mitigation if current else None, multiline=True),
                optional=True,
            ),
        ]
    return blocks


def _kind_select(locale: str) -> Block:
    options = [_option(t(locale, KIND_NAMES[kind]).capitalize(), kind.value) for kind in Kind]
    return _input(
        ids.BLOCK_KIND,
        t(locale, "Kind"),
        {
            "type": "static_select",
            "action_id": ids.ACTION_KIND,
            "options": options,
            "initial_option": options[1],
        },
    )


def record_modal(
    *,
    kind: Kind | None,
    locale: str,
    projects: Sequence[ProjectView],
    selected_project_id: int | None,
    metadata: dict[str, Any],
    title: str = "",
    description: str = "",
    notice: str | None = None,
) -> dict[str, Any]:
    """The "new record" form, with the channel's project preselected. ``kind=None`` lets the person choose."""
    project_select = project_picker(locale, projects, selected_project_id)
    blocks: list[Block] = []
    if notice:
        blocks.append(context(notice))
    blocks.append(_input(ids.BLOCK_PROJECT, t(locale, "Project"), project_select))
    if kind is None:
        blocks.append(_kind_select(locale))
    # A form for any kind shows the common fields only; kind-specific ones are set by command or edit.
    blocks += record_fields(kind or Kind.ISSUE, locale, title=title, description=description)
    return {
        "type": "modal",
        "callback_id": ids.VIEW_NEW_RECORD,
        "title": plain(t(locale, MODAL_TITLES[kind] if kind else "New record")[:24]),
        "submit": plain(t(locale, "Save")),
        "close": plain(t(locale, "Cancel")),
        "private_metadata": json.dumps(metadata, separators=(",", ":")),
        "blocks": blocks,
    }


def edit_modal(record: RecordView, locale: str) -> dict[str, Any]:
    return {
        "type": "modal",
        "callback_id": ids.VIEW_EDIT_RECORD,
        "title": plain(t(locale, EDIT_TITLES[record.kind])[:24]),
        "submit": plain(t(locale, "Save")),
        "close": plain(t(locale, "Cancel")),
        "private_metadata": json.dumps({"key": record.key, "v": record.version}, separators=(",", ":")),
        "blocks": [context(f"*{record.key}*"), *record_fields(record.kind, locale, record)],
    }


def _line(record: RecordView, locale: str) -> str:
    line = _plain_line(record, locale)
    return f"{line} · {state_line(record.sla, locale)}" if record.sla is not None else line


def _plain_line(record: RecordView, locale: str) -> str:
    return render(
        "record_line.j2",
        locale,
        key=record.key,
        title=record.title,
        status_label=status_name(record.status, locale),
        assignee_id=record.assignee_id,
        due_date=record.due_date,
        score=record.score,
    )


def record_list_blocks(
    listing: RecordList, kind: Kind, project_key: str, locale: str
) -> tuple[str, list[Block]]:
    heading = t(
        locale,
        "%(kind)s in %(project)s (%(scope)s): %(count)s",
        kind=t(locale, KIND_PLURALS[kind]).capitalize(),
        project=project_key,
        scope=t(locale, LIST_SCOPES[listing.scope]),
        count=listing.total,
    )
    if not listing.records:
        return heading, [section(f"*{heading}*"), context(t(locale, "Nothing here."))]
    shown = fit_lines([_line(r, locale) for r in listing.records])
    blocks = [section(f"*{heading}*"), section("\n".join(shown))]
    if listing.total > len(shown):
        blocks.append(context(t(locale, "…and %(count)s more.", count=listing.total - len(shown))))
    return heading, blocks


def _history_line(entry: HistoryView, locale: str) -> str:
    if entry.field == "comment":
        field, old, new, values = entry.field, None, entry.new, True
    else:
        text = describe_change(entry.field, entry.old, entry.new, locale)
        field, old, new, values = text.label, text.old, text.new, text.show_values
    return render(
        "history_line.j2",
        locale,
        comment=entry.field == "comment",
        field=field,
        show_values=values,
        old=shorten(old, MAX_HISTORY_TEXT) if old else None,
        new=shorten(new, MAX_HISTORY_TEXT) if new else None,
        by=entry.by,
        at=format_date(entry.at.date(), locale),
        scope_change=entry.scope_change,
    )


def _description(description: str, locale: str) -> list[Block]:
    """The description quoted, in as many whole lines as fit one section; a count of the lines left out."""
    lines = description.splitlines()
    quoted = [
        fit_rendered(line, lambda text: render("quoted.j2", locale, text=text or " ")) for line in lines
    ]
    shown = fit_lines(quoted)
    blocks = [section("\n".join(shown))]
    if len(shown) < len(lines):
        blocks.append(
            context(t(locale, "…and %(count)s more lines of description.", count=len(lines) - len(shown)))
        )
    return blocks


def record_detail_blocks(
    record: RecordView, history: list[HistoryView], locale: str
) -> tuple[str, list[Block]]:
    text, card = record_card(record)
    blocks = card[:1]
    if record.description.strip():
        blocks += _description(record.description, locale)
    if record.mitigation:
        blocks.append(
            context(
                fit_rendered(
                    record.mitigation,
                    lambda plan: str(slack_gettext(locale, N_("Mitigation plan: %(plan)s"), plan=plan)),
                )
            )
        )
    blocks += card[1:2]
    if record.sla is not None:
        blocks.append(context(state_line(record.sla, locale)))
    blocks += card[2:]
    heading = "*" + t(locale, "History and comments") + "*"
    recent = history[-HISTORY_SHOWN:]
    shown = fit_lines(
        [_history_line(e, locale) for e in recent], MAX_SECTION_TEXT - len(heading) - 1, latest=True
    )
    if shown:
        blocks.append(section(heading + "\n" + "\n".join(shown)))
        if len(shown) < len(history):
            blocks.append(context(t(locale, "…and %(count)s earlier.", count=len(history) - len(shown))))
    else:
        blocks.append(context(t(locale, "No changes or comments yet.")))
    return text, blocks


def deleted_blocks(record: RecordView, locale: str) -> tuple[str, list[Block]]:
    text = str(slack_gettext(locale, N_("Deleted %(key)s %(title)s."), key=record.key, title=record.title))
    undo = _button(t(locale, "Undo"), ids.ACTION_UNDO_DELETE, {"key": record.key})
    return text, [section(text), {"type": "actions", "elements": [undo]}]


def restored_blocks(record: RecordView, locale: str) -> tuple[str, list[Block]]:
    text = str(slack_gettext(locale, N_("Restored %(key)s %(title)s."), key=record.key, title=record.title))
    return text, [section(text)]
