"""Service-level text and messages: the state line of a card, the warning DM and the breach post.

Only for internal places (DMs, internal channels, App Home, private answers): what the bot posts in a
shared channel's threads never carries these figures.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from bot.blocks.basics import Block, context, plain, section
from bot.domain.errors import N_
from bot.domain.service_levels import AT_RISK, BREACHED, FIRST_RESPONSE, MET, TargetState
from bot.domain.sla_report import ServiceLevelWeek
from bot.domain.statuses import LIFECYCLES, Verb
from bot.i18n import t
from bot.slack import ids
from bot.slack.limits import URL as URL_LIMIT
from bot.slack.text import escape, shorten
from storage.models import Kind

_LINES = {
    (FIRST_RESPONSE, "due"): N_("first response due in %(left)s"),
    (FIRST_RESPONSE, BREACHED): N_("first response breached %(ago)s ago"),
    (FIRST_RESPONSE, MET): N_("first response met"),
    (FIRST_RESPONSE, "late"): N_("first response breached (answered %(ago)s late)"),
    ("resolution", "due"): N_("resolution due in %(left)s"),
    ("resolution", BREACHED): N_("resolution breached %(ago)s ago"),
    ("resolution", MET): N_("resolution met"),
    ("resolution", "late"): N_("resolution breached (resolved %(ago)s late)"),
}
_TARGET_NAMES = {FIRST_RESPONSE: N_("first response"), "resolution": N_("resolution")}


def duration(delta: timedelta, locale: str) -> str:
    """``1 h 20 m``, ``2 d 3 h``, ``5 m`` (``1 小时 20 分钟`` in Chinese); at least one minute."""
    minutes = max(int(delta.total_seconds() // 60), 1)
    days, rest = divmod(minutes, 1440)
    hours, mins = divmod(rest, 60)
    parts: list[str] = []
    if days:
        parts.append(t(locale, "%(n)s d", n=days))
    if hours:
        parts.append(t(locale, "%(n)s h", n=hours))
    if mins and not days:
        parts.append(t(locale, "%(n)s m", n=mins))
    return " ".join(parts)


def state_text(state: TargetState, locale: str) -> str:
    """``first response due in 1 h 20 m`` / ``resolution breached 3 h ago`` / ``… met``."""
    if state.done_at is not None:
        if state.state == MET:
            return t(locale, _LINES[(state.target, MET)])
        return t(locale, _LINES[(state.target, "late")], ago=duration(state.delta, locale))
    if state.state == BREACHED:
        return t(locale, _LINES[(state.target, BREACHED)], ago=duration(state.delta, locale))
    return t(locale, _LINES[(state.target, "due")], left=duration(state.delta, locale))


def state_line(state: TargetState | None, locale: str) -> str:
    """The line a card, ``/issue show`` or App Home shows (empty without a service level)."""
    if state is None:
        return ""
    icon = {BREACHED: ":red_circle:", AT_RISK: ":large_orange_circle:", MET: ":white_check_mark:"}.get(
        state.state, ":stopwatch:"
    )
    return f"{icon} {state_text(state, locale)}"


def _title(key: str, title: str, source_url: str | None) -> str:
    name = escape(shorten(title, 150))
    if source_url and len(source_url) <= URL_LIMIT and "|" not in source_url and ">" not in source_url:
        return f"*<{source_url}|{key}>* {name}"
    return f"*{key}* {name}"


def _button(text: str, action_id: str, value: dict[str, Any], style: str | None = None) -> dict[str, Any]:
    button: dict[str, Any] = {
        "type": "button", "text": plain(text), "action_id": action_id, "value": json.dumps(value),
    }  # fmt: skip
    if style:
        button["style"] = style
    return button


def warning_message(
    *, key: str, title: str, version: int, status: str, assigned: bool, source_url: str | None,
    state: TargetState, locale: str,
) -> tuple[str, list[Block]]:  # fmt: skip
    """The DM at 80 % of a target, with Assign to me (unassigned), Open thread, Resolve."""
    head = t(
        locale, ":hourglass_flowing_sand: Service level at risk: %(what)s.", what=state_text(state, locale)
    )
    text = f"{head}\n{_title(key, title, source_url)}"
    ref = {"key": key, "v": version}
    buttons: list[dict[str, Any]] = []
    if not assigned:
        buttons.append(_button(t(locale, "Assign to me"), ids.ACTION_CARD_ASSIGN_ME, ref))
    if source_url and len(source_url) <= URL_LIMIT:
        buttons.append(
            {"type": "button", "text": plain(t(locale, "Open thread")), "action_id": ids.ACTION_OPEN_LINK,
             "url": source_url}
        )  # fmt: skip
    if Verb.RESOLVE in LIFECYCLES[Kind.ISSUE].moves_from(status):
        buttons.append(
            _button(
                t(locale, "Resolve"), ids.card_move_action("resolve"), {**ref, "verb": "resolve"}, "primary"
            )
        )
    blocks: list[Block] = [section(text)]
    if buttons:
        blocks.append({"type": "actions", "block_id": f"sla:{key}", "elements": buttons})
    return text, blocks


def breach_message(
    *, key: str, title: str, source_url: str | None, assignee_id: str | None, state: TargetState, locale: str
) -> tuple[str, list[Block]]:
    """The internal post (and the assignee's DM) when a target is breached."""
    head = t(locale, ":rotating_light: Service level breached: %(what)s.", what=state_text(state, locale))
    text = f"{head}\n{_title(key, title, source_url)}"
    mention = f"<@{assignee_id}>" if assignee_id else ""
    who = t(locale, "Assignee: %(who)s", who=mention) if assignee_id else t(locale, "Nobody is assigned.")
    return text, [section(text), context(who)]


def target_name(target: str, locale: str) -> str:
    return t(locale, _TARGET_NAMES[target])


def service_level_text(week: ServiceLevelWeek, locale: str) -> str:
    """The digest's service-level line: attainment, and the median first response in business minutes."""
    parts = []
    if week.attainment is not None:
        parts.append(
            t(locale, "%(met)s of %(due)s targets met (%(percent)s%%)", met=week.met, due=week.due,
              percent=round(week.attainment * 100))
        )  # fmt: skip
    if week.median_first_response is not None:
        minutes = round(week.median_first_response)
        parts.append(
            t(locale, "median first response %(minutes)s business minutes (1 issue)", minutes=minutes)
            if week.responses == 1
            else t(locale, "median first response %(minutes)s business minutes (%(count)s issues)",
                   minutes=minutes, count=week.responses)
        )  # fmt: skip
    return "*" + t(locale, "Service levels") + "*\n" + " · ".join(parts)
