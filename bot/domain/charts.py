"""The figures behind a report's chart: open versus done per week with its trend, and satisfaction.

Plain data, computed from the rows the weekly digest already reads (no query of its own): "done"
and "open" mean what they mean in the digest (:func:`bot.domain.digest.counts_as_done`, the
lifecycles' open statuses), and satisfaction is the digest's satisfaction KPI (the latest closed
survey's average) as it stood at the end of each week.

A chart is shown only once the project has existed for :data:`MIN_WEEKS` weeks; it covers the
project's weeks (its first one from its creation on), the last :data:`WEEKS` at most.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from itertools import accumulate
from typing import Any
from zoneinfo import ZoneInfo

from bot.domain.kpis import satisfaction_at

WEEK = timedelta(days=7)
# Weeks a chart covers at most, and the history a project needs before it gets one.
WEEKS = 8
MIN_WEEKS = 2


@dataclass(frozen=True)
class WeekPoint:
    label: str  # ISO week of the week's last day in the project's zone, e.g. "W45"
    open: int  # records open at the end of the week
    done: int  # records done (tasks done, issues/risks closed, requirements delivered) during the week
    trend: float  # the least-squares line through the open counts
    satisfaction: float | None  # the latest survey's average score at the end of the week


@dataclass(frozen=True)
class ChartSeries:
    weeks: tuple[WeekPoint, ...]
    # Service-level attainment per week (share of targets met). Service levels do not exist yet:
    # when they do, fill this from their one computation; the renderer draws it when it is not None.
    service_levels: tuple[float | None, ...] | None = None

    @property
    def has_satisfaction(self) -> bool:
        return any(w.satisfaction is not None for w in self.weeks)

    def as_json(self) -> dict[str, Any]:
        """What the ledger stores with the message (the chart is rendered only when it is sent)."""
        return {"weeks": [asdict(w) for w in self.weeks], "service_levels": self.service_levels}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ChartSeries:
        levels = data.get("service_levels")
        return cls(
            weeks=tuple(WeekPoint(**w) for w in data.get("weeks") or []),
            service_levels=tuple(levels) if levels is not None else None,
        )


def _trend(values: Sequence[int]) -> list[float]:
    """The least-squares line through ``values`` (one point per week), rounded for display."""
    n = len(values)
    mean_x = (n - 1) / 2
    mean_y = sum(values) / n
    spread = sum((x - mean_x) ** 2 for x in range(n))
    slope = sum((x - mean_x) * (y - mean_y) for x, y in enumerate(values)) / spread if spread else 0.0
    return [round(mean_y + slope * (x - mean_x), 2) for x in range(n)]


def _open_and_done(
    open_created: Sequence[datetime],
    closed: Sequence[Any],
    ends: Sequence[datetime],
    is_done: Callable[[Any], bool],
) -> tuple[list[int], list[int]]:
    """Per week ending at ``ends[n]`` (ascending, a week apart): the records open at its end, and done during it.

    ``open_created``: when each record open now and never closed was created: it is open at the end of every
    week ending after that (counted by bisection of the sorted instants, no loop in Python). ``closed``: rows
    with a ``closed_at``; such a row counts from the first week ending after it was created, is open at a
    week's end while it was closed only at or after that end, and done in the one week its closing falls in.
    Found by bisection, not by testing every row against every week (a thousand digests of 200 records).
    """
    weeks = len(ends)
    starts = [0] * (weeks + 1)  # opened: +1 where a row's open span starts, -1 where it stops
    done = [0] * weeks
    for row in closed:
        first = bisect_right(ends, row.created_at)  # the first week ending after the row was created
        if first == weeks:
            continue
        closed_at: datetime = row.closed_at
        last = bisect_right(ends, closed_at)  # the first week ending after it was closed
        if last > first:
            starts[first] += 1
            starts[last] -= 1
        if first <= last < weeks and ends[last] - WEEK <= closed_at and is_done(row):
            done[last] += 1
    created = sorted(open_created)
    opened = [
        spans + bisect_left(created, end) for spans, end in zip(accumulate(starts[:weeks]), ends, strict=True)
    ]
    return opened, done


def weekly_series(
    *,
    open_created: Sequence[datetime],
    closed: Sequence[Any],
    created_at: datetime,
    slot: datetime,
    timezone: str,
    is_done: Callable[[Any], bool],
    satisfaction: Sequence[tuple[datetime, float]],
) -> ChartSeries | None:
    """The weeks ending at ``slot`` (at most :data:`WEEKS`, none that ended before the project existed).

    ``open_created``: when the records open now and never closed were created; ``closed``: the rows (with
    ``created_at`` and ``closed_at``) of the records closed at some point, ``is_done`` says whether one is done
    now. Records neither open nor ever closed are in no week. None while the project is younger than
    :data:`MIN_WEEKS` weeks.
    """
    if slot - created_at < WEEK * MIN_WEEKS:
        return None
    ends = [slot - WEEK * k for k in range(WEEKS - 1, -1, -1)]
    ends = [end for end in ends if end > created_at]  # the project's first week may be partial
    zone = ZoneInfo(timezone)
    opened, done = _open_and_done(open_created, closed, ends, is_done)
    scores: list[float | None] = []
    for end in ends:
        score = satisfaction_at(satisfaction, end)
        scores.append(None if score is None else round(score, 2))
    trend = _trend(opened)
    return ChartSeries(
        weeks=tuple(
            WeekPoint(
                label=f"W{(end.astimezone(zone) - timedelta(seconds=1)).isocalendar().week:02d}",
                open=opened[n],
                done=done[n],
                trend=trend[n],
                satisfaction=scores[n],
            )
            for n, end in enumerate(ends)
        )
    )
