"""Overdue work: who has what overdue, what to escalate, and the nudge buttons (done, snooze, new date).

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
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import ColumnElement, and_, or_, select, update
from sqlalchemy.orm import Session

from bot.domain import lifecycle
from bot.domain.errors import N_, UserError
from bot.domain.permissions import require_record_change
from bot.domain.records import project_today
from bot.domain.views import RecordView
from storage.models import Kind, MemberRole, Person, Project, ProjectMember, ProjectStatus, Record

# Kinds that get nudged, and the statuses in which they are still the assignee's to do.
# A resolved issue counts as open until it is closed, but it waits for its reporter, not its
# assignee: nudging it again after "Done" (which resolves an issue) would nag about finished work.
NUDGE_STATUSES: dict[Kind, tuple[str, ...]] = {
    Kind.TASK: ("open", "in_progress"),
    Kind.ISSUE: ("open", "in_progress"),
}
# The verb the "Done" button uses for each kind.
DONE_VERBS: dict[Kind, str] = {Kind.TASK: "done", Kind.ISSUE: "resolve"}
SNOOZE_DAYS = range(1, 31)
# The latest "today" anywhere on Earth is UTC+14: a cheap bound for the SQL filter.
_MAX_OFFSET = timedelta(hours=14)


@lru_cache(maxsize=512)
def valid_timezone(name: str | None) -> bool:
    if not name:
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


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


@dataclass(frozen=True)
class OverdueItem:
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
    for row in rows:
        project_facts = projects.get(row.project_id)
        if project_facts is None:  # created between the two queries
            continue
        today = project_facts.today
        if row.due_date >= today or (row.snoozed_until is not None and row.snoozed_until >= today):
            continue
        items.append(
            OverdueItem(
                id=row.id,
                team_id=row.team_id,
                key=row.key,
                kind=Kind(row.kind),
                title=row.title,
                status=row.status,
                version=row.version,
                project_id=row.project_id,
                assignee_id=row.assignee_id,
                due_date=row.due_date,
                escalated_for_due=row.escalated_for_due,
                today=today,
            )
        )
        if row.assignee_id and row.person_id is not None:
            people[(row.team_id, row.assignee_id)] = PersonFacts(
                timezone=row.timezone,
                locale=row.locale,
                inactive=bool(row.is_deleted or row.is_bot),
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


# -- the buttons ------------------------------------------------------------------------------------


def _check_nudgeable(record: Record) -> Kind:
    kind = Kind(record.kind)
    if kind not in NUDGE_STATUSES:
        raise UserError(N_("%(key)s is not a task or an issue."), key=record.key)
    return kind


def mark_done(
    session: Session, *, team_id: str, key: str, user_id: str, now: datetime, expected_version: int | None
) -> lifecycle.Change:
    """The "Done" button: a task is done, an issue resolved (its reporter closes it)."""
    record, _project = lifecycle.load(session, team_id=team_id, key=key)
    kind = _check_nudgeable(record)
    return lifecycle.move(
        session,
        team_id=team_id,
        key=key,
        verb=DONE_VERBS[kind],
        user_id=user_id,
        now=now,
        expected_version=expected_version,
    )


def snooze(
    session: Session,
    *,
    team_id: str,
    key: str,
    days: int,
    user_id: str,
    now: datetime,
    expected_version: int | None,
) -> lifecycle.Change:
    """Hide a record from nudges until ``days`` after today (its project's today); kept in history."""
    if days not in SNOOZE_DAYS:
        raise UserError(
            N_("Snooze for %(low)s to %(high)s days."), low=SNOOZE_DAYS.start, high=SNOOZE_DAYS.stop - 1
        )
    record, project = lifecycle.load(session, team_id=team_id, key=key)
    if lifecycle._is_stale(record, expected_version):
        return lifecycle.Change(RecordView.of(record, project), changed=False, stale=True)
    lifecycle._writable(project)
    kind = _check_nudgeable(record)
    require_record_change(session, record=record, user_id=user_id)
    if record.status not in NUDGE_STATUSES[kind]:
        raise UserError(
            N_("%(key)s is already %(status)s."), key=record.key, status=record.status.replace("_", " ")
        )
    until = project_today(project.timezone, now) + timedelta(days=days)
    if not lifecycle._set(session, record, "snoozed_until", until, by=user_id, now=now, scope=False):
        return lifecycle.Change(RecordView.of(record, project), changed=False)
    lifecycle._bump(record, now)
    return lifecycle.Change(RecordView.of(record, project))


@dataclass(frozen=True)
class DueForm:
    """What the "Set new date" form opens with (``stale``: the button was drawn at an older version)."""

    record: RecordView
    stale: bool
    initial: date


def check_new_due(
    session: Session, *, team_id: str, key: str, user_id: str, now: datetime, expected_version: int | None
) -> DueForm:
    """The record a "Set new date" button opens the form for, if it may still be changed.

    The form starts at tomorrow (in the project's time zone), or at the due date if that is later.
    """
    record, project = lifecycle.load(session, team_id=team_id, key=key)
    view = RecordView.of(record, project)
    today = project_today(project.timezone, now)
    initial = max(today + timedelta(days=1), record.due_date or today)
    if lifecycle._is_stale(record, expected_version):
        return DueForm(view, stale=True, initial=initial)
    lifecycle._writable(project)
    _check_nudgeable(record)
    require_record_change(session, record=record, user_id=user_id)
    return DueForm(view, stale=False, initial=initial)


def set_new_due(
    session: Session,
    *,
    team_id: str,
    key: str,
    due: date,
    user_id: str,
    now: datetime,
    expected_version: int | None,
) -> lifecycle.Change:
    """The "Set new date" form: a new due date from today on (clears a snooze); stale forms change nothing."""
    record, project = lifecycle.load(session, team_id=team_id, key=key)
    if lifecycle._is_stale(record, expected_version):
        return lifecycle.Change(RecordView.of(record, project), changed=False, stale=True)
    if due < project_today(project.timezone, now):
        raise UserError(N_("Choose today or a later date."), field="due")
    return lifecycle.set_due(
        session, team_id=team_id, key=key, due_text=due.isoformat(), user_id=user_id, now=now
    )


# -- redrawing a nudge ------------------------------------------------------------------------------


class ItemState:
    OVERDUE = "overdue"
    DONE = "done"  # no longer open (done, resolved, closed): ``status`` says which
    SNOOZED = "snoozed"
    RESCHEDULED = "rescheduled"  # due from today on
    NO_DUE = "no_due"
    REASSIGNED = "reassigned"
    DELETED = "deleted"
    PROJECT_CLOSED = "project_closed"
    MISSING = "missing"


@dataclass(frozen=True)
class ListedItem:
    """An item of a nudge as it stands now; only ``OVERDUE`` items keep their buttons."""

    key: str
    state: str
    title: str = ""
    kind: Kind = Kind.TASK
    status: str = ""
    version: int = 0
    project_key: str = ""
    project_name: str = ""
    project_locale: str = ""
    assignee_id: str | None = None
    due_date: date | None = None
    snoozed_until: date | None = None
    today: date | None = None

    @property
    def days_overdue(self) -> int:
        if self.due_date is None or self.today is None:
            return 0
        return max((self.today - self.due_date).days, 0)


def _state(record: Record, project: Project, today: date, user_id: str) -> str:
    kind = Kind(record.kind)
    if record.deleted_at is not None:
        return ItemState.DELETED
    if project.status != ProjectStatus.ACTIVE:
        return ItemState.PROJECT_CLOSED
    if record.status not in NUDGE_STATUSES.get(kind, ()):
        return ItemState.DONE
    if record.due_date is None:
        return ItemState.NO_DUE
    if record.snoozed_until is not None and record.snoozed_until >= today:
        return ItemState.SNOOZED
    if record.due_date >= today:
        return ItemState.RESCHEDULED
    if record.assignee_id != user_id:
        return ItemState.REASSIGNED
    return ItemState.OVERDUE


def listed_items(
    session: Session, *, team_id: str, keys: Sequence[str], user_id: str, now: datetime
) -> list[ListedItem]:
    """The items a nudge listed (in its order), as they stand now for ``user_id``; one query."""
    wanted = [k.strip().upper() for k in keys if isinstance(k, str) and k.strip()]
    found: dict[str, tuple[Record, Project]] = {}
    if wanted:
        for record, project in session.execute(
            select(Record, Project)
            .join(Project, Project.id == Record.project_id)
            .where(Record.team_id == team_id, Record.key.in_(wanted))
        ):
            found[record.key] = (record, project)
    items: list[ListedItem] = []
    for key in dict.fromkeys(wanted):
        if key not in found:
            items.append(ListedItem(key=key, state=ItemState.MISSING))
            continue
        record, project = found[key]
        zone = project.timezone if valid_timezone(project.timezone) else "UTC"
        today = project_today(zone, now)
        items.append(
            ListedItem(
                key=record.key,
                state=_state(record, project, today, user_id),
                title=record.title,
                kind=Kind(record.kind),
                status=record.status,
                version=record.version,
                project_key=project.key,
                project_name=project.name,
                project_locale=project.locale,
                assignee_id=record.assignee_id,
                due_date=record.due_date,
                snoozed_until=record.snoozed_until,
                today=today,
            )
        )
    return items


def as_listed(item: OverdueItem, project: ProjectFacts) -> ListedItem:
    """An item of a nudge being planned (overdue, so it gets its buttons)."""
    return ListedItem(
        key=item.key,
        state=ItemState.OVERDUE,
        title=item.title,
        kind=item.kind,
        status=item.status,
        version=item.version,
        project_key=project.key,
        project_name=project.name,
        project_locale=project.locale,
        assignee_id=item.assignee_id,
        due_date=item.due_date,
        today=item.today,
    )
