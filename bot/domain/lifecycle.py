"""Changing records: status moves, assignment, due dates, edits, comments, soft delete — each kept in history.

Every change bumps the record's ``version``. A button drawn at an older version
is stale: the change is not applied, and the caller redraws the current state
instead. That is also what makes a second click do nothing twice.

Clicks that arrive at the same instant all read the same version, so that check
alone lets each of them through. The version is also the mapper's version counter
(``storage.models.Record``): the UPDATE says ``WHERE version = <the one read>``, so
only the first transaction to commit changes the row. ``change_once`` runs a change
so that the others are rolled back whole (no history row, nothing to notify) and
come back as stale, like any click on an old card.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, NoReturn

from sqlalchemy import update
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from bot.domain.errors import N_, UserError
from bot.domain.parsing import check_title, parse_record_key
from bot.domain.permissions import require_record_change
from bot.domain.records import MAX_DESCRIPTION, resolve_due
from bot.domain.service_levels import on_priority_change, on_status_change
from bot.domain.statuses import LIFECYCLES, Lifecycle, RequirementStatus, Verb
from bot.domain.views import RecordView
from bot.slack.text import clean
from storage import queries
from storage.db import Database
from storage.models import HistoryEntry, Kind, Priority, Project, ProjectStatus, Record

# Statuses of a requirement once the customer's scope is agreed.
_AGREED = (RequirementStatus.ACCEPTED, RequirementStatus.IN_PROGRESS)
# Fields whose change on an agreed requirement is a change of scope.
_SCOPE_FIELDS = ("title", "description", "due_date", "priority", "estimate_hours")
MAX_COMMENT = 4000
# What someone is told when their command or form lost to a change made at the same instant.
LOST_RACE = N_(
    "%(key)s was changed by someone else at the same moment, so your change was not saved. "
    "Please look at it again and retry."
)
_COMMAND = {
    Kind.REQUIREMENT: "/req",
    Kind.ISSUE: "/issue",
    Kind.TASK: "/task",
    Kind.RISK: "/risk",
}


@dataclass(frozen=True)
class Change:
    """What a change did. ``changed`` is False for a no-op or a stale button."""

    record: RecordView
    changed: bool = True
    stale: bool = False
    # Set when the record got a new assignee: they may get a DM.
    newly_assigned: str | None = None
    previous_assignee: str | None = None
    # What a record's source thread is told (thread updates): its new status, a new due date.
    new_status: str | None = None
    due_changed: bool = False


@dataclass
class RecordEdit:
    """Values of the edit form; ``None`` clears an optional field."""

    title: str
    description: str = ""
    assignee_id: str | None = None
    due_date: date | None = None
    priority: Priority = Priority.MEDIUM
    estimate_hours: float | None = None
    probability: int | None = None
    impact: int | None = None
    mitigation: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def change_once(db: Database, *, team_id: str, key: str, apply: Callable[[Session], Change]) -> Change:
    """Run one change of record ``key`` in its own write transaction.

    When another change of the same record committed after this one read it (two people,
    or a double-click, at the same instant), this one is rolled back whole and the record's
    current state comes back as a stale change: the caller answers as for an old button.
    """
    try:
        with db.write() as session:
            return apply(session)
    except StaleDataError:
        with db.read() as session:
            record, project = load(session, team_id=team_id, key=key, allow_deleted=True)
            return Change(RecordView.of(record, project), changed=False, stale=True)


def load(
    session: Session, *, team_id: str, key: str, kind: Kind | None = None, allow_deleted: bool = False
) -> tuple[Record, Project]:
    """The record behind ``key`` in this workspace, or a clear refusal."""
    parse_record_key(key)
    key = key.strip().upper()
    record = queries.record_by_key(session, team_id=team_id, key=key)
    if record is None:
        raise UserError(N_("There is no record %(key)s in this workspace."), key=key)
    if kind is not None and record.kind != kind:
        actual = Kind(record.kind)
        raise UserError(
            N_("%(key)s is a %(actual)s: use %(command)s for it (e.g. %(command)s show %(key)s)."),
            key=key,
            actual=actual.value,
            command=_COMMAND[actual],
        )
    if record.deleted_at is not None and not allow_deleted:
        raise UserError(N_("%(key)s was deleted."), key=key)
    project = session.get(Project, record.project_id)
    assert project is not None
    return record, project


def _writable(project: Project) -> None:
    if project.status != ProjectStatus.ACTIVE:
        raise UserError(
            N_("Project %(key)s is closed: its records are read-only until it is reopened."), key=project.key
        )


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def history_line(
    record: Record, name: str, old: Any, new: Any, *, by: str, now: datetime, scope: bool = False
) -> HistoryEntry:
    """One line of a record's history: a field changed from ``old`` to ``new`` (values written as text)."""
    return HistoryEntry(
        team_id=record.team_id,
        project_id=record.project_id,
        record_key=record.key,
        field=name,
        old=_text(old),
        new=_text(new),
        by=by,
        at=now,
        scope_change=scope,
    )


