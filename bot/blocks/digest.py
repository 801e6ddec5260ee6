"""The weekly digest as Slack messages: text from templates, structure in Block Kit, within Slack's limits.

Pure: :class:`~bot.domain.digest.DigestData` in, ``(text, blocks)`` per message out.
A long digest is split into parts (each at most :data:`MAX_BLOCKS` blocks and about
:data:`MAX_PART_CHARS` characters; every section text at most 3,000 characters).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from bot.blocks.basics import Block, context, section, split_text
from bot.blocks.kpi_text import decimal, duration, issue_satisfaction_text, on_time_text, score_text
from bot.blocks.rendering import punctuation, render
from bot.blocks.sla import service_level_text
from bot.domain.digest import KPI_DAYS, DigestData, DigestItem, ScopeChange
from bot.domain.errors import N_
from bot.domain.kpis import OnTime
from bot.domain.workload import OVERLOAD_HOURS, OVERLOAD_ITEMS
from bot.i18n import format_date, t
from bot.i18n.labels import CHANGE_FIELDS, describe_change, kind_name, priority_name, status_name
from bot.slack.text import escape
from storage.models import Kind

MAX_BLOCKS = 50
# Readable messages: a part holds about this many characters of text before the next one starts.
MAX_PART_CHARS = 12_000
# At most this many records per list; the rest are counted ("…and 12 more.").
MAX_LIST = 50
MAX_TITLE = 150
MAX_VALUE = 80
# A response_url takes at most 5 messages.
MAX_PREVIEW_MESSAGES = 5

Part = tuple[str, list[Block]]

# Kept under its old name for the modules that import it.
SCOPE_FIELDS = CHANGE_FIELDS


@lru_cache(maxsize=4096)
def _date(value: date, locale: str) -> str:
    """Dates repeat a lot in a digest (and across a thousand of them): format each once."""
    return format_date(value, locale)


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _week(data: DigestData) -> dict[str, date]:
    """The week as people name it: from the previous slot's day to the day before this slot."""
    zone = ZoneInfo(data.project.timezone)
    start = data.week_start.astimezone(zone).date()
    end = data.slot.astimezone(zone).date() - timedelta(days=1)
    return {"start": start, "end": max(end, start)}


def _base(data: DigestData) -> dict[str, Any]:
    return {"key": data.project.key, "name": data.project.name, **_week(data)}


@lru_cache(maxsize=64)
def _kind_label(kind: Kind, locale: str) -> str:
    """A kind as a list line shows it (translated, escaped): four values on every line of a thousand digests."""
    return escape(kind_name(kind, locale))


@lru_cache(maxsize=64)
def _priority_label(priority: str, locale: str) -> str:
    return escape(priority_name(priority, locale))


def _record_line(mode: str, item: DigestItem, locale: str, zone: ZoneInfo) -> str:
    """One record of a list, as a line of Slack text (user text escaped).

    Built here rather than in the template: a digest lists up to 250 records and a weekly run
    builds a thousand digests, and Jinja's per-item cost was most of the job's time.
    """
    line = (
        f"• *{escape(item.key)}* {escape(_short(item.title, MAX_TITLE))} · {_kind_label(item.kind, locale)}"
    )
    if mode == "new":
        line += " · " + _priority_label(item.priority, locale)
    if item.assignee_id:
        line += f" · <@{item.assignee_id}>"
    if mode in ("done", "delivered") and item.closed_at:
        line += " · " + escape(_date(item.closed_at.astimezone(zone).date(), locale))
    if mode in ("in_progress", "overdue") and item.due_date:
        line += " · " + _due(item.due_date, locale)
    if mode == "overdue":
        line += " · " + _overdue(item.days_overdue, locale)
    return line


@lru_cache(maxsize=4096)
def _due(due_date: date, locale: str) -> str:
    return t(locale, "Due: %(date)s", date=escape(_date(due_date, locale)))


@lru_cache(maxsize=4096)
def _overdue(days: int, locale: str) -> str:
    return t(locale, "1 day overdue") if days == 1 else t(locale, "%(days)s days overdue", days=days)


def _scope_change(change: ScopeChange, locale: str, zone: ZoneInfo) -> dict[str, Any]:
    text = describe_change(change.field, change.old, change.new, locale)
    return {
        "key": change.key,
        "title": _short(change.title, MAX_TITLE) if change.title else None,
        "label": text.label,
        "show_values": text.show_values,
        "old": _short(text.old, MAX_VALUE) if text.old else text.old,
        "new": _short(text.new, MAX_VALUE) if text.new else text.new,
        "by": change.by,
        "at": _date(change.at.astimezone(zone).date(), locale),
    }


