"""Business-hours arithmetic (INTERFACE.md "Customers and service levels"): pure, no database.

- ``business_hours``: ``Day[-Day] HH:MM-HH:MM[, …]`` (``Mon-Fri 09:00-18:00, Sat 10:00-14:00``), in the
  project's time zone. A range whose end is not after its start crosses midnight and belongs to its start
  day (``Fri 22:00-06:00`` is Friday night into Saturday morning).
- ``holidays``: ISO dates; a holiday removes the business hours *of that day* (the ranges that start on it).
- Business minutes are real elapsed minutes inside the open windows, so DST days count what the clock on
  the wall really lasted (a 09:00-18:00 day is 540 minutes either way; a night across the change is not).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.domain.errors import N_, UserError

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DEFAULT_BUSINESS_HOURS = "Mon-Fri 09:00-18:00"
# How far the arithmetic looks for open hours before giving up (a calendar with none left).
MAX_DAYS = 3 * 366
_RANGE = re.compile(
    r"^(?P<d1>[a-z]{3})(?:\s*-\s*(?P<d2>[a-z]{3}))?\s+"
    r"(?P<h1>\d{1,2}):(?P<m1>\d{2})\s*-\s*(?P<h2>\d{1,2}):(?P<m2>\d{2})$"
)
BAD_HOURS = N_(
    "%(value)s is not a business-hours range. Write Day[-Day] HH:MM-HH:MM, several separated by commas, "
    "such as: Mon-Fri 09:00-18:00, Sat 10:00-14:00"
)
BAD_HOLIDAY = N_(
    "%(value)s is not a date. Write holidays as ISO dates separated by commas, such as 2026-12-25."
)


@dataclass(frozen=True)
class Calendar:
    """When a project works: per weekday (Monday = 0) the ranges in minutes from that day's midnight."""

    zone: ZoneInfo
    week: tuple[tuple[tuple[int, int], ...], ...]
    holidays: frozenset[date] = frozenset()

    def day_windows(self, day: date) -> list[tuple[datetime, datetime]]:
        """The open windows that belong to ``day`` (UTC instants), in order."""
        if day in self.holidays:
            return []
        windows = []
        for start, end in self.week[day.weekday()]:
            begin, finish = self._instant(day, start), self._instant(day, end)
            if finish > begin:
                windows.append((begin, finish))
        return windows

    def _instant(self, day: date, minutes: int) -> datetime:
        local = datetime.combine(day + timedelta(days=minutes // 1440), time(0), tzinfo=self.zone)
        local += timedelta(minutes=minutes % 1440)  # wall clock arithmetic; a gap resolves forward
        return local.astimezone(UTC)


def parse_business_hours(text: str | None) -> tuple[tuple[tuple[int, int], ...], ...]:
    """The week of a business-hours text (a clear refusal naming the bad part)."""
    value = (text or "").strip()
    if not value:
        raise UserError(BAD_HOURS, value="''", field="business_hours")
    week: list[list[tuple[int, int]]] = [[] for _ in DAYS]
    for part in value.split(","):
        piece = " ".join(part.strip().lower().split())
        match = _RANGE.match(piece)
        if not match or match["d1"] not in DAYS or (match["d2"] and match["d2"] not in DAYS):
            raise UserError(BAD_HOURS, value=part.strip() or "''", field="business_hours")
        h1, m1, h2, m2 = (int(match[g]) for g in ("h1", "m1", "h2", "m2"))
        if h1 > 23 or m1 > 59 or m2 > 59 or h2 > 24 or (h2 == 24 and m2):
            raise UserError(BAD_HOURS, value=part.strip(), field="business_hours")
        start, end = h1 * 60 + m1, h2 * 60 + m2
        if end <= start:
            end += 1440  # crosses midnight: belongs to its start day
        first = DAYS.index(match["d1"])
        last = DAYS.index(match["d2"]) if match["d2"] else first
        day = first
        while True:
            week[day].append((start, end))
            if day == last:
                break
            day = (day + 1) % 7
    return tuple(tuple(sorted(ranges)) for ranges in week)


def check_business_hours(text: str | None) -> str:
    """The text, normalised to single spaces, once it parses."""
    parse_business_hours(text)
    return ", ".join(" ".join(part.split()) for part in str(text).strip().split(","))


def parse_holidays(value: str | Iterable[str] | None) -> list[str]:
    """ISO dates from a comma-separated text (or a list), sorted, without repeats."""
    items = value.split(",") if isinstance(value, str) else list(value or [])
    found: set[str] = set()
    for item in items:
        text = str(item).strip()
        if not text:
            continue
        try:
            found.add(date.fromisoformat(text).isoformat())
        except ValueError:
            raise UserError(BAD_HOLIDAY, value=text, field="holidays") from None
    return sorted(found)


def calendar_of(business_hours: str | None, holidays: Iterable[str] | None, timezone: str) -> Calendar:
    """The calendar of stored settings (a bad stored text falls back to the default hours)."""
    try:
        week = parse_business_hours(business_hours)
    except UserError:
        week = parse_business_hours(DEFAULT_BUSINESS_HOURS)
    try:
        zone = ZoneInfo(timezone)
    except Exception:
        zone = ZoneInfo("UTC")
    days = set()
    for item in holidays or []:
        try:
            days.add(date.fromisoformat(str(item)))
        except ValueError:
            continue
    return Calendar(zone=zone, week=week, holidays=frozenset(days))


def windows(calendar: Calendar, since: datetime) -> Iterator[tuple[datetime, datetime]]:
    """Merged open windows (UTC) that end after ``since``, in order; stops after :data:`MAX_DAYS`."""
    day = since.astimezone(calendar.zone).date() - timedelta(days=1)  # last night's range may still run
    current: tuple[datetime, datetime] | None = None
    for offset in range(MAX_DAYS):
        for begin, end in calendar.day_windows(day + timedelta(days=offset)):
            if current is not None and begin <= current[1]:
                current = (current[0], max(current[1], end))
                continue
            if current is not None and current[1] > since:
                yield current
            current = (begin, end)
    if current is not None and current[1] > since:
        yield current


def add_business_minutes(calendar: Calendar, start: datetime, minutes: float) -> datetime:
    """The instant ``minutes`` business minutes after ``start`` (``start`` itself when zero)."""
    left = timedelta(minutes=minutes)
    if left <= timedelta(0):
        return start
    for begin, end in windows(calendar, start):
        begin = max(begin, start)
        if end - begin >= left:
            return begin + left
        left -= end - begin
    raise ValueError("no business hours left in the calendar")


def business_minutes_between(calendar: Calendar, start: datetime, end: datetime) -> float:
    """Business minutes from ``start`` to ``end`` (0 when ``end`` is not after ``start``)."""
    total = timedelta(0)
    if end <= start:
        return 0.0
    for begin, finish in windows(calendar, start):
        if begin >= end:
            break
        total += min(finish, end) - max(begin, start)
    return total.total_seconds() / 60
