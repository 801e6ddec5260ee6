"""Overdue work: who has what overdue and what to escalate (the buttons are :mod:`bot.domain.nudge_actions`).

An open task or issue is overdue once its due date has passed in its project's
time zone. Reading the overdue work of a whole workspace takes two queries
whatever the number of people (records with their assignee's directory facts,
then the projects); the owners of projects with something to escalate take one
more. Nothing here talks to Slack.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import NamedTuple

from sqlalchemy import ColumnElement, and_, or_, select, update
from sqlalchemy.orm import Session

from bot.domain.records import project_today
from bot.domain.statuses import LIFECYCLES, Verb
from bot.domain.working_hours import valid_timezone
from storage.models import Kind, MemberRole, Person, Project, ProjectMember, ProjectStatus, Record

# The verb the "Done" button uses for each kind.
DONE_VERBS: dict[Kind, Verb] = {Kind.TASK: Verb.DONE, Kind.ISSUE: Verb.RESOLVE}
# Kinds that get nudged, and the statuses in which they are still the assignee's to do: those its "Done"
# move starts from, so the button is offered exactly where the domain accepts it. A resolved issue counts
# as open until it is closed, but it waits for its reporter, not its assignee.
NUDGE_STATUSES: dict[Kind, tuple[str, ...]] = {
    kind: tuple(s for s in LIFECYCLES[kind].statuses if s in LIFECYCLES[kind].moves[verb].start)
    for kind, verb in DONE_VERBS.items()
}
SNOOZE_DAYS = range(1, 31)
# The latest "today" anywhere on Earth is UTC+14: a cheap bound for the SQL filter.
_MAX_OFFSET = timedelta(hours=14)
_KINDS = {kind.value: kind for kind in Kind}


@dataclass(frozen=True)
class ProjectFacts:
    id: int
    team_id: str
    key: str
    name: str
    timezone: str
    locale: str
    escalate_after_days: int
    created_by: str
    today: date


@dataclass(frozen=True)
class PersonFacts:
    """What the directory cache knows of a person (all ``None`` when it does not know them)."""

    timezone: str | None = None
    locale: str | None = None
    inactive: bool = False


class OverdueItem(NamedTuple):
    """One overdue record (a named tuple: a day's nudges read tens of thousands)."""

    id: int
    team_id: str
    key: str
    kind: Kind
    title: str
    status: str
    version: int
    project_id: int
    assignee_id: str | None
    due_date: date
    escalated_for_due: date | None
    # The project's local date when the item was read.
    today: date

    @property
    def days_overdue(self) -> int:
        return (self.today - self.due_date).days


@dataclass(frozen=True)
class OverdueWork:
    """The overdue, unsnoozed open tasks and issues of active projects with nudges on."""

    projects: dict[int, ProjectFacts]
    # Longest overdue first, then by key.
    items: tuple[OverdueItem, ...]
    # Directory facts of the assignees, by (team, user).
    people: dict[tuple[str, str], PersonFacts]

    def by_assignee(self) -> dict[tuple[str, str], list[OverdueItem]]:
        grouped: dict[tuple[str, str], list[OverdueItem]] = {}
        for item in self.items:
            if item.assignee_id:
                grouped.setdefault((item.team_id, item.assignee_id), []).append(item)
        return grouped

    def to_escalate(self) -> dict[int, list[OverdueItem]]:
        """Per project: items overdue longer than its threshold and not yet escalated for this due date."""
        grouped: dict[int, list[OverdueItem]] = {}
        for item in self.items:
            project = self.projects[item.project_id]
            if item.days_overdue > project.escalate_after_days and item.escalated_for_due != item.due_date:
                grouped.setdefault(item.project_id, []).append(item)
        return grouped


def _nudged_status() -> ColumnElement[bool]:
    return or_(
        *(and_(Record.kind == kind, Record.status.in_(statuses)) for kind, statuses in NUDGE_STATUSES.items())
    )


def _project_filter(team_id: str | None, project_key: str | None) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = [
        Project.status == ProjectStatus.ACTIVE,
        Project.nudges_enabled.is_(True),
    ]
    if team_id:
        conditions.append(Project.team_id == team_id)
    if project_key:
        conditions.append(Project.key == project_key.strip().upper())
    return conditions


def overdue_work(
    session: Session,
    *,
    now: datetime,
    team_id: str | None = None,
    project_key: str | None = None,
    default_timezone: str = "UTC",
) -> OverdueWork:
    """Every nudgeable overdue item (of one workspace or project when given), in two queries.

    A project whose time zone is not a known IANA name counts in ``default_timezone``.
    """
    fallback_zone = default_timezone if valid_timezone(default_timezone) else "UTC"
    latest_today = (now.astimezone(UTC) + _MAX_OFFSET).date()
    projects_filter = _project_filter(team_id, project_key)
    projects: dict[int, ProjectFacts] = {}
    for project in session.execute(
        select(
            Project.id,
            Project.team_id,
            Project.key,
            Project.name,
            Project.timezone,
            Project.locale,
            Project.escalate_after_days,
            Project.created_by,
        ).where(*projects_filter)
    ):
        zone = project.timezone if valid_timezone(project.timezone) else fallback_zone
        projects[project.id] = ProjectFacts(
            id=project.id,
            team_id=project.team_id,
            key=project.key,
            name=project.name,
            timezone=zone,
            locale=project.locale,
            escalate_after_days=project.escalate_after_days,
            created_by=project.created_by,
            today=project_today(zone, now),
        )
    if not projects:
        return OverdueWork(projects={}, items=(), people={})
    rows = session.execute(
        select(
            Record.id,
            Record.team_id,
            Record.key,
            Record.kind,
            Record.title,
            Record.status,
            Record.version,
            Record.project_id,
            Record.assignee_id,
            Record.due_date,
            Record.snoozed_until,
            Record.escalated_for_due,
            Person.timezone,
            Person.locale,
            Person.is_deleted,
            Person.is_bot,
            Person.id.label("person_id"),
        )
        .join(Project, Project.id == Record.project_id)
        .outerjoin(Person, and_(Person.team_id == Record.team_id, Person.user_id == Record.assignee_id))
        .where(
            *projects_filter,
            Record.deleted_at.is_(None),
            _nudged_status(),
            Record.due_date.is_not(None),
            Record.due_date < latest_today,
            or_(Record.snoozed_until.is_(None), Record.snoozed_until < latest_today),
        )
    )
    items: list[OverdueItem] = []
    people: dict[tuple[str, str], PersonFacts] = {}
    # Rows unpacked, not read by attribute (about 0.6 µs a field on a SQLAlchemy Row): one per overdue item.
    for (
        record_id, team_id_, key, kind, title, status, version, project_id, assignee_id, due_date,
        snoozed_until, escalated_for_due, person_timezone, person_locale, is_deleted, is_bot, person_id,
    ) in rows:  # fmt: skip
        project_facts = projects.get(project_id)
        if project_facts is None:  # created between the two queries
            continue
        today = project_facts.today
        if due_date is None or due_date >= today or (snoozed_until is not None and snoozed_until >= today):
            continue
        items.append(
            OverdueItem(
                record_id, team_id_, key, _KINDS[kind], title, status, version, project_id, assignee_id,
                due_date, escalated_for_due, today,
            )
        )  # fmt: skip
        if assignee_id and person_id is not None and (team_id_, assignee_id) not in people:
            people[(team_id_, assignee_id)] = PersonFacts(
                timezone=person_timezone, locale=person_locale, inactive=bool(is_deleted or is_bot)
            )
    items.sort(key=lambda i: (-i.days_overdue, projects[i.project_id].key, _seq(i.key), i.key))
    return OverdueWork(projects=projects, items=tuple(items), people=people)


def _seq(key: str) -> int:
    tail = key.rpartition("-")[2]
    return int(tail) if tail.isdigit() else 0


@dataclass(frozen=True)
class Owner:
    user_id: str
    locale: str | None
    inactive: bool


def owners_of(session: Session, *, projects: Sequence[ProjectFacts]) -> dict[int, list[Owner]]:
    """The owners of each project, with their directory facts, in one query.

    A project without owners falls back to the person who created it.
    """
    if not projects:
        return {}
    found: dict[int, list[Owner]] = {p.id: [] for p in projects}
    rows = session.execute(
        select(
            ProjectMember.project_id, ProjectMember.user_id, Person.locale, Person.is_deleted, Person.is_bot
        )
        .outerjoin(
            Person, and_(Person.team_id == ProjectMember.team_id, Person.user_id == ProjectMember.user_id)
        )
        .where(ProjectMember.project_id.in_(list(found)), ProjectMember.role == MemberRole.OWNER)
        .order_by(ProjectMember.id)
    )
    for row in rows:
        found[row.project_id].append(
            Owner(row.user_id, row.locale, inactive=bool(row.is_deleted or row.is_bot))
        )
    for project in projects:
        if not found[project.id]:
            found[project.id].append(Owner(project.created_by, None, inactive=False))
    return found


def mark_escalated(session: Session, items: Iterable[tuple[int, date]]) -> None:
    """Remember that these records were escalated for these due dates (run in the ledger's claim).

    Not a change a person made: no history entry and no version bump (nudge buttons stay valid).
    """
    for record_id, due in items:
        session.execute(
            update(Record)
            .where(Record.id == record_id, Record.due_date == due)
            .values(escalated_for_due=due)
            .execution_options(synchronize_session=False)
        )
