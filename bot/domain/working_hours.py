"""Time zones and working hours, on people's own wall clocks (surveys arrive only in working hours).

Pure functions: the settings check ``AFTERCARE_SURVEY_HOURS`` with :func:`parse_working_hours` and the
survey jobs use the same, so neither imports the other.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


@lru_cache(maxsize=512)
def valid_timezone(name: str | None) -> bool:
    if not name:
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


@dataclass(frozen=True)
class WorkingHours:
    """When invitations and reminders may arrive, on the recipient's own wall clock."""

    weekdays: tuple[int, ...] = (0, 1, 2, 3, 4)  # Monday = 0
    start: time = time(9, 0)
    end: time = time(17, 0)

    def contains(self, now: datetime, timezone: str) -> bool:
        local = now.astimezone(ZoneInfo(timezone))
        return local.weekday() in self.weekdays and self.start <= local.time() < self.end


DEFAULT_WORKING_HOURS = WorkingHours()


def parse_working_hours(value: str) -> WorkingHours:
    """``"Mon-Fri 09:00-17:00"`` (or ``"0-4 09:00-17:00"``, ``"Mon,Wed 10:00-16:00"``) as :class:`WorkingHours`."""
    names = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

    def day(text: str) -> int:
        text = text.strip().lower()[:3]
        if text.isdigit() and int(text) in range(7):
            return int(text)
        if text in names:
            return names.index(text)
        raise ValueError(f"not a weekday: {text!r}")

    def clock(text: str) -> time:
        hours, _, minutes = text.strip().partition(":")
        return time(int(hours), int(minutes or 0))

    days_text, _, hours_text = value.strip().partition(" ")
    weekdays: list[int] = []
    for part in days_text.split(","):
        first, _, last = part.partition("-")
        low, high = day(first), day(last or first)
        weekdays += list(range(low, high + 1)) if low <= high else [*range(low, 7), *range(0, high + 1)]
    start_text, _, end_text = hours_text.strip().partition("-")
    start, end = clock(start_text), clock(end_text)
    if not start < end:
        raise ValueError("working hours must end after they start")
    return WorkingHours(weekdays=tuple(sorted(set(weekdays))), start=start, end=end)


def zone_of(person_timezone: str | None, project_timezone: str, default: str = "UTC") -> str:
    """The person's own time zone, else the project's, else ``default``."""
    for zone in (person_timezone, project_timezone, default):
        if valid_timezone(zone):
            return str(zone)
    return "UTC"
