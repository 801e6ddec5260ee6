"""Business-hours arithmetic: a table of cases (overnight, holidays, weekends, DST in three zones)."""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo
from zoneinfo import ZoneInfo

import pytest

from bot.domain.business_hours import (
    add_business_minutes,
    business_minutes_between,
    calendar_of,
    check_business_hours,
    parse_business_hours,
    parse_holidays,
)
from bot.domain.errors import UserError

BER, NY, SH = ZoneInfo("Europe/Berlin"), ZoneInfo("America/New_York"), ZoneInfo("Asia/Shanghai")
STD = "Mon-Fri 09:00-18:00"


def at(zone: tzinfo, year: int, month: int, day: int, hour: int, minute: int) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=zone)


# (hours, holidays, zone, start, minutes to add, expected instant)
ADD_CASES = [
    # Same day, and into the next day.
    (STD, [], "UTC", at(UTC, 2026, 12, 1, 10, 0), 60, at(UTC, 2026, 12, 1, 11, 0)),
    (STD, [], "UTC", at(UTC, 2026, 12, 1, 17, 0), 120, at(UTC, 2026, 12, 2, 10, 0)),
    # Before opening: the clock waits for 09:00; after closing: for the next morning.
    (STD, [], "UTC", at(UTC, 2026, 12, 1, 6, 0), 30, at(UTC, 2026, 12, 1, 9, 30)),
    (STD, [], "UTC", at(UTC, 2026, 12, 1, 20, 0), 30, at(UTC, 2026, 12, 2, 9, 30)),
    # Weekend skipped: Friday 17:00 + 2 h → Monday 10:00.
    (STD, [], "UTC", at(UTC, 2026, 12, 4, 17, 0), 120, at(UTC, 2026, 12, 7, 10, 0)),
    # Zero minutes: the start itself, even outside hours.
    (STD, [], "UTC", at(UTC, 2026, 12, 5, 3, 0), 0, at(UTC, 2026, 12, 5, 3, 0)),
    # Holiday (Christmas, a Friday) removes that day: Thursday 17:00 + 2 h → Monday 10:00.
    (STD, ["2026-12-25"], "UTC", at(UTC, 2026, 12, 24, 17, 0), 120, at(UTC, 2026, 12, 28, 10, 0)),
    # Europe/Berlin spring forward (Sunday 29 March 2026): Friday 17:00 CET + 2 h → Monday 10:00 CEST.
    (STD, [], "Europe/Berlin", at(BER, 2026, 3, 27, 17, 0), 120, at(BER, 2026, 3, 30, 10, 0)),
    # Europe/Berlin fall back (Sunday 25 October 2026).
    (STD, [], "Europe/Berlin", at(BER, 2026, 10, 23, 17, 30), 60, at(BER, 2026, 10, 26, 9, 30)),
    # Overnight Saturday range across the spring change: 22:00 CET → 06:00 CEST lasts 7 real hours.
    ("Sat 22:00-06:00", [], "Europe/Berlin", at(BER, 2026, 3, 28, 22, 0), 7 * 60, at(BER, 2026, 3, 29, 6, 0)),
    # … and 9 real hours across the autumn change.
    ("Sat 22:00-06:00", [], "Europe/Berlin", at(BER, 2026, 10, 24, 22, 0), 9 * 60, at(BER, 2026, 10, 25, 6, 0)),
    # America/New_York: Friday before the spring change (8 March 2026) and the autumn one (1 November).
    (STD, [], "America/New_York", at(NY, 2026, 3, 6, 17, 0), 120, at(NY, 2026, 3, 9, 10, 0)),
    (STD, [], "America/New_York", at(NY, 2026, 10, 30, 17, 0), 120, at(NY, 2026, 11, 2, 10, 0)),
    # Asia/Shanghai (no DST): hours are Shanghai's, whatever the start's offset.
    (STD, [], "Asia/Shanghai", at(UTC, 2026, 12, 4, 9, 0), 120, at(SH, 2026, 12, 7, 10, 0)),
    # Overnight weekday ranges belong to their start day: Friday 23:00 + 6 h → Saturday 05:00.
    ("Mon-Fri 22:00-06:00", [], "UTC", at(UTC, 2026, 12, 4, 23, 0), 360, at(UTC, 2026, 12, 5, 5, 0)),
    # Friday a holiday: its night is gone too; next window is Monday 22:00.
    ("Mon-Fri 22:00-06:00", ["2026-12-04"], "UTC", at(UTC, 2026, 12, 4, 23, 0), 60, at(UTC, 2026, 12, 7, 23, 0)),
    # Started inside last night's range (Saturday 01:00 belongs to Friday's).
    ("Mon-Fri 22:00-06:00", [], "UTC", at(UTC, 2026, 12, 5, 1, 0), 300, at(UTC, 2026, 12, 5, 6, 0)),
    # Several ranges, overlapping ones merged (08:00-14:00 on Monday).
    ("Mon 08:00-12:00, Mon 10:00-14:00", [], "UTC", at(UTC, 2026, 11, 30, 8, 0), 360, at(UTC, 2026, 11, 30, 14, 0)),
    # A wrapping day range Fri-Mon; round the clock.
    ("Fri-Mon 10:00-12:00", [], "UTC", at(UTC, 2026, 12, 1, 10, 0), 120, at(UTC, 2026, 12, 4, 12, 0)),
    ("Mon-Sun 00:00-24:00", [], "UTC", at(UTC, 2026, 12, 1, 10, 0), 48 * 60, at(UTC, 2026, 12, 3, 10, 0)),
]  # fmt: skip


