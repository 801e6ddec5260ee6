"""When scheduled things are due, in each project's or person's own time zone (DST-safe)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo


def parse_hhmm(value: str) -> time:
    hours, _, minutes = value.partition(":")
    return time(int(hours), int(minutes or 0))


def local_at(day: date, at: time, timezone: str) -> datetime:
    """``day`` at ``at`` on the wall clock of ``timezone`` (zoneinfo resolves DST)."""
    return datetime.combine(day, at, tzinfo=ZoneInfo(timezone))


def latest_weekly_slot(now: datetime, timezone: str, weekday: int, at: str) -> datetime:
    """The most recent ``weekday`` at ``at`` (local) at or before ``now``."""
    local = now.astimezone(ZoneInfo(timezone))
    day = local.date() - timedelta(days=(local.weekday() - weekday) % 7)
    slot = local_at(day, parse_hhmm(at), timezone)
    if slot > now:
        slot = local_at(day - timedelta(days=7), parse_hhmm(at), timezone)
    return slot


def latest_daily_slot(
    now: datetime, timezone: str, at: str, weekdays: tuple[int, ...] = (0, 1, 2, 3, 4)
) -> datetime | None:
    """The most recent slot at ``at`` on one of ``weekdays`` at or before ``now`` (within a week)."""
    local = now.astimezone(ZoneInfo(timezone))
    for back in range(8):
        day = local.date() - timedelta(days=back)
        if day.weekday() not in weekdays:
            continue
        slot = local_at(day, parse_hhmm(at), timezone)
        if slot <= now:
            return slot
    return None


def is_due(slot: datetime | None, now: datetime, grace: timedelta) -> bool:
    """Due from the slot until the grace window closes (a slot missed while down is still sent, once)."""
    return slot is not None and slot <= now < slot + grace


def iso_week(slot: datetime) -> str:
    year, week, _ = slot.isocalendar()
    return f"{year}-W{week:02d}"
