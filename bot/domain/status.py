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
from bot.domain.kpis import risk_score
from bot.domain.people import get_person
from bot.domain.records import project_today
from bot.domain.statuses import LIFECYCLES
from bot.domain.views import ProjectView
from bot.domain.workload import Workload, workload
from storage.models import Kind, Project, Record

TOP_RISKS = 5
KIND_ORDER = (Kind.REQUIREMENT, Kind.ISSUE, Kind.TASK, Kind.RISK)


@dataclass(frozen=True)
class KindCount:
    kind: Kind
    open: int
    overdue: int


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
        return risk_score(self.probability, self.impact)


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

    work = workload(
        session.execute(
            select(
                Record.assignee_id,
                Record.kind,
                func.count(),
                func.sum(func.coalesce(Record.estimate_hours, 0)),
            )
            .where(mine, open_condition((Kind.TASK, Kind.ISSUE)))
            .group_by(Record.assignee_id, Record.kind)
        )
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
        workload=work.people,
        unassigned=work.unassigned,
        top_risks=tuple(RiskLine(*row) for row in risks),
        internal=not _is_external(session, team_id=team_id, user_id=viewer_id),
    )


def _is_external(session: Session, *, team_id: str, user_id: str | None) -> bool:
    if user_id is None:
        return False
    person = get_person(session, team_id=team_id, user_id=user_id)
    return bool(person and person.is_external)
