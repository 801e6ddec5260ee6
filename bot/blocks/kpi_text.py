"""The KPIs as people read them, alike in the digest, the retrospective and its document."""

from __future__ import annotations

from datetime import timedelta

from bot.domain.kpis import OnTime
from bot.i18n import t


def decimal(value: float) -> str:
    """One decimal at most: ``2.5``, ``3``."""
    return f"{value:.1f}".removesuffix(".0")


def duration(value: timedelta | None, locale: str) -> str:
    """A resolution time: in hours under two days, else in days; a dash when there is none."""
    if value is None:
        return "—"
    hours = value.total_seconds() / 3600
    if hours < 48:
        return t(locale, "%(hours)s hours", hours=decimal(hours))
    return t(locale, "%(days)s days", days=decimal(hours / 24))


def on_time_text(figure: OnTime, locale: str) -> str:
    """The on-time rate: ``67% (2 of 3)``; a dash without any task done with a due date."""
    if figure.rate is None:
        return "—"
    return t(
        locale,
        "%(percent)s (%(on_time)s of %(total)s)",
        percent=f"{round(figure.rate * 100)}%",
        on_time=figure.on_time,
        total=figure.with_due_date,
    )


def score_text(score: float) -> str:
    """A satisfaction score out of 5: ``4.5 / 5``."""
    return f"{decimal(score)} / 5"


def issue_satisfaction_text(average: float | None, count: int, locale: str) -> str | None:
    """The figure "issue satisfaction": ``4.5 / 5 (2 answers)``; None before the first answer."""
    if average is None or not count:
        return None
    if count == 1:
        return t(locale, "%(average)s / 5 (1 answer)", average=decimal(average))
    return t(locale, "%(average)s / 5 (%(count)s answers)", average=decimal(average), count=count)