def _workload(data: DigestData, locale: str) -> str:
    """The workload section: a line per person with open work, busiest first, then the unassigned count and
    what "overloaded" means when anybody is. Built in Python like the record lists (a line per person)."""
    p = punctuation(locale)
    work = t(locale, "tasks: %(tasks)s · issues: %(issues)s · estimated: %(hours)sh")
    flag = f" · :warning: *{t(locale, 'overloaded')}*"
    lines = [f"*{t(locale, 'Workload')}* — {t(locale, 'open tasks and issues per person')}"]
    for row in data.workload:
        mention = f"<@{row.user_id}>" if row.user_id else ""
        figures = work % {"tasks": row.tasks, "issues": row.issues, "hours": f"{row.estimate_hours:g}"}
        lines.append(f"• {mention}{p.colon}{figures}{flag if row.overloaded else ''}")
    if not data.workload:
        lines.append(t(locale, "Nobody has open tasks or issues assigned."))
    if data.unassigned:
        lines.append(t(locale, "Unassigned open tasks and issues: %(count)s", count=data.unassigned))
    if any(w.overloaded for w in data.workload):
        overloaded = t(
            locale,
            "Overloaded: more than %(hours)s estimated hours or more than %(items)s open tasks and issues.",
            hours=f"{OVERLOAD_HOURS:g}",
            items=OVERLOAD_ITEMS,
        )
        lines.append(f"_{overloaded}_")
    return "\n".join(lines).strip()


def kpi_context(data: DigestData, locale: str) -> dict[str, Any]:
    kpis = data.kpis
    return {
        "kpi_days": KPI_DAYS,
        "on_time": on_time_text(OnTime(kpis.on_time, kpis.with_due_date), locale),
        "resolution": duration(kpis.median_resolution, locale),
        "exposure": t(
            locale, "%(score)s (open risks: %(count)s)", score=kpis.risk_exposure, count=kpis.open_risks
        ),
        "satisfaction": "—" if kpis.satisfaction is None else score_text(kpis.satisfaction),
        "issue_satisfaction": issue_satisfaction_text(kpis.issue_satisfaction, kpis.issue_answers, locale),
    }


# Each list's heading (the overdue one is a warning).
_HEADINGS = {
    "done": N_("Done this week"),
    "delivered": N_("Delivered this week"),
    "in_progress": N_("In progress"),
    "new": N_("New requirements and issues"),
    "overdue": N_("Overdue"),
}


def _records(mode: str, items: tuple[DigestItem, ...], locale: str, zone: ZoneInfo) -> str:
    """A list of records: its heading with the count, a line per record (at most :data:`MAX_LIST`), the
    rest counted. Built in Python like its lines (:func:`_record_line`): the digest's most frequent text."""
    p = punctuation(locale)
    heading = t(locale, _HEADINGS[mode])
    if mode == "overdue":
        heading = f":warning: {heading}"
    lines = [f"*{heading}*{p.open}{len(items)}{p.close}"]
    lines += [_record_line(mode, i, locale, zone) for i in items[:MAX_LIST]]
    if len(items) > MAX_LIST:
        lines.append(t(locale, "…and %(count)s more.", count=len(items) - MAX_LIST))
    return "\n".join(lines).strip()


def _e(value: Any) -> str:
    """A value printed into a section's text: user text escaped for Slack, nothing for None."""
    return "" if value is None else escape(str(value))


# The intro, open issues, top risks and KPIs: a few lines each, built in Python like the lists (a Jinja
# template per section cost a fifth of a weekly run's text). The message ids are the templates' were.
def _intro(data: DigestData, locale: str) -> str:
    week = _week(data)
    dates = {name: escape(_date(day, locale)) for name, day in week.items()}
    title = f":bar_chart: *{t(locale, 'Weekly digest')} · {_e(data.project.key)}* — {_e(data.project.name)}"
    return f"{title}\n{t(locale, 'Week of %(start)s to %(end)s', **dates)}".strip()


def _issues(data: DigestData, locale: str) -> str:
    p = punctuation(locale)
    open_issues = sum(row.count for row in data.issues)
    lines = [f"*{t(locale, 'Open issues by priority')}*{p.open}{open_issues}{p.close}"]
    for row in data.issues:
        age = t(locale, "median age %(days)s days", days=_e(decimal(row.median_days)))
        oldest = t(locale, "oldest: %(key)s, %(days)s days", key=_e(row.oldest_key), days=row.oldest_days)
        label = _e(priority_name(row.priority, locale).capitalize())
        lines.append(f"• {label}{p.colon}{row.count} · {age} · {oldest}\n")  # a blank line after each
    if not data.issues:
        lines.append(t(locale, "No open issues."))
    return "\n".join(lines).strip()


def _risks(data: DigestData, locale: str) -> str:
    lines = [f"*{t(locale, 'Top risks')}*"]
    for r in data.top_risks:
        score = r.score
        figure = (
            t(
                locale,
                "Risk score: %(score)s (p%(p)s × i%(i)s)",
                score=score,
                p=_e(r.probability),
                i=_e(r.impact),
            )
            if score
            else t(locale, "not scored")
        )
        owner = f" · <@{r.owner_id}>" if r.owner_id else ""
        title = _e(_short(r.title, MAX_TITLE))
        lines.append(f"• *{_e(r.key)}* {title} — {figure} · {_e(status_name(r.status, locale))}{owner}")
    if not data.top_risks:
        lines.append(t(locale, "No open risks."))
    return "\n".join(lines).strip()