@pytest.mark.parametrize(("hours", "holidays", "zone", "start", "minutes", "expected"), ADD_CASES)
def test_add_business_minutes(
    hours: str, holidays: list[str], zone: str, start: datetime, minutes: int, expected: datetime
) -> None:
    calendar = calendar_of(hours, holidays, zone)
    assert add_business_minutes(calendar, start, minutes) == expected
    if minutes:
        assert business_minutes_between(calendar, start, expected) == pytest.approx(minutes)


# (hours, holidays, zone, start, end, business minutes)
BETWEEN_CASES = [
    (STD, [], "UTC", at(UTC, 2026, 12, 1, 8, 0), at(UTC, 2026, 12, 1, 20, 0), 540),
    (STD, [], "UTC", at(UTC, 2026, 12, 4, 12, 0), at(UTC, 2026, 12, 7, 12, 0), 540),  # over a weekend
    (STD, [], "UTC", at(UTC, 2026, 12, 5, 12, 0), at(UTC, 2026, 12, 6, 12, 0), 0),  # Saturday to Sunday
    (STD, [], "UTC", at(UTC, 2026, 12, 7, 12, 0), at(UTC, 2026, 12, 4, 12, 0), 0),  # reversed
    (STD, ["2026-12-07"], "UTC", at(UTC, 2026, 12, 4, 12, 0), at(UTC, 2026, 12, 8, 12, 0), 540),
    # A whole Sunday in New York is 23 h at the spring change and 25 h at the autumn one.
    ("Sun 00:00-24:00", [], "America/New_York", at(NY, 2026, 3, 8, 0, 0), at(NY, 2026, 3, 9, 0, 0), 23 * 60),
    ("Sun 00:00-24:00", [], "America/New_York", at(NY, 2026, 11, 1, 0, 0), at(NY, 2026, 11, 2, 0, 0), 25 * 60),
    # A Berlin working day is 540 minutes on either side of the change.
    (STD, [], "Europe/Berlin", at(BER, 2026, 3, 27, 0, 0), at(BER, 2026, 3, 31, 0, 0), 2 * 540),
]  # fmt: skip


@pytest.mark.parametrize(("hours", "holidays", "zone", "start", "end", "expected"), BETWEEN_CASES)
def test_business_minutes_between(
    hours: str, holidays: list[str], zone: str, start: datetime, end: datetime, expected: int
) -> None:
    assert business_minutes_between(calendar_of(hours, holidays, zone), start, end) == pytest.approx(expected)


def test_grammar_accepts_and_normalises() -> None:
    assert (
        check_business_hours("  mon-fri   9:00-18:00 ,Sat 10:00-14:00")
        == "mon-fri 9:00-18:00, Sat 10:00-14:00"
    )
    week = parse_business_hours("Fri-Mon 22:00-06:00")
    assert week[4] == ((1320, 1800),) and week[0] == ((1320, 1800),) and week[2] == ()
    assert parse_business_hours("Sun 00:00-24:00")[6] == ((0, 1440),)


@pytest.mark.parametrize(
    "text", ["", "Mon-Fri", "Mon-Fri 9-18", "Funday 09:00-10:00", "Mon 25:00-26:00", "Mon 09:60-10:00",
             "Mon 09:00-24:30", "Mon-Fri 09:00-18:00,", "每天 09:00-18:00"],
)  # fmt: skip
def test_grammar_refuses_with_the_bad_part(text: str) -> None:
    with pytest.raises(UserError) as caught:
        check_business_hours(text)
    assert caught.value.field == "business_hours"
    assert "Day[-Day] HH:MM-HH:MM" in caught.value.message


def test_holidays() -> None:
    assert parse_holidays(" 2026-12-25, 2026-01-01,2026-12-25 ,") == ["2026-01-01", "2026-12-25"]
    with pytest.raises(UserError) as caught:
        parse_holidays("2026-12-25, 25/12/2026")
    assert caught.value.params["value"] == "25/12/2026" and caught.value.field == "holidays"
