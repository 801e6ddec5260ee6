"""The weekly customer report's content: what the customer may see of their project, and nothing else.

Plain data out, no Slack. Four lists, read from the project's requirements, tasks and issues (never
risks, never people, comments, workload, KPIs or service-level figures):

- done and delivered in the week ``[slot - 7 days, slot)``: requirements delivered, tasks done, issues
  closed or resolved;
- in progress (status ``in_progress``), with their due dates;
- open issues the customer raised (``requester_external``, or requested by one of the project's customer
  contacts), with their status;
- due next week: open work due within the 7 days from the slot's day.

Computed for many projects with one query for their records and one for their customer contacts. The
records query brings back only the columns the report reads, and only records that can be in it (open, or
finished since the earliest week asked about): plain rows, no ORM entities.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import NamedTuple
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.domain.record_rows import RecordRow, Since, fetch
from bot.domain.resolution import RESOLVED
from bot.domain.rows import chunks
from bot.domain.statuses import LIFECYCLES
from storage.models import Kind, MemberRole, Project, ProjectMember

WEEK = timedelta(days=7)
# The kinds a customer hears about (risks are internal).
KINDS = (Kind.REQUIREMENT, Kind.TASK, Kind.ISSUE)
_KINDS = {kind.value: kind for kind in KINDS}
_OPEN = {kind: frozenset(LIFECYCLES[kind].open) for kind in KINDS}


class CustomerItem(NamedTuple):
    """One record as the report lists it (a named tuple: a weekly run lists tens of thousands)."""

    key: str
    seq: int
    kind: Kind
    title: str
    status: str
    due_date: date | None = None
    done_on: date | None = None  # in the project's time zone


@dataclass(frozen=True)
class CustomerReport:
    project_id: int
    team_id: str
    key: str
    name: str
    locale: str
    slot: datetime
    week_start: date  # first day of the week reported, in the project's time zone
    week_end: date  # its last day
    done: tuple[CustomerItem, ...]
    in_progress: tuple[CustomerItem, ...]
    customer_issues: tuple[CustomerItem, ...]
    due_next_week: tuple[CustomerItem, ...]

    @property
    def empty(self) -> bool:
        return not (self.done or self.in_progress or self.customer_issues or self.due_next_week)


def _when_done(record: RecordRow, kind: Kind) -> datetime | None:
    """When the record was done or delivered (None: it is not)."""
    if kind is Kind.REQUIREMENT:
        return record.closed_at if record.status == "delivered" else None
    if kind is Kind.TASK:
        return record.closed_at if record.status == "done" else None
    if record.status == "closed":
        return record.closed_at or record.resolved_at
    if record.status == RESOLVED:  # the latest entry into resolved (kept by the service levels)
        return record.resolved_at or record.updated_at
    return None


_new = tuple.__new__


def _order(item: CustomerItem) -> tuple[date, int]:
    return (item.due_date or date.max, item.seq)


def _report(
    project: Project, records: Sequence[RecordRow], contacts: frozenset[str], slot: datetime
) -> CustomerReport:
    zone = ZoneInfo(project.timezone)
    start = slot - WEEK
    today = slot.astimezone(zone).date()
    next_week_end = today + timedelta(days=6)
    done: list[CustomerItem] = []
    in_progress: list[CustomerItem] = []
    raised: list[CustomerItem] = []
    due: list[CustomerItem] = []
    # The week's bounds in UTC, as the rows' instants are (comparisons within one time zone are cheaper).
    start_u, slot_u = start.astimezone(UTC), slot.astimezone(UTC)
    for record in records:  # in ``seq`` order (the query's)
        kind = _KINDS.get(record.kind)
        if kind is None or record.created_at >= slot_u:
            continue
        status = record.status
        is_open = status in _OPEN[kind]
        # Only a record that is not open, or a resolved issue, can be done (see :func:`_when_done`).
        finished = _when_done(record, kind) if not is_open or status == RESOLVED else None
        is_done = finished is not None and start_u <= finished < slot_u
        is_raised = (
            kind is Kind.ISSUE
            and is_open
            and bool(record.requester_external or (record.requester_id and record.requester_id in contacts))
        )
        is_due = bool(
            is_open and status != RESOLVED and record.due_date and today <= record.due_date <= next_week_end
        )
        if not (is_done or is_raised or is_due or status == "in_progress"):
            continue  # in none of the lists: no item built
        # tuple.__new__ directly: the named tuple's own constructor costs twice as much.
        item = _new(CustomerItem, (record.key, record.seq, kind, record.title, status, record.due_date, None))
        if is_done:
            assert finished is not None
            done.append(item._replace(done_on=finished.astimezone(zone).date()))
        if status == "in_progress":
            in_progress.append(item)
        if is_raised:
            raised.append(item)
        if is_due:
            due.append(item)
    return CustomerReport(
        project_id=project.id, team_id=project.team_id, key=project.key, name=project.name,
        locale=project.locale, slot=slot, week_start=start.astimezone(zone).date(),
        week_end=max(today - timedelta(days=1), start.astimezone(zone).date()),
        done=tuple(done), in_progress=tuple(sorted(in_progress, key=_order)), customer_issues=tuple(raised),
        due_next_week=tuple(sorted(due, key=_order)),
    )  # fmt: skip


def report_since(due: Sequence[tuple[Project, datetime]]) -> datetime:
    """Finished before this (the earliest week asked about): in none of the reports of ``due``."""
    return min(slot for _, slot in due) - WEEK


def customer_reports(
    session: Session,
    due: Sequence[tuple[Project, datetime]],
    records: dict[int, list[RecordRow]] | None = None,
) -> list[CustomerReport]:
    """The customer report of each ``(project, slot)``, as things stood at the slot's week.

    ``records``: the projects' rows already read (:func:`bot.domain.record_rows.fetch`, bounds at least
    as wide as :func:`report_since`); otherwise they are read here, a chunk of projects per query.
    """
    reports: list[CustomerReport] = []
    for chunk in chunks(due):
        ids = [project.id for project, _ in chunk]
        since = report_since(chunk)
        if records is None:
            # Logged since: open or finished since anyway, or in no list (created at the slot or after).
            rows = fetch(session, ids, Since(created=since, closed=since, resolved=since))
        else:
            rows = records
        contacts: dict[int, set[str]] = {}
        for project_id, user_id in session.execute(
            select(ProjectMember.project_id, ProjectMember.user_id).where(
                ProjectMember.project_id.in_(ids), ProjectMember.role == MemberRole.CUSTOMER_CONTACT
            )
        ):
            contacts.setdefault(project_id, set()).add(user_id)
        for project, slot in chunk:
            # Rows read with wider bounds (the digest's) need no filtering: a row outside the report's own
            # selection (a risk; not open and finished before the week) is in none of its lists (:func:`_report`).
            mine = rows.get(project.id, ())
            reports.append(_report(project, mine, frozenset(contacts.get(project.id, ())), slot))
    return reports
