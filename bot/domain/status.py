"""``/project status``: a live snapshot of one project — open and overdue work, workload, top risks.

Five queries whatever the number of records: the project, open records counted
per kind, open tasks and issues summed per assignee, the top risks, and who is asking.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import ColumnElement, and_, case, func, or_, select
from sqlalchemy.orm import Session

from bot.domain.errors import N_, UserError
from bot.domain.people import get_person
from bot.domain.records import project_today
from bot.domain.statuses import LIFECYCLES
from bot.domain.views import ProjectView
from storage.models import Kind, Project, Record

# A person is overloaded above either limit (open tasks and issues assigned to them).
OVERLOAD_HOURS = 40.0
OVERLOAD_ITEMS = 10
TOP_RISKS = 5
KIND_ORDER = (Kind.REQUIREMENT, Kind.ISSUE, Kind.TASK, Kind.RISK)


@dataclass(frozen=True)
class KindCount:
    kind: Kind
    open: int
    overdue: int


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
class RiskLine:
    key: str
    title: str
    status: str
    probability: int | None
    impact: int | None
    owner_id: str | None

    @property
    def score(self) -> int | None:
        if self.probability is None or self.impact is None:
            return None
        return self.probability * self.impact


@dataclass(frozen=True)
class StatusSnapshot:
    project: ProjectView
    # "Today" in the project's time zone: a due date before it is overdue.
    today: date
    counts: tuple[KindCount, ...]  # one per kind, in KIND_ORDER
    workload: tuple[Workload, ...]  # busiest first
    # Open tasks and issues nobody is assigned to.
    unassigned: int
    top_risks: tuple[RiskLine, ...]  # highest score first, at most TOP_RISKS
    # False when the viewer is known to be from another organisation (a customer in a
    # Slack Connect channel): workload and risks are the team's internal business.
    internal: bool = True

    @property
    def open_total(self) -> int:
        return sum(c.open for c in self.counts)

    @property
    def overdue_total(self) -> int:
        return sum(c.overdue for c in self.counts)


def open_condition(kinds: tuple[Kind, ...] = KIND_ORDER) -> ColumnElement[bool]:
    """Records that are not deleted and in one of their kind's open statuses (a resolved issue included)."""
    return and_(
        Record.deleted_at.is_(None),
        or_(*(and_(Record.kind == kind.value, Record.status.in_(LIFECYCLES[kind].open)) for kind in kinds)),
    )


def project_status(
    session: Session, *, team_id: str, project_id: int, now: datetime, viewer_id: str | None = None
) -> StatusSnapshot:
    project = session.get(Project, project_id)
    if project is None or project.team_id != team_id:
        raise UserError(N_("That project no longer exists."))
    today = project_today(project.timezone, now)
    mine = and_(Record.team_id == team_id, Record.project_id == project.id)
    overdue = case((and_(Record.due_date.is_not(None), Record.due_date < today), 1), else_=0)

    per_kind = {
        kind: (int(opened), int(late or 0))
        for kind, opened, late in session.execute(
            select(Record.kind, func.count(), func.sum(overdue))
            .where(mine, open_condition())
            .group_by(Record.kind)
        )
    }
    counts = tuple(KindCount(kind, *per_kind.get(kind.value, (0, 0))) for kind in KIND_ORDER)

    people: dict[str | None, dict[str, float]] = {}
    for assignee, kind, number, hours in session.execute(
        select(
            Record.assignee_id, Record.kind, func.count(), func.sum(func.coalesce(Record.estimate_hours, 0))
        )
        .where(mine, open_condition((Kind.TASK, Kind.ISSUE)))
        .group_by(Record.assignee_id, Record.kind)
    ):
        row = people.setdefault(assignee, {"task": 0, "issue": 0, "hours": 0.0})
        row[kind] += int(number)
        if kind == Kind.TASK:
            row["hours"] += float(hours or 0)
    unassigned = people.pop(None, {"task": 0, "issue": 0})
    workload = sorted(
        (
            Workload(
                user_id=str(user_id),
                tasks=int(row["task"]),
                issues=int(row["issue"]),
                estimate_hours=round(row["hours"], 2),
            )
            for user_id, row in people.items()
        ),
        key=lambda w: (-w.open_items, -w.estimate_hours, w.user_id),
    )

    score = func.coalesce(Record.probability * Record.impact, 0)
    risks = session.execute(
        select(Record.key, Record.title, Record.status, Record.probability, Record.impact, Record.assignee_id)
        .where(mine, open_condition((Kind.RISK,)))
        .order_by(score.desc(), Record.seq)
        .limit(TOP_RISKS)
    )
    return StatusSnapshot(
        project=ProjectView.of(project),
        today=today,
        counts=counts,
        workload=tuple(workload),
        unassigned=int(unassigned["task"] + unassigned["issue"]),
        top_risks=tuple(RiskLine(*row) for row in risks),
        internal=not _is_external(session, team_id=team_id, user_id=viewer_id),
    )


def _is_external(session: Session, *, team_id: str, user_id: str | None) -> bool:
    if user_id is None:
        return False
    person = get_person(session, team_id=team_id, user_id=user_id)
    return bool(person and person.is_external)
