"""The weekly customer report as one Slack message, within Block Kit's limits whatever the project's size.

Pure: :class:`~bot.domain.customer_report.CustomerReport` in, ``(text, blocks)`` out. Each list shows at
most :data:`MAX_ITEMS` records in at most :data:`MAX_SECTIONS` sections of whole lines
(:func:`~bot.blocks.basics.fit_lines`); the rest are counted. User text (titles, the project's name) is
escaped, so nothing in it can ping anybody. No buttons: the customer's channel gets nothing to click.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from functools import lru_cache

from bot.blocks.basics import Block, context, fit_lines, plain, section
from bot.domain.customer_report import CustomerItem, CustomerReport
from bot.i18n import format_date, t
from bot.i18n.labels import kind_name, status_name
from bot.slack import limits
from bot.slack.text import escape, shorten
from storage.models import Kind

MAX_ITEMS = 60
MAX_SECTIONS = 3
MAX_TITLE = 120
# Room kept in a section for its heading and the "…and N more." line.
HEADING_ROOM = 200


def _title(item: CustomerItem) -> str:
    title = item.title
    # On one line with single spaces already (the usual case) unless it has a non-printable character (every
    # whitespace but the space is) or two spaces in a row or at an end.
    if not title.isprintable() or "  " in title or title[:1] == " " or title[-1:] == " ":
        title = " ".join(title.split())
    return escape(shorten(title, MAX_TITLE))


# Labels and dates repeat on every line of a thousand reports: each is written once per locale.
@lru_cache(maxsize=64)
def _kind(kind: Kind, locale: str) -> str:
    return kind_name(kind, locale)


@lru_cache(maxsize=64)
def _status(status: str, locale: str) -> str:
    return status_name(status, locale)


@lru_cache(maxsize=4096)
def _due_text(due_date: date | None, locale: str) -> str:
    if due_date is None:
        return t(locale, "no due date")
    return t(locale, "Due: %(date)s", date=format_date(due_date, locale))


def _due(item: CustomerItem, locale: str) -> str:
    return _due_text(item.due_date, locale)


def _done_line(item: CustomerItem, locale: str) -> str:
    line = f"• *{item.key}* {_title(item)} · {_kind(item.kind, locale)}"
    return f"{line} · {format_date(item.done_on, locale)}" if item.done_on else line


def _progress_line(item: CustomerItem, locale: str) -> str:
    return f"• *{item.key}* {_title(item)} · {_kind(item.kind, locale)} · {_due(item, locale)}"


def _issue_line(item: CustomerItem, locale: str) -> str:
    line = f"• *{item.key}* {_title(item)} · {_status(item.status, locale)}"
    return f"{line} · {_due(item, locale)}" if item.due_date else line


def _list(heading: str, items: tuple[CustomerItem, ...], line: Callable[[CustomerItem, str], str],
          locale: str) -> list[Block]:  # fmt: skip
    """A heading and as many whole lines as fit in a few sections; the rest counted."""
    lines = [line(item, locale) for item in items[:MAX_ITEMS]]
    blocks: list[Block] = []
    shown = 0
    first = f"*{heading}*（{len(items)}）" if locale == "zh-CN" else f"*{heading}* ({len(items)})"
    while shown < len(lines) and len(blocks) < MAX_SECTIONS:
        room = limits.SECTION_TEXT - HEADING_ROOM
        picked = fit_lines(lines[shown:], room)
        if not picked:  # one line longer than a section (cannot happen with shortened titles): skip it
            shown += 1
            continue
        shown += len(picked)
        text = "\n".join(picked)
        blocks.append(section(f"{first}\n{text}" if not blocks else text))
    more = len(items) - shown
    if more:
        blocks.append(context(t(locale, "…and %(count)s more.", count=more)))
    return blocks


def customer_report_message(report: CustomerReport) -> tuple[str, list[Block]]:
    """The report: a header, the week, and the four lists that have anything in them."""
    locale = report.locale
    name = shorten(report.name, 80)
    heading = shorten(t(locale, "Weekly update · %(name)s", name=name), limits.HEADER)
    week = t(
        locale,
        "%(key)s · the week of %(start)s to %(end)s",
        key=report.key,
        start=format_date(report.week_start, locale),
        end=format_date(report.week_end, locale),
    )
    blocks: list[Block] = [{"type": "header", "text": plain(heading)}, context(week)]
    for title, items, line in (
        (t(locale, "Done and delivered this week"), report.done, _done_line),
        (t(locale, "In progress"), report.in_progress, _progress_line),
        (t(locale, "Open issues you raised"), report.customer_issues, _issue_line),
        (t(locale, "Due next week"), report.due_next_week, _progress_line),
    ):
        if items:
            blocks += _list(title, items, line, locale)
    text = t(
        locale,
        "Weekly update for %(name)s: %(done)s done, %(progress)s in progress, "
        "%(issues)s open issues you raised, %(due)s due next week.",
        name=escape(name),
        done=len(report.done),
        progress=len(report.in_progress),
        issues=len(report.customer_issues),
        due=len(report.due_next_week),
    )
    return text, blocks
