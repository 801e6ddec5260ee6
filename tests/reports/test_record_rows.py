"""How the reports' shared records query reads a stored instant (:mod:`bot.domain.record_rows`)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from bot.domain.record_rows import _instant, utc

STORED = datetime(2026, 11, 7, 10, 30, 0, 120000, tzinfo=UTC)


@pytest.mark.parametrize(
    "raw",
    [
        "2026-11-07 10:30:00.120000",  # SQLite: naive UTC text, as UTCDateTime stores it
        "2026-11-07T10:30:00.120000",
        datetime(2026, 11, 7, 10, 30, 0, 120000),  # a driver's naive datetime
        datetime(2026, 11, 7, 18, 30, 0, 120000, tzinfo=timezone(timedelta(hours=8))),  # PostgreSQL's, aware
    ],
)
def test_a_stored_instant_is_read_as_the_same_aware_utc_datetime(raw: datetime | str) -> None:
    for read in (_instant(raw), utc(raw)):
        assert read == STORED
        assert read.tzinfo is UTC  # the same zone object as every other instant the reports compare


def test_text_that_carries_its_own_offset_is_read_as_before() -> None:
    # The fast path appends "+00:00"; text with an offset of its own takes the old reading (offset replaced).
    assert _instant("2026-11-07 10:30:00+08:00") == datetime(2026, 11, 7, 10, 30, tzinfo=UTC)
    assert _instant(None) is None
