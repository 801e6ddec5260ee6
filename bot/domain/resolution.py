"""When an issue was resolved, and how long it took: one rule for the digest and the retrospective.

An issue is resolved when it moves to ``resolved`` (its reporter closes it afterwards): its
resolution time runs from logging to that move, the latest one when it was reopened and resolved
again. An issue closed as it stood, without passing through ``resolved``, counts as resolved when
it was closed. An issue open again (reopened) has no resolution.
"""

from __future__ import annotations

import statistics
from collections.abc import Collection, Iterable
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.domain.statuses import IssueStatus
from storage.models import HistoryEntry

RESOLVED = IssueStatus.RESOLVED
CLOSED = IssueStatus.CLOSED


def resolved_moves(
    session: Session, project_ids: Collection[int], *, since: datetime | None = None
) -> dict[tuple[int, str], datetime]:
    """The latest move of each record to ``resolved`` (at or after ``since``), by (project id, key). One query."""
    if not project_ids:
        return {}
    query = select(HistoryEntry.project_id, HistoryEntry.record_key, HistoryEntry.at).where(
        HistoryEntry.project_id.in_(project_ids),
        HistoryEntry.field == "status",
        HistoryEntry.new == RESOLVED,
    )
    if since is not None:
        query = query.where(HistoryEntry.at >= since)
    moves: dict[tuple[int, str], datetime] = {}
    for project_id, key, at in session.execute(query):
        if (project_id, key) not in moves or at > moves[(project_id, key)]:
            moves[(project_id, key)] = at
    return moves


def resolved_at(status: str, closed_at: datetime | None, moved: datetime | None) -> datetime | None:
    """When an issue in ``status`` was resolved, given its latest move to ``resolved`` (None if none)."""
    if status == RESOLVED:
        return moved
    if status == CLOSED:
        if moved is not None and (closed_at is None or moved <= closed_at):
            return moved
        return closed_at
    return None


def median_duration(durations: Iterable[timedelta]) -> timedelta | None:
    values = [d.total_seconds() for d in durations]
    return timedelta(seconds=statistics.median(values)) if values else None
