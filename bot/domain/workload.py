"""Workload: the open tasks and issues per person, and who is overloaded (one rule for status and digest).

A pure function over counts already loaded, so ``/project status`` (counted by the database)
and the weekly digest (counted from its rows) rank people alike.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, NamedTuple

from storage.models import Kind

# A person is overloaded above either limit (open tasks and issues assigned to them).
OVERLOAD_HOURS = 40.0
OVERLOAD_ITEMS = 10
_TASK, _ISSUE = Kind.TASK.value, Kind.ISSUE.value


class Workload(NamedTuple):
    """Open tasks and issues assigned to one person (a named tuple: a weekly run ranks tens of thousands)."""

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
    people: dict[str | None, list[Any]] = {}  # assignee → [tasks, issues, hours]
    for assignee, kind, number, hours in open_work:
        row = people.get(assignee)
        if row is None:
            row = people[assignee] = [0, 0, 0.0]
        if kind == _TASK:
            row[0] += int(number)
            row[2] += float(hours or 0)
        elif kind == _ISSUE:
            row[1] += int(number)
    unassigned = people.pop(None, [0, 0, 0.0])
    # Ranked on plain tuples (busiest first, then most hours, then the id), each person built once after.
    ranked = sorted(
        (-(tasks + issues), -round(hours, 2), str(user_id), tasks, issues)
        for user_id, (tasks, issues, hours) in people.items()
    )
    make = Workload._make
    return Workloads(
        people=tuple(make((user_id, tasks, issues, -hours)) for _, hours, user_id, tasks, issues in ranked),
        unassigned=unassigned[0] + unassigned[1],
    )