def _set(
    session: Session, record: Record, name: str, value: Any, *, by: str, now: datetime, scope: bool
) -> bool:
    old = getattr(record, name)
    if old == value:
        return False
    setattr(record, name, value)
    session.add(history_line(record, name, old, value, by=by, now=now, scope=scope))
    return True


def _bump(record: Record, now: datetime) -> None:
    record.version += 1
    record.updated_at = now


def _is_stale(record: Record, expected_version: int | None) -> bool:
    return expected_version is not None and expected_version != record.version


def _agreed(record: Record) -> bool:
    return record.kind == Kind.REQUIREMENT and record.status in _AGREED


def _refuse(record: Record, lifecycle: Lifecycle) -> NoReturn:
    """A move from a status it does not start from: say which moves there are from here."""
    status = record.status.replace("_", " ")
    if record.status in lifecycle.terminal and not lifecycle.moves_from(record.status):
        raise UserError(N_("%(key)s is already %(status)s."), key=record.key, status=status)
    raise UserError(
        N_("%(key)s is %(status)s: from there its steps are %(verbs)s."),
        key=record.key,
        status=status,
        verbs=", ".join(lifecycle.moves_from(record.status)),
    )


def move(
    session: Session,
    *,
    team_id: str,
    key: str,
    verb: str,
    user_id: str,
    now: datetime,
    kind: Kind | None = None,
    expected_version: int | None = None,
) -> Change:
    """Move a record by a verb of its kind (``start``, ``done``, …) or ``close``."""
    record, project = load(session, team_id=team_id, key=key, kind=kind)
    if _is_stale(record, expected_version):
        return Change(RecordView.of(record, project), changed=False, stale=True)
    _writable(project)
    lifecycle = LIFECYCLES[Kind(record.kind)]
    step = lifecycle.move(verb)
    if step is None:
        raise UserError(
            N_("%(verb)s is not a step for a %(kind)s. Its steps: %(verbs)s."),
            verb=verb,
            kind=record.kind,
            verbs=", ".join([*lifecycle.moves, Verb.CLOSE]),
        )
    target = step.to
    require_record_change(session, record=record, user_id=user_id)
    if record.status == target:
        return Change(RecordView.of(record, project), changed=False)
    if record.status not in step.start:
        _refuse(record, lifecycle)
    # Rejecting an agreed requirement takes it out of scope.
    scope = _agreed(record) and target == RequirementStatus.REJECTED
    previous_status = record.status
    _set(session, record, "status", target, by=user_id, now=now, scope=scope)
    on_status_change(record, project, old=previous_status, new=target, now=now)
    record.closed_at = now if target in lifecycle.terminal else None
    _bump(record, now)
    return Change(RecordView.of(record, project), new_status=target)


def set_mitigation(
    session: Session, *, team_id: str, key: str, plan: str, user_id: str, now: datetime, previous: Change
) -> Change:
    """Record a risk's mitigation plan (given with ``/risk mitigate KEY <plan>``)."""
    record, project = load(session, team_id=team_id, key=key, kind=Kind.RISK)
    plan = clean(plan).strip()[:MAX_COMMENT]
    if not _set(session, record, "mitigation", plan or None, by=user_id, now=now, scope=False):
        return previous
    _bump(record, now)
    return Change(RecordView.of(record, project))


def assign(
    session: Session,
    *,
    team_id: str,
    key: str,
    assignee_id: str | None,
    user_id: str,
    now: datetime,
    kind: Kind | None = None,
    expected_version: int | None = None,
    taking: bool = False,
) -> Change:
    """Give a record to ``assignee_id``. ``taking`` is "Assign to me": anyone may take an unassigned record."""
    record, project = load(session, team_id=team_id, key=key, kind=kind)
    if _is_stale(record, expected_version):
        return Change(RecordView.of(record, project), changed=False, stale=True)
    _writable(project)
    if not (taking and record.assignee_id is None and assignee_id == user_id):
        require_record_change(session, record=record, user_id=user_id)
    previous = record.assignee_id
    if not _set(session, record, "assignee_id", assignee_id, by=user_id, now=now, scope=False):
        return Change(RecordView.of(record, project), changed=False)
    _bump(record, now)
    return Change(RecordView.of(record, project), newly_assigned=assignee_id, previous_assignee=previous)


