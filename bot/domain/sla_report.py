"""The weekly digest's service-level figures: attainment and median first response (business minutes).

Attainment = targets met ÷ targets due in the week (a target is due in the week when its due time falls in
``[week_start, slot)``; it is met when it was reached by then and no breach was stored for it). The median
first response counts the business minutes from the customer's message to the first response, for first
responses given in the week.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from statistics import median

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from bot.domain.business_hours import business_minutes_between
from bot.domain.service_levels import FIRST_RESPONSE, RESOLUTION, STOPPED, calendar
from storage.models import Kind, Project, Record


@dataclass(frozen=True)
class ServiceLevelWeek:
    met: int
    due: int
    # Median business minutes to the first response (None: no first response this week).
    median_first_response: float | None
    responses: int

    @property
    def attainment(self) -> float | None:
        return self.met / self.due if self.due else None


def service_level_weeks(
    session: Session, windows: Sequence[tuple[Project, datetime, datetime]]
) -> dict[int, ServiceLevelWeek]:
    """Per project id, the figures of its week ``[start, end)``; projects with nothing to tell are left out."""
    found: dict[int, ServiceLevelWeek] = {}
    if not windows:
        return found
    by_id = {project.id: (project, start, end) for project, start, end in windows}
    earliest = min(start for _, start, _ in windows)
    rows = session.scalars(
        select(Record).where(
            Record.project_id.in_(by_id),
            Record.kind == Kind.ISSUE,
            Record.deleted_at.is_(None),
            Record.sla_start.is_not(None),
            or_(
                Record.first_response_due >= earliest,
                Record.resolution_due >= earliest,
                Record.first_response_at >= earliest,
            ),
        )
    )
    tallies: dict[int, tuple[int, int, list[float]]] = {}
    for record in rows:
        project, start, end = by_id[record.project_id]
        met, due, minutes = tallies.get(project.id, (0, 0, []))
        breached = set(record.sla_breached or [])
        resolved = record.resolved_at if record.status in STOPPED else None
        for target, deadline, done in (
            (FIRST_RESPONSE, record.first_response_due, record.first_response_at),
            (RESOLUTION, record.resolution_due, resolved),
        ):
            if deadline is None or not start <= deadline < end:
                continue
            due += 1
            if done is not None and done <= deadline and target not in breached:
                met += 1
        answered = record.first_response_at
        if answered is not None and record.sla_start is not None and start <= answered < end:
            minutes.append(business_minutes_between(calendar(project), record.sla_start, answered))
        tallies[project.id] = (met, due, minutes)
    for project_id, (met, due, minutes) in tallies.items():
        if due or minutes:
            found[project_id] = ServiceLevelWeek(
                met=met, due=due, median_first_response=median(minutes) if minutes else None,
                responses=len(minutes),
            )  # fmt: skip
    return found