def _kpis(figures: dict[str, Any], locale: str) -> str:
    lines = [
        f"*{t(locale, 'KPIs')}* — {t(locale, 'last %(days)s days', days=figures['kpi_days'])}",
        "• " + t(locale, "Tasks done on time: %(value)s", value=_e(figures["on_time"])),
        "• " + t(locale, "Median issue resolution time: %(value)s", value=_e(figures["resolution"])),
        "• " + t(locale, "Open risk exposure: %(value)s", value=_e(figures["exposure"])),
        "• " + t(locale, "Latest satisfaction score: %(value)s", value=_e(figures["satisfaction"])),
    ]
    if figures["issue_satisfaction"]:
        lines.append(
            "• " + t(locale, "Issue satisfaction: %(value)s", value=_e(figures["issue_satisfaction"]))
        )
    return "\n".join(lines).strip()


def section_texts(data: DigestData) -> list[str]:
    """Each part of the digest as text, in order (the first is the title)."""
    locale = data.project.locale
    zone = ZoneInfo(data.project.timezone)
    texts = [_intro(data, locale)]
    for mode, items in (
        ("done", data.done),
        ("delivered", data.delivered),
        ("in_progress", data.in_progress),
        ("new", data.new),
    ):
        if items:
            texts.append(_records(mode, items, locale, zone))
    if data.scope_changes:
        shown = data.scope_changes[:MAX_LIST]
        texts.append(
            render(
                "digest_scope.j2",
                locale,
                digest={
                    "count": len(data.scope_changes),
                    "changes": [_scope_change(c, locale, zone) for c in shown],
                    "more": len(data.scope_changes) - len(shown),
                },
            )
        )
    if data.overdue:
        texts.append(_records("overdue", data.overdue, locale, zone))
    texts.append(_issues(data, locale))
    texts.append(_risks(data, locale))
    texts.append(_workload(data, locale))
    texts.append(_kpis(kpi_context(data, locale), locale))
    if data.service_levels is not None:
        texts.append(service_level_text(data.service_levels, locale))
    return texts


def _label(key: str, part: int, total: int, locale: str) -> str:
    return t(locale, "Weekly digest %(key)s · part %(part)s of %(total)s", key=key, part=part, total=total)


def pack(blocks: list[tuple[str, Block]], *, label: Any) -> list[Part]:
    """Pack ``(text, block)`` pairs into messages within Slack's limits; ``label(part, total)`` names each part."""
    groups: list[list[tuple[str, Block]]] = [[]]
    chars = 0
    for text, block in blocks:
        group = groups[-1]
        # Two blocks of every part are kept: one for its label, one for a preview's note.
        if group and (len(group) >= MAX_BLOCKS - 2 or chars + len(text) > MAX_PART_CHARS):
            groups.append([])
            group, chars = groups[-1], 0
        group.append((text, block))
        chars += len(text)
    total = len(groups)
    parts: list[Part] = []
    for number, group in enumerate(groups, start=1):
        if total > 1:
            note = label(number, total)
            # The first part ends with its label; the others start with it.
            group = [*group, (note, context(note))] if number == 1 else [(note, context(note)), *group]
        parts.append(("\n\n".join(text for text, _ in group), [block for _, block in group]))
    return parts


def digest_parts(data: DigestData) -> list[Part]:
    """The digest as one or more messages: ``(text, blocks)`` each. A quiet week is one line."""
    locale = data.project.locale
    if data.quiet:
        line = render("digest_quiet.j2", locale, digest=_base(data))
        return [(line, [section(line)])]
    blocks: list[tuple[str, Block]] = []
    for text in section_texts(data):
        for piece in split_text(text):
            blocks.append((piece, section(piece)))
    return pack(blocks, label=lambda part, total: _label(data.project.key, part, total, locale))


def preview_messages(data: DigestData, *, slot: datetime) -> list[Part]:
    """The digest planned for ``slot`` as a preview only the asker sees (at most 5 messages)."""
    locale = data.project.locale
    local = slot.astimezone(ZoneInfo(data.project.timezone))
    note = t(
        locale,
        "Preview of the digest due %(date)s at %(time)s (%(timezone)s), as things stand now. Only you can see this.",
        date=format_date(local.date(), locale),
        time=local.strftime("%H:%M"),
        timezone=data.project.timezone,
    )
    parts = digest_parts(data)
    if len(parts) > MAX_PREVIEW_MESSAGES:
        rest = len(parts) - (MAX_PREVIEW_MESSAGES - 1)
        more = t(locale, "…and %(count)s more parts.", count=rest)
        parts = [*parts[: MAX_PREVIEW_MESSAGES - 1], (more, [context(more)])]
    text, blocks = parts[0]
    parts[0] = (f"{note}\n\n{text}", [context(note), *blocks])
    return parts