def set_due(
    session: Session,
    *,
    team_id: str,
    key: str,
    due_text: str,
    user_id: str,
    now: datetime,
    kind: Kind | None = None,
) -> Change:
    record, project = load(session, team_id=team_id, key=key, kind=kind)
    _writable(project)
    require_record_change(session, record=record, user_id=user_id)
    if due_text.strip().lower() in ("none", "clear", "-", "无"):
        due: date | None = None
    else:
        due = resolve_due(due_text, project_timezone=project.timezone, now=now)
    if not _set(session, record, "due_date", due, by=user_id, now=now, scope=_agreed(record)):
        return Change(RecordView.of(record, project), changed=False)
    record.snoozed_until = None
    _bump(record, now)
    return Change(RecordView.of(record, project), due_changed=True)


def editable(session: Session, *, team_id: str, key: str, kind: Kind | None, user_id: str) -> RecordView:
    """The record to prefill an edit form with, if ``user_id`` may edit it."""
    record, project = load(session, team_id=team_id, key=key, kind=kind)
    _writable(project)
    require_record_change(session, record=record, user_id=user_id)
    return RecordView.of(record, project)


def edit(
    session: Session,
    *,
    team_id: str,
    key: str,
    values: RecordEdit,
    user_id: str,
    now: datetime,
) -> Change:
    """Apply the edit form; each changed field goes to history (as scope change on agreed requirements)."""
    record, project = load(session, team_id=team_id, key=key)
    _writable(project)
    require_record_change(session, record=record, user_id=user_id)
    title = check_title(clean(values.title))
    description = clean(values.description or "")
    if len(description) > MAX_DESCRIPTION:
        raise UserError(
            N_("The description is too long (at most %(limit)s characters)."),
            limit=MAX_DESCRIPTION,
            field="description",
        )
    kind = Kind(record.kind)
    updates: dict[str, Any] = {
        "title": title,
        "description": description,
        "assignee_id": values.assignee_id,
        "due_date": values.due_date,
        "priority": values.priority.value,
    }
    if kind is Kind.TASK:
        updates["estimate_hours"] = values.estimate_hours
    if kind is Kind.RISK:
        updates.update(
            probability=values.probability, impact=values.impact, mitigation=values.mitigation or None
        )
    agreed = _agreed(record)
    previous = record.assignee_id
    changed = [
        name
        for name, value in updates.items()
        if _set(session, record, name, value, by=user_id, now=now, scope=agreed and name in _SCOPE_FIELDS)
    ]
    if not changed:
        return Change(RecordView.of(record, project), changed=False)
    if "priority" in changed:
        on_priority_change(record, project)
    _bump(record, now)
    assigned = values.assignee_id if "assignee_id" in changed else None
    return Change(
        RecordView.of(record, project), newly_assigned=assigned, previous_assignee=previous,
        due_changed="due_date" in changed,
    )  # fmt: skip


def comment(
    session: Session,
    *,
    team_id: str,
    key: str,
    text: str,
    user_id: str,
    now: datetime,
    kind: Kind | None = None,
) -> RecordView:
    """Anyone in the project may comment; comments live in the record's history."""
    record, project = load(session, team_id=team_id, key=key, kind=kind)
    _writable(project)
    text = clean(text).strip()
    if not text:
        raise UserError(N_("Write the comment after the key: comment %(key)s <text>."), key=record.key)
    if len(text) > MAX_COMMENT:
        raise UserError(N_("A comment can have at most %(limit)s characters."), limit=MAX_COMMENT)
    session.add(history_line(record, "comment", None, text, by=user_id, now=now))
    # Not through the ORM: that would check the version, and a comment must not lose to a click.
    session.execute(update(Record).where(Record.id == record.id).values(updated_at=now))
    return RecordView.of(record, project)


def delete(
    session: Session, *, team_id: str, key: str, user_id: str, now: datetime, kind: Kind | None = None
) -> Change:
    """Soft delete: the record disappears from lists and can be restored."""
    record, project = load(session, team_id=team_id, key=key, kind=kind)
    _writable(project)
    require_record_change(session, record=record, user_id=user_id)
    _set(session, record, "deleted_at", now, by=user_id, now=now, scope=_agreed(record))
    _bump(record, now)
    return Change(RecordView.of(record, project))


def restore(session: Session, *, team_id: str, key: str, user_id: str, now: datetime) -> Change:
    record, project = load(session, team_id=team_id, key=key, allow_deleted=True)
    _writable(project)
    if record.deleted_at is None:
        return Change(RecordView.of(record, project), changed=False)
    require_record_change(session, record=record, user_id=user_id)
    _set(session, record, "deleted_at", None, by=user_id, now=now, scope=_agreed(record))
    _bump(record, now)
    return Change(RecordView.of(record, project))
