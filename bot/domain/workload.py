"""Workload: the open tasks and issues per person, and who is overloaded (one rule for status and digest).

A pure function over counts already loaded, so ``/project status`` (counted by the database)
and the weekly digest (counted from its rows) rank people alike.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from storage.models import Kind

# A person is overloaded above either limit (open tasks and issues assigned to them).
OVERLOAD_HOURS = 40.0
OVERLOAD_ITEMS = 10


@dataclass(frozen=True)
class Workload:
    """Open tasks and issues assigned to one person."""

    user_id: str
    tasks: int
    issues: int
    estimate_hours: float

    @property
    def open_items(self) -> int:
        return self.tasks + self.issues

    @property
    def overloaded(self) -> bool:
        return self.estimate_hours > OVERLOAD_HOURS or self.open_items > OVERLOAD_ITEMS


@dataclass(frozen=True)
class Workloads:
    people: tuple[Workload, ...]  # busiest first
    unassigned: int  # open tasks and issues nobody is assigned to


def workload(open_work: Iterable[tuple[str | None, str, int, float | None]]) -> Workloads:
    """Workload from open tasks and issues given as (assignee, kind, how many, their estimate hours).

    Several entries may name the same person and kind (one per record, or one per group); only
    tasks' estimates count.
    """
    people: dict[str | None, dict[str, float]] = {}
    for assignee, kind, number, hours in open_work:
        row = people.setdefault(assignee, {Kind.TASK.value: 0, Kind.ISSUE.value: 0, "hours": 0.0})
        row[kind] += int(number)
        if kind == Kind.TASK:
            row["hours"] += float(hours or 0)
    unassigned = people.pop(None, {Kind.TASK.value: 0, Kind.ISSUE.value: 0})
    ranked = sorted(
        (
            Workload(
                user_id=str(user_id),
                tasks=int(row[Kind.TASK.value]),
                issues=int(row[Kind.ISSUE.value]),
                estimate_hours=round(row["hours"], 2),
            )
            for user_id, row in people.items()
        ),
        key=lambda w: (-w.open_items, -w.estimate_hours, w.user_id),
    )
    return Workloads(
        people=tuple(ranked), unassigned=int(unassigned[Kind.TASK.value] + unassigned[Kind.ISSUE.value])
    )
