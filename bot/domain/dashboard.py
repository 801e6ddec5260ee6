"""A person's dashboard (App Home): their open work across the workspace's active projects.

Five queries whatever the number of records or projects: active projects, the
person's open records, their memberships, the projects they have worked in, their
preferences.

A person is part of a project when they own it or are one of its customer contacts,
and also when they have worked in it: a record of it is (or was) assigned to them, or
they logged or requested one. An engineer whose work there is all done is still on the
project; "My projects" must not tell them otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from bot.domain.people import wants_assignment_dms
from bot.domain.records import project_today
from bot.domain.statuses import LIFECYCLES
from bot.domain.views import ProjectView, RecordView
from storage.models import Kind, MemberRole, Priority, Project, ProjectMember, ProjectStatus, Record

_PRIORITY_RANK: dict[str, int] = {Priority.CRITICAL: 0, Priority.HIGH: 1, Priority.MEDIUM: 2, Priority.LOW: 3}


@dataclass(frozen=True)
class ProjectEntry:
    """A project the person belongs to, with their part in it."""

    project: ProjectView
    roles: tuple[str, ...]  # MemberRole values; empty when they only have records assigned
    open_items: int  # their open records in it (requirements included)


@dataclass(frozen=True)
class Dashboard:
    team_id: str
    user_id: str
    # Open tasks and issues assigned to the person, overdue ones included (most urgent first).
    tasks: tuple[RecordView, ...]
    issues: tuple[RecordView, ...]
    # The keys among ``tasks`` and ``issues`` past their due date in their project's time zone.
    overdue_keys: frozenset[str]
    # Open risks the person owns, highest score first.
    risks: tuple[RecordView, ...]
    projects: tuple[ProjectEntry, ...]
    notify_assignments: bool
    # Each project's "today" when the dashboard was built, by project id.
    today: dict[int, date]

    @property
    def overdue(self) -> tuple[RecordView, ...]:
        """Overdue tasks and issues, the longest overdue first."""
        items = [r for r in (*self.tasks, *self.issues) if r.key in self.overdue_keys]
        return tuple(sorted(items, key=_urgency))

    def days_overdue(self, record: RecordView) -> int:
        today = self.today.get(record.project_id)
        if record.due_date is None or today is None:
            return 0
        return max((today - record.due_date).days, 0)


def _urgency(record: RecordView) -> tuple[bool, date, int, str, int]:
    return (
        record.due_date is None,
        record.due_date or date.max,
        _PRIORITY_RANK.get(record.priority, 2),
        record.project_key,
        record.id,
    )


def _risk_order(record: RecordView) -> tuple[int, int, str, int]:
    return (
        -(record.score or 0),
        _PRIORITY_RANK.get(Priority(record.priority), 2),
        record.project_key,
        record.id,
    )


def _today(timezone: str, now: datetime) -> date:
    try:
        return project_today(timezone, now)
    except (ZoneInfoNotFoundError, ValueError):
        return now.astimezone(ZoneInfo("UTC")).date()


def _open_status() -> object:
    return or_(
        *(and_(Record.kind == kind.value, Record.status.in_(lc.open)) for kind, lc in LIFECYCLES.items())
    )


def dashboard(session: Session, *, team_id: str, user_id: str, now: datetime) -> Dashboard:
    """What ``user_id`` has on their plate in workspace ``team_id`` at ``now``."""
    projects = {
        p.id: p
        for p in session.scalars(
            select(Project)
            .where(Project.team_id == team_id, Project.status == ProjectStatus.ACTIVE)
            .order_by(Project.key)
        )
    }
    records: list[Record] = []
    memberships: list[ProjectMember] = []
    worked_in: set[int] = set()
    if projects:
        records = list(
            session.scalars(
                select(Record).where(
                    Record.team_id == team_id,
                    Record.project_id.in_(projects),
                    Record.assignee_id == user_id,
                    Record.deleted_at.is_(None),
                    _open_status(),  # type: ignore[arg-type]
                )
            )
        )
        memberships = list(
            session.scalars(
                select(ProjectMember).where(
                    ProjectMember.team_id == team_id,
                    ProjectMember.user_id == user_id,
                    ProjectMember.project_id.in_(projects),
                    ProjectMember.role.in_([MemberRole.OWNER, MemberRole.CUSTOMER_CONTACT]),
                )
            )
        )
        worked_in = set(
            session.scalars(
                select(Record.project_id)
                .distinct()
                .where(
                    Record.team_id == team_id,
                    Record.project_id.in_(projects),
                    Record.deleted_at.is_(None),
                    or_(
                        Record.assignee_id == user_id,
                        Record.created_by == user_id,
                        Record.requester_id == user_id,
                    ),
                )
            )
        )
    today = {pid: _today(p.timezone, now) for pid, p in projects.items()}
    views = [RecordView.of(r, projects[r.project_id], now=now) for r in records]
    tasks = tuple(sorted((v for v in views if v.kind is Kind.TASK), key=_urgency))
    issues = tuple(sorted((v for v in views if v.kind is Kind.ISSUE), key=_urgency))
    risks = tuple(sorted((v for v in views if v.kind is Kind.RISK), key=_risk_order))
    overdue = frozenset(
        v.key for v in (*tasks, *issues) if v.due_date is not None and v.due_date < today[v.project_id]
    )
    roles: dict[int, list[str]] = {}
    for member in memberships:
        roles.setdefault(member.project_id, [])
        if member.role not in roles[member.project_id]:
            roles[member.project_id].append(member.role)
    counts: dict[int, int] = {}
    for view in views:
        counts[view.project_id] = counts.get(view.project_id, 0) + 1
    entries = tuple(
        ProjectEntry(
            project=ProjectView.of(project),
            roles=tuple(sorted(roles.get(pid, []))),
            open_items=counts.get(pid, 0),
        )
        for pid, project in projects.items()
        if pid in roles or pid in counts or pid in worked_in
    )
    return Dashboard(
        team_id=team_id,
        user_id=user_id,
        tasks=tasks,
        issues=issues,
        overdue_keys=overdue,
        risks=risks,
        projects=entries,
        notify_assignments=wants_assignment_dms(session, team_id=team_id, user_id=user_id),
        today=today,
    )
