"""Closing a project and its retrospective report: what was asked, what was delivered, how it went.

Plain data out, no Slack. :func:`retrospective` costs a fixed number of queries
whatever the size of the project (the project, its owners, its records, the
history entries that matter, its issues' moves to ``resolved``, its meetings, the names of the people it mentions,
and the satisfaction result when surveys exist); everything else is counted in
Python from those rows.

The figures, and what each one means:

- **Requirements**: *requested* is every requirement logged (deleted ones are not
  counted); *delivered* and *rejected* are their status at closing; the rest are
  *still open*.
- **Scope changes**: history entries marked as a change of scope (a change to a
  requirement once accepted, its rejection or removal), over the project's life.
- **Issues**: *raised* is every issue logged; *resolved* is those resolved or closed,
  the rest are *still open*; the *median resolution time* runs from logging to the
  resolution (:mod:`bot.domain.resolution`: the move to ``resolved``, or the closing
  of an issue closed as it stood) — the weekly digest's KPI, over the whole project
  instead of 90 days.
- **Tasks**: the *on-time rate* is, among the tasks done that had a due date, the
  share done on or before it (the day it was done, in the project's time zone) —
  again the digest's KPI, over the whole project.
- **Risks that materialized**: risks whose status reached ``mitigating`` at some
  point (the risk was acted on because it was happening), whatever their status now.
- **Meetings held**: the meetings logged for the project.
- **Satisfaction**: the latest satisfaction result, when the surveys module gives one.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from bot.domain.digest import ScopeChange
from bot.domain.documents import KIND_RETROSPECTIVE, DocumentView, store_document
from bot.domain.errors import N_, UserError
from bot.domain.issue_csat import issue_satisfaction_of
from bot.domain.kpis import OnTime, done_on_time, issue_satisfaction, on_time, resolution_time, risk_score
from bot.domain.permissions import project_owners
from bot.domain.projects import close_project
from bot.domain.resolution import resolved_at, resolved_moves
from bot.domain.statuses import LIFECYCLES
from bot.domain.views import ProjectView
from storage.models import HistoryEntry, Kind, Meeting, Person, Project, ProjectStatus, Record

log = logging.getLogger(__name__)

# Longest closing summary and lessons learned (a modal field holds 3,000 characters).
MAX_CLOSING_TEXT = 3000
MATERIALIZED_STATUS = "mitigating"
SURVEYS_MODULE = "bot.domain.surveys"

_Row = Any

_COLUMNS = (
    Record.key,
    Record.seq,
    Record.kind,
    Record.title,
    Record.status,
    Record.priority,
    Record.assignee_id,
    Record.due_date,
    Record.created_at,
    Record.closed_at,
    Record.deleted_at,
    Record.probability,
    Record.impact,
)


@dataclass(frozen=True)
class RecordLine:
    """A record as the report lists it."""

    key: str
    seq: int
    kind: Kind
    title: str
    status: str
    assignee_id: str | None = None
    due_date: date | None = None
    created_at: datetime | None = None
    closed_on: date | None = None  # in the project's time zone
    score: int | None = None


# A change of scope, as the digest lists it (a history entry marked ``scope_change``).
ScopeChangeLine = ScopeChange


@dataclass(frozen=True)
class MeetingLine:
    key: str
    title: str
    held_on: date


@dataclass(frozen=True)
class Satisfaction:
    """The latest satisfaction result: an average score out of 5, and how many answered (when known)."""

    score: float
    responses: int | None = None


@dataclass(frozen=True)
class Retrospective:
    project: ProjectView
    opened_on: date  # in the project's time zone
    closed_on: date
    closed_at: datetime
    closed_by: str | None
    owners: tuple[str, ...]
    summary: str
    lessons: str
    # Requirements by their status at closing.
    requirements: tuple[RecordLine, ...]
    delivered: tuple[RecordLine, ...]
    rejected: tuple[RecordLine, ...]
    open_requirements: tuple[RecordLine, ...]
    scope_changes: tuple[ScopeChangeLine, ...]
    # Issues.
    issues_raised: int
    issues_resolved: int
    open_issues: tuple[RecordLine, ...]
    median_resolution: timedelta | None
    # Tasks.
    tasks_total: int
    tasks_done: int
    tasks_with_due_date: int  # done, with a due date
    tasks_on_time: int  # of those, done on or before it
    late_tasks: tuple[RecordLine, ...]  # done after their due date
    open_tasks: tuple[RecordLine, ...]
    # Risks.
    risks_logged: int
    materialized: tuple[RecordLine, ...]
    open_risks: tuple[RecordLine, ...]
    meetings: tuple[MeetingLine, ...]
    satisfaction: Satisfaction | None = None
    # Issue satisfaction (answers to resolved issues' cards): average and count, apart from surveys.
    issue_satisfaction: float | None = None
    issue_answers: int = 0
    # Display names of the people the report mentions (from the directory), for the Markdown document.
    names: dict[str, str] = field(default_factory=dict)

    @property
    def days(self) -> int:
        return max((self.closed_on - self.opened_on).days, 0)

    @property
    def on_time_rate(self) -> float | None:
        return OnTime(self.tasks_on_time, self.tasks_with_due_date).rate

    @property
    def issues_open(self) -> int:
        return len(self.open_issues)

    def name(self, user_id: str | None) -> str:
        if not user_id:
            return ""
        return self.names.get(user_id, user_id)


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _optional_module(name: str) -> Any:
    """A module that a colleague may not have shipped yet: None (and a log line) when it is missing."""
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as missing:
        if missing.name != name:
            raise  # the module exists but something it needs is missing: a real bug
        log.info("%s is not installed: skipping what needs it", name)
        return None


def _satisfaction(session: Session, project_id: int) -> Satisfaction | None:
    """The latest satisfaction result from ``bot.domain.surveys.latest_satisfaction``, if there is one.

    It may answer a number (the average score out of 5) or an object with ``score``
    (or ``average``) and, optionally, ``responses``.
    """
    surveys = _optional_module(SURVEYS_MODULE)
    latest = getattr(surveys, "latest_satisfaction", None) if surveys else None
    if latest is None:
        return None
    result = latest(session, project_id)
    if result is None:
        return None
    if isinstance(result, int | float):
        return Satisfaction(score=float(result))
    score = getattr(result, "score", None)
    if score is None:
        score = getattr(result, "average", None)
    if score is None:
        return None
    responses = getattr(result, "responses", None)
    if responses is not None and not isinstance(responses, int):
        try:
            responses = len(responses)
        except TypeError:
            responses = None
    return Satisfaction(score=float(score), responses=responses)


def _line(row: _Row, zone: ZoneInfo) -> RecordLine:
    return RecordLine(
        key=row.key,
        seq=row.seq,
        kind=Kind(row.kind),
        title=_one_line(row.title),
        status=row.status,
        assignee_id=row.assignee_id,
        due_date=row.due_date,
        created_at=row.created_at,
        closed_on=row.closed_at.astimezone(zone).date() if row.closed_at is not None else None,
        score=risk_score(row.probability, row.impact),
    )


def retrospective(session: Session, *, team_id: str, project_id: int, now: datetime) -> Retrospective:
    """The retrospective figures of a project: as of its closing, or of ``now`` while it is still active."""
    project = session.get(Project, project_id)
    if project is None or project.team_id != team_id:
        raise UserError(N_("That project no longer exists."))
    zone = ZoneInfo(project.timezone)
    closed_at = project.closed_at or now
    owners = tuple(project_owners(session, project_id=project.id))

    rows = list(
        session.execute(select(*_COLUMNS).where(Record.project_id == project.id).order_by(Record.seq))
    )
    titles = {row.key: _one_line(row.title) for row in rows if row.deleted_at is None}
    kinds = {row.key: Kind(row.kind) for row in rows}

    scope_changes: list[ScopeChangeLine] = []
    reached_mitigating: set[str] = set()
    closed_by: str | None = None
    for entry in session.scalars(
        select(HistoryEntry)
        .where(
            HistoryEntry.project_id == project.id,
            or_(
                HistoryEntry.scope_change.is_(True),
                and_(HistoryEntry.field == "status", HistoryEntry.new == MATERIALIZED_STATUS),
                and_(
                    HistoryEntry.record_key == project.key,
                    HistoryEntry.field == "status",
                    HistoryEntry.new == ProjectStatus.CLOSED.value,
                ),
            ),
        )
        .order_by(HistoryEntry.at, HistoryEntry.id)
    ):
        if entry.scope_change:
            scope_changes.append(
                ScopeChangeLine(
                    key=entry.record_key,
                    title=titles.get(entry.record_key),
                    field=entry.field,
                    old=entry.old,
                    new=entry.new,
                    by=entry.by,
                    at=entry.at,
                )
            )
        if entry.field != "status":
            continue
        if entry.record_key == project.key and project.closed_at is not None:
            closed_by = entry.by  # the latest closing (entries come oldest first)
        elif kinds.get(entry.record_key) is Kind.RISK and entry.new == MATERIALIZED_STATUS:
            reached_mitigating.add(entry.record_key)

    moves = resolved_moves(session, [project.id])
    requirements: list[RecordLine] = []
    issues_raised = 0
    resolutions: list[tuple[datetime, datetime]] = []
    open_issues: list[RecordLine] = []
    tasks_total = tasks_done = 0
    done_with_due: list[tuple[datetime, date]] = []
    late: list[RecordLine] = []
    open_tasks: list[RecordLine] = []
    risks_logged = 0
    materialized: list[RecordLine] = []
    open_risks: list[RecordLine] = []
    for row in rows:
        if row.deleted_at is not None:
            continue
        kind = Kind(row.kind)
        line = _line(row, zone)
        is_open = row.status in LIFECYCLES[kind].open
        if kind is Kind.REQUIREMENT:
            requirements.append(line)
        elif kind is Kind.ISSUE:
            issues_raised += 1
            resolved = resolved_at(row.status, row.closed_at, moves.get((project.id, row.key)))
            if resolved is not None:
                resolutions.append((row.created_at, resolved))
            elif is_open:
                open_issues.append(line)
        elif kind is Kind.TASK:
            tasks_total += 1
            if is_open:
                open_tasks.append(line)
            elif row.status == "done":
                tasks_done += 1
                if row.due_date is not None and row.closed_at is not None:
                    done_with_due.append((row.closed_at, row.due_date))
                    if not done_on_time(row.closed_at, row.due_date, zone):
                        late.append(line)
        elif kind is Kind.RISK:
            risks_logged += 1
            if row.status == MATERIALIZED_STATUS or row.key in reached_mitigating:
                materialized.append(line)
            if is_open:
                open_risks.append(line)

    meetings = tuple(
        MeetingLine(key=key, title=_one_line(title), held_on=held_on)
        for key, title, held_on in session.execute(
            select(Meeting.key, Meeting.title, Meeting.held_on)
            .where(Meeting.project_id == project.id)
            .order_by(Meeting.held_on, Meeting.seq)
        )
    )

    people = {*owners, *(c.by for c in scope_changes), *(r.assignee_id for r in late if r.assignee_id)}
    if closed_by:
        people.add(closed_by)
    names = _names(session, team_id=project.team_id, user_ids=people)

    timely = on_time(done_with_due, zone)
    resolution = resolution_time(resolutions)
    return Retrospective(
        project=ProjectView.of(project),
        opened_on=project.created_at.astimezone(zone).date(),
        closed_on=closed_at.astimezone(zone).date(),
        closed_at=closed_at,
        closed_by=closed_by,
        owners=owners,
        summary=project.closing_summary or "",
        lessons=project.lessons_learned or "",
        requirements=tuple(requirements),
        delivered=tuple(r for r in requirements if r.status == "delivered"),
        rejected=tuple(r for r in requirements if r.status == "rejected"),
        open_requirements=tuple(r for r in requirements if r.status in LIFECYCLES[Kind.REQUIREMENT].open),
        scope_changes=tuple(scope_changes),
        issues_raised=issues_raised,
        issues_resolved=resolution.resolved,
        open_issues=tuple(open_issues),
        median_resolution=resolution.median,
        tasks_total=tasks_total,
        tasks_done=tasks_done,
        tasks_with_due_date=timely.with_due_date,
        tasks_on_time=timely.on_time,
        late_tasks=tuple(late),
        open_tasks=tuple(open_tasks),
        risks_logged=risks_logged,
        materialized=tuple(materialized),
        open_risks=tuple(open_risks),
        meetings=meetings,
        satisfaction=_satisfaction(session, project.id),
        names=names,
        **_issue_satisfaction(session, project.id),
    )


def _issue_satisfaction(session: Session, project_id: int) -> dict[str, Any]:
    figure = issue_satisfaction(issue_satisfaction_of(session, project_ids=[project_id]).get(project_id, []))
    return {"issue_satisfaction": figure.average, "issue_answers": figure.count}


def _names(session: Session, *, team_id: str, user_ids: set[str]) -> dict[str, str]:
    wanted = sorted(u for u in user_ids if u)
    if not wanted:
        return {}
    return {
        user_id: name
        for user_id, name in session.execute(
            select(Person.user_id, Person.name).where(Person.team_id == team_id, Person.user_id.in_(wanted))
        )
        if name and name != user_id
    }


# -- closing ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Closing:
    """What closing a project did: the project, its report, the stored document, the closing survey."""

    project: ProjectView
    report: Retrospective
    document: DocumentView
    # True when the closing survey was started; ``survey_error`` says why not when it was refused.
    survey_started: bool = False
    survey_error: UserError | None = None


def check_closing_text(summary: str | None, lessons: str | None) -> tuple[str, str]:
    """The closing summary (required) and lessons learned (optional), trimmed; a refusal per bad field."""
    summary = (summary or "").strip()
    lessons = (lessons or "").strip()
    if not summary:
        raise UserError(N_("Write a short closing summary."), field="summary")
    if len(summary) > MAX_CLOSING_TEXT:
        raise UserError(N_("Keep it under %(limit)s characters."), limit=MAX_CLOSING_TEXT, field="summary")
    if len(lessons) > MAX_CLOSING_TEXT:
        raise UserError(N_("Keep it under %(limit)s characters."), limit=MAX_CLOSING_TEXT, field="lessons")
    return summary, lessons


def _start_closing_survey(
    session: Session, *, team_id: str, project_id: int, user_id: str, now: datetime
) -> tuple[bool, UserError | None]:
    """Start the closing survey in this transaction, when the surveys module is there.

    A refusal (say, nobody to ask) does not stop the closing: it is rolled back to a
    savepoint and reported.
    """
    surveys = _optional_module(SURVEYS_MODULE)
    start_survey = getattr(surveys, "start_survey", None) if surveys else None
    if start_survey is None:
        log.info("no surveys module: project %s closes without a closing survey", project_id)
        return False, None
    try:
        with session.begin_nested():
            start_survey(
                session, team_id=team_id, project_id=project_id, kind="closing", created_by=user_id, now=now
            )
    except UserError as refused:
        log.info("closing survey of project %s not started: %s", project_id, refused)
        return False, refused
    return True, None


def close_with_retrospective(
    session: Session,
    *,
    team_id: str,
    project_id: int,
    user_id: str,
    summary: str,
    lessons: str,
    now: datetime,
    document_title: Callable[[Retrospective], str],
    render_document: Callable[[Retrospective], str],
) -> Closing:
    """Close the project, keep the closing summary and lessons learned, store the report, start the survey.

    All in the caller's transaction: the project is closed if and only if its report is
    stored. ``render_document`` turns the figures into the Markdown document of record.
    """
    summary, lessons = check_closing_text(summary, lessons)
    view = close_project(session, team_id=team_id, project_id=project_id, user_id=user_id, now=now)
    project = session.get(Project, view.id)
    assert project is not None
    project.closing_summary = summary
    project.lessons_learned = lessons or None
    session.flush()
    report = retrospective(session, team_id=team_id, project_id=project.id, now=now)
    document = store_document(
        session,
        team_id=team_id,
        project_id=project.id,
        kind=KIND_RETROSPECTIVE,
        title=document_title(report),
        content=render_document(report),
        created_by=user_id,
        now=now,
    )
    started, refused = _start_closing_survey(
        session, team_id=team_id, project_id=project.id, user_id=user_id, now=now
    )
    return Closing(
        project=ProjectView.of(project),
        report=report,
        document=document,
        survey_started=started,
        survey_error=refused,
    )
