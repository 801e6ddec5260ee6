"""The project KPIs, each computed by one function: on-time rate, resolution time, risk exposure, satisfaction.

Pure functions over values already loaded (no session), so that ``/project status``, the
weekly digest (many projects at once), the retrospective and the chart all count alike
whatever queries brought their rows. The window a figure covers (the digest's last
90 days, the retrospective's whole project) is the caller's: it passes the rows that fall in it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo

from bot.domain.resolution import median_duration


@dataclass(frozen=True)
class OnTime:
    """Tasks done that had a due date, and how many of them were done on or before it."""

    on_time: int
    with_due_date: int

    @property
    def rate(self) -> float | None:
        return self.on_time / self.with_due_date if self.with_due_date else None


def done_on_time(closed_at: datetime, due_date: date, zone: tzinfo) -> bool:
    """A task done on or before its due date: the day it was done, in the project's time zone."""
    return closed_at.astimezone(zone).date() <= due_date


def on_time(done: Iterable[tuple[datetime, date]], zone: tzinfo) -> OnTime:
    """The on-time figure of tasks done with a due date, given as (when done, due date)."""
    flags = [done_on_time(closed_at, due_date, zone) for closed_at, due_date in done]
    return OnTime(on_time=sum(flags), with_due_date=len(flags))


@dataclass(frozen=True)
class ResolutionTime:
    """How many issues were resolved, and the median time from logging to resolution."""

    resolved: int
    median: timedelta | None


def resolution_time(issues: Iterable[tuple[datetime, datetime]]) -> ResolutionTime:
    """The resolution figure of issues given as (logged at, resolved at) (see :mod:`bot.domain.resolution`)."""
    durations = [resolved - created for created, resolved in issues]
    return ResolutionTime(resolved=len(durations), median=median_duration(durations))


def risk_score(probability: int | None, impact: int | None) -> int | None:
    """A risk's score: probability times impact, None until both are set."""
    if probability is None or impact is None:
        return None
    return probability * impact


@dataclass(frozen=True)
class Exposure:
    """The sum of the open risks' scores (unscored risks count 0), and how many risks are open."""

    score: int
    open_risks: int


def risk_exposure(open_risks: Iterable[tuple[int | None, int | None]]) -> Exposure:
    """The exposure of open risks given as (probability, impact)."""
    scores = [risk_score(probability, impact) or 0 for probability, impact in open_risks]
    return Exposure(score=sum(scores), open_risks=len(scores))


def satisfaction_at(history: Sequence[tuple[datetime, float]], at: datetime | None = None) -> float | None:
    """The satisfaction KPI: the average score of the latest survey closed at or before ``at``.

    ``history`` is (closed at, average score) of closed surveys with answers, oldest first
    (:func:`bot.domain.surveys.satisfaction_history`); ``at`` None means the latest of all.
    """
    return next((score for closed, score in reversed(history) if at is None or closed <= at), None)


@dataclass(frozen=True)
class IssueSatisfaction:
    """Issue satisfaction: the average of the answers to resolved issues' cards, and how many there are."""

    average: float | None
    count: int


def issue_satisfaction(
    answers: Iterable[tuple[datetime, int]], *, before: datetime | None = None
) -> IssueSatisfaction:
    """The figure from answers given as (answered at, score), counting those given up to ``before``."""
    scores = [score for at, score in answers if before is None or at <= before]
    return IssueSatisfaction(average=sum(scores) / len(scores) if scores else None, count=len(scores))
