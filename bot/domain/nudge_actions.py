"""A nudge's buttons (done, snooze, new date) and how each of its lines stands when it is redrawn.

Nothing here talks to Slack; :mod:`bot.commands.nudges` sends the redrawn message.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.domain import lifecycle
from bot.domain.errors import N_, UserError
from bot.domain.nudges import DONE_VERBS, NUDGE_STATUSES, SNOOZE_DAYS, OverdueItem, ProjectFacts
from bot.domain.permissions import require_record_change
from bot.domain.records import project_today
from bot.domain.views import RecordView
from bot.domain.working_hours import valid_timezone
from storage.models import Kind, Project, ProjectStatus, Record

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
