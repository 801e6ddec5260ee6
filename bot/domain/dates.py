"""Due dates as people write them, in English and Simplified Chinese.

``2026-12-01``, ``today``, ``tomorrow``, ``friday`` (the coming one, today
included), ``next friday`` (Friday of next week), ``in 3 days``, ``3d``, ``2w``,
``今天``, ``明天``, ``后天``, ``周五``/``星期五``, ``下周五``, ``3天后``. "Today" is read
in the project's time zone.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

from bot.domain.errors import N_, UserError

_WEEKDAYS_EN = {
    "monday": 0, "mon": 0, "tuesday": 1, "tue": 1, "tues": 1, "wednesday": 2, "wed": 2,
    "thursday": 3, "thu": 3, "thur": 3, "thurs": 3, "friday": 4, "fri": 4,
    "saturday": 5, "sat": 5, "sunday": 6, "sun": 6,
}  # fmt: skip
_WEEKDAYS_ZH = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6}
_ZH_WEEK_PREFIX = ("星期", "礼拜", "周")
_RELATIVE_EN = {"today": 0, "tod": 0, "tomorrow": 1, "tmr": 1, "tmrw": 1, "yesterday": -1}
_RELATIVE_ZH = {"今天": 0, "今日": 0, "明天": 1, "明日": 1, "后天": 2, "大后天": 3, "昨天": -1}
_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_SLASHED = re.compile(r"^(\d{4})/(\d{1,2})/(\d{1,2})$")
_IN_N = re.compile(r"^(?:in\s*)?(\d{1,3})\s*(d|day|days|w|wk|week|weeks)$")
_ZH_IN_N = re.compile(r"^(\d{1,3})\s*(天|周|星期|个星期)后$")


def _zh_weekday(text: str) -> int | None:
    for prefix in _ZH_WEEK_PREFIX:
        if text.startswith(prefix) and text[len(prefix) :] in _WEEKDAYS_ZH:
            return _WEEKDAYS_ZH[text[len(prefix) :]]
    return None


def _coming(today: date, weekday: int) -> date:
    return today + timedelta(days=(weekday - today.weekday()) % 7)


def _next_week(today: date, weekday: int) -> date:
    monday_next = today - timedelta(days=today.weekday()) + timedelta(days=7)
    return monday_next + timedelta(days=weekday)


def _this_week(today: date, weekday: int) -> date:
    return today - timedelta(days=today.weekday()) + timedelta(days=weekday)


def parse_date(text: str, *, today: date) -> date:
    """Read a date; raise :class:`UserError` naming the text when it is not one."""
    raw = text.strip()
    value = raw.lower().replace("_", " ")
    for pattern in (_ISO, _SLASHED):
        match = pattern.match(value)
        if match:
            year, month, day = (int(g) for g in match.groups())
            try:
                return date(year, month, day)
            except ValueError:
                raise UserError(N_("%(text)s is not a real date."), text=raw, field="due") from None
    if value in _RELATIVE_EN:
        return today + timedelta(days=_RELATIVE_EN[value])
    if value in _RELATIVE_ZH:
        return today + timedelta(days=_RELATIVE_ZH[value])
    if value in _WEEKDAYS_EN:
        return _coming(today, _WEEKDAYS_EN[value])
    words = value.split()
    if len(words) == 2 and words[1] in _WEEKDAYS_EN:
        if words[0] == "next":
            return _next_week(today, _WEEKDAYS_EN[words[1]])
        if words[0] == "this":
            return _this_week(today, _WEEKDAYS_EN[words[1]])
    if value in ("next week",):
        return _next_week(today, 0)
    compact = value.replace(" ", "")
    match = _IN_N.match(compact) or _IN_N.match(value)
    if match:
        amount = int(match.group(1))
        return today + timedelta(days=amount * (7 if match.group(2).startswith("w") else 1))
    match = _ZH_IN_N.match(compact)
    if match:
        amount = int(match.group(1))
        return today + timedelta(days=amount * (1 if match.group(2) == "天" else 7))
    for prefix, pick in (("下下", None), ("下", _next_week), ("本", _this_week), ("这", _this_week)):
        if compact.startswith(prefix):
            weekday = _zh_weekday(compact[len(prefix) :])
            if weekday is not None:
                if pick is None:
                    return _next_week(today, weekday) + timedelta(days=7)
                return pick(today, weekday)
    weekday = _zh_weekday(compact)
    if weekday is not None:
        return _coming(today, weekday)
    raise UserError(
        N_("I can't read %(text)s as a date. Try 2026-12-01, tomorrow, friday, next friday or 下周五."),
        text=raw,
        field="due",
    )
