"""The App Home dashboard as a Block Kit ``home`` view. Pure: a :class:`Dashboard` in, Slack JSON out.

Every record gets the same buttons as its channel card (:func:`record_buttons`),
labelled in the person's locale. Slack allows 100 blocks in a home view: long
lists are cut fairly across the sections, each ending with "…and N more".
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from typing import Any

from bot.blocks.basics import MAX_SECTION_TEXT, Block, context, plain, record_buttons, section
from bot.blocks.rendering import render
from bot.blocks.sla import state_line
from bot.domain.dashboard import Dashboard, ProjectEntry
from bot.domain.errors import N_
from bot.domain.views import RecordView
from bot.i18n import format_date, t
from bot.i18n.labels import kind_name, priority_name, status_name
from bot.slack import ids, limits
from bot.slack.text import escape, mention
from storage.models import MemberRole

MAX_HOME_BLOCKS = 100
MAX_HEADER = limits.HEADER
# Blocks one record takes: its title, its facts and its buttons.
BLOCKS_PER_RECORD = 3
MAX_PROJECT_LINES = 15
BLOCK_PREFERENCES = "home_preferences"

ROLE_NAMES = {MemberRole.OWNER: N_("owner"), MemberRole.CUSTOMER_CONTACT: N_("customer contact")}


@dataclass(frozen=True)
class _Section:
    title: str
    items: tuple[RecordView, ...]
    empty: str


def header(text: str) -> Block:
    return {"type": "header", "text": plain(text[:MAX_HEADER])}


def divider() -> Block:
    return {"type": "divider"}


def _share(needs: list[int], slots: int) -> list[int]:
    """Split ``slots`` between sections fairly: small sections get all they need, big ones share the rest."""
    given = [0] * len(needs)
    active = [i for i, need in enumerate(needs) if need > 0]
    while slots > 0 and active:
        share = max(slots // len(active), 1)
        for i in list(active):
            take = min(share, needs[i] - given[i], slots)
            given[i] += take
            slots -= take
            if given[i] >= needs[i]:
                active.remove(i)
            if slots == 0:
                break
    return given


def _facts(record: RecordView, dashboard: Dashboard, locale: str) -> str:
    parts = [
        kind_name(record.kind, locale).capitalize(),
        t(locale, "Status: %(status)s", status=status_name(record.status, locale)),
        t(locale, "Priority: %(priority)s", priority=priority_name(record.priority, locale)),
    ]
    if record.due_date is not None:
        parts.append(t(locale, "Due: %(date)s", date=format_date(record.due_date, locale)))
    if record.key in dashboard.overdue_keys:
        days = dashboard.days_overdue(record)
        late = t(locale, "1 day overdue") if days == 1 else t(locale, "%(days)s days overdue", days=days)
        parts.append(f":warning: *{late}*")
    if record.sla is not None:
        parts.append(state_line(record.sla, locale))
    if record.score is not None:
        parts.append(
            t(
                locale,
                "Risk score: %(score)s (p%(p)s × i%(i)s)",
                score=record.score,
                p=record.probability,
                i=record.impact,
            )
        )
    return " · ".join(parts)


def record_blocks(record: RecordView, dashboard: Dashboard, locale: str) -> list[Block]:
    """A record on App Home: title, facts, and the card's buttons in the person's language."""
    title = render("record_card.j2", locale, key=record.key, title=record.title, source_url=record.source_url)
    blocks = [section(title), context(_facts(record, dashboard, locale))]
    buttons = record_buttons(replace(record, locale=locale))
    if buttons:
        blocks.append({"type": "actions", "block_id": f"home:{record.key}", "elements": buttons})
    return blocks


def _project_line(entry: ProjectEntry, locale: str) -> str:
    project = entry.project
    parts = [f"• *{escape(project.key)}* {escape(project.name)}"]
    if project.channel_id:
        parts.append(f"<#{project.channel_id}>")
    roles = [t(locale, ROLE_NAMES[MemberRole(r)]) for r in entry.roles if r in ROLE_NAMES]
    if roles:
        parts.append(", ".join(roles))
    if entry.open_items == 1:
        parts.append(t(locale, "1 open item assigned to you"))
    elif entry.open_items:
        parts.append(t(locale, "%(count)s open items assigned to you", count=entry.open_items))
    return " · ".join(parts)


def _projects_text(dashboard: Dashboard, locale: str) -> str:
    if not dashboard.projects:
        return t(locale, "You are not part of any active project yet.")
    lines: list[str] = []
    size = 0
    for entry in dashboard.projects[:MAX_PROJECT_LINES]:
        line = _project_line(entry, locale)[:400]
        if size + len(line) + 1 > MAX_SECTION_TEXT - 100:
            break
        lines.append(line)
        size += len(line) + 1
    hidden = len(dashboard.projects) - len(lines)
    if hidden:
        lines.append(t(locale, "…and %(count)s more.", count=hidden))
    return "\n".join(lines)


def _preferences(dashboard: Dashboard, locale: str) -> Block:
    if dashboard.notify_assignments:
        text = t(
            locale,
            "*Assignment messages: on.* I send you a direct message when a record is assigned to you.",
        )
        button, wanted = t(locale, "Turn off"), False
    else:
        text = t(
            locale,
            "*Assignment messages: off.* You get no direct message when a record is assigned to you.",
        )
        button, wanted = t(locale, "Turn on"), True
    return {
        "type": "section",
        "block_id": BLOCK_PREFERENCES,
        "text": {"type": "mrkdwn", "text": text},
        "accessory": {
            "type": "button",
            "text": plain(button[:75]),
            "action_id": ids.ACTION_HOME_NOTIFY_ASSIGNMENTS,
            "value": json.dumps({"notify": wanted}, separators=(",", ":")),
        },
    }


def _sections(dashboard: Dashboard, locale: str) -> list[_Section]:
    overdue = dashboard.overdue
    late = dashboard.overdue_keys
    tasks = tuple(r for r in dashboard.tasks if r.key not in late)
    issues = tuple(r for r in dashboard.issues if r.key not in late)
    all_overdue = t(locale, "All of them are overdue: see above.")
    return [
        _Section(
            t(locale, "Overdue (%(count)s)", count=len(overdue)),
            overdue,
            t(locale, "Nothing overdue. Nice work!"),
        ),
        _Section(
            t(locale, "My open tasks (%(count)s)", count=len(dashboard.tasks)),
            tasks,
            all_overdue if dashboard.tasks else t(locale, "No open tasks assigned to you."),
        ),
        _Section(
            t(locale, "My open issues (%(count)s)", count=len(dashboard.issues)),
            issues,
            all_overdue if dashboard.issues else t(locale, "No open issues assigned to you."),
        ),
        _Section(
            t(locale, "Risks I own (%(count)s)", count=len(dashboard.risks)),
            dashboard.risks,
            t(locale, "You don't own any open risks."),
        ),
    ]


def home_view(dashboard: Dashboard, locale: str) -> dict[str, Any]:
    """The person's App Home: their overdue work, open tasks, issues, risks, projects and preferences."""
    sections = _sections(dashboard, locale)
    # Fixed blocks: title + intro; per record section a divider, a header and one closing line
    # (empty state or "…and N more"); projects and preferences take a divider, a header and a section each.
    fixed = 2 + 3 * len(sections) + 3 + 3
    slots = (MAX_HOME_BLOCKS - fixed) // BLOCKS_PER_RECORD
    shown = _share([len(s.items) for s in sections], slots)

    blocks: list[Block] = [
        header(t(locale, "Your after-sales work")),
        context(
            t(
                locale,
                "Hi %(who)s! Here is what is assigned to you across the active projects.",
                who=mention(dashboard.user_id),
            )
        ),
    ]
    for part, count in zip(sections, shown, strict=True):
        blocks += [divider(), header(part.title)]
        for record in part.items[:count]:
            blocks += record_blocks(record, dashboard, locale)
        if not part.items:
            blocks.append(context(part.empty))
        elif count < len(part.items):
            blocks.append(context(t(locale, "…and %(count)s more.", count=len(part.items) - count)))
    blocks += [
        divider(),
        header(t(locale, "My projects (%(count)s)", count=len(dashboard.projects))),
        section(_projects_text(dashboard, locale)),
        divider(),
        header(t(locale, "Preferences")),
        _preferences(dashboard, locale),
    ]
    return {"type": "home", "blocks": blocks[:MAX_HOME_BLOCKS]}


def notify_choice(action: dict[str, Any]) -> bool | None:
    """What the preference button asks for (``True`` = send assignment DMs), or None if unreadable."""
    try:
        value = json.loads(str(action.get("value") or ""))
    except ValueError:
        return None
    wanted = value.get("notify") if isinstance(value, dict) else None
    return wanted if isinstance(wanted, bool) else None
