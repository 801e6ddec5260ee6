"""Reading records: lists (open, mine, overdue, all) and one record with its history."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.domain.errors import N_, UserError
from bot.domain.lifecycle import load
from bot.domain.records import project_today
from bot.domain.service_levels import AT_RISK, BREACHED, severity
from bot.domain.statuses import LIFECYCLES
from bot.domain.views import RecordView
from storage.models import HistoryEntry, Kind, Project, Record

SCOPES = ("open", "mine", "overdue", "all", "breaching")
LIST_LIMIT = 40


@dataclass(frozen=True)
class HistoryView:
    field: str
    old: str | None
    new: str | None
    by: str
    at: datetime
    scope_change: bool


@dataclass(frozen=True)
class RecordList:
    records: list[RecordView]
    total: int
    scope: str


def list_records(
    session: Session,
    *,
    team_id: str,
    project_id: int,
    kind: Kind,
    scope: str,
    user_id: str,
    now: datetime,
) -> RecordList:
    if scope not in SCOPES:
        raise UserError(N_("List what? Use list open, list mine, list overdue or list all."))
    if scope == "breaching" and kind != Kind.ISSUE:
        raise UserError(N_("Only issues have service levels: use /issue list breaching."))
    project = session.get(Project, project_id)
    if project is None or project.team_id != team_id:
        raise UserError(N_("That project no longer exists."))
    query = select(Record).where(
        Record.team_id == team_id,
        Record.project_id == project_id,
        Record.kind == kind,
        Record.deleted_at.is_(None),
    )
    if scope != "all":
        query = query.where(Record.status.in_(LIFECYCLES[kind].open))
    if scope == "mine":
        query = query.where(Record.assignee_id == user_id)
    if scope == "overdue":
        query = query.where(Record.due_date < project_today(project.timezone, now))
    if scope == "breaching":
        return _breaching(session, query.where(Record.sla_start.is_not(None)), project, now)
    query = query.order_by(Record.due_date.is_(None), Record.due_date, Record.seq)
    rows = list(session.scalars(query))
    return RecordList([RecordView.of(r, project) for r in rows[:LIST_LIMIT]], total=len(rows), scope=scope)


def _breaching(session: Session, query: Any, project: Project, now: datetime) -> RecordList:
    """Open issues at risk (past 80 % of a target) or breached, worst first."""
    views = [RecordView.of(r, project, now=now) for r in session.scalars(query.order_by(Record.seq))]
    found = [v for v in views if v.sla is not None and v.sla.state in (AT_RISK, BREACHED)]
    found.sort(key=lambda v: severity(v.sla) if v.sla else (3, 0.0))
    return RecordList(found[:LIST_LIMIT], total=len(found), scope="breaching")


def record_detail(
    session: Session, *, team_id: str, key: str, kind: Kind | None = None, now: datetime | None = None
) -> tuple[RecordView, list[HistoryView]]:
    record, project = load(session, team_id=team_id, key=key, kind=kind, allow_deleted=True)
    entries = session.scalars(
        select(HistoryEntry)
        .where(HistoryEntry.project_id == record.project_id, HistoryEntry.record_key == record.key)
        .order_by(HistoryEntry.at, HistoryEntry.id)
    )
    history = [HistoryView(e.field, e.old, e.new, e.by, e.at, e.scope_change) for e in entries]
    return RecordView.of(record, project, now=now), history
