"""The weekly progress digest of a project (the risk review is :mod:`bot.domain.risk_review`).

Plain data out, no Slack. Both are computed for many projects at once with a fixed
number of queries whatever the number of projects or records: projects are taken
in chunks, and each chunk costs one query for its records and one for its scope
changes, one for the issues' moves to ``resolved`` (plus one for the titles of
records the first did not bring back, only when there are any). Everything else is counted in Python from those rows.

The digest's "week" is the 7 days before its slot: consecutive slots tile time
exactly (the same wall-clock time a week apart, whatever DST does in between), so
every event is reported in exactly one digest. Open and overdue work is read "as
of" the slot (or of now, for a preview of a slot still to come).
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.domain import surveys
from bot.domain.charts import ChartSeries, weekly_series
from bot.domain.issue_csat import issue_satisfaction_of
from bot.domain.kpis import (
    OnTime,
    issue_satisfaction,
    on_time,
    resolution_time,
    risk_exposure,
    risk_score,
    satisfaction_at,
)
from bot.domain.record_rows import RecordRow, Since, fetch, in_digest
from bot.domain.resolution import CLOSED, RESOLVED, resolved_at, resolved_moves
from bot.domain.rows import Row, chunks, one_line
from bot.domain.sla_report import ServiceLevelWeek, service_level_weeks
from bot.domain.status import RiskLine
from bot.domain.statuses import LIFECYCLES
from bot.domain.views import ProjectView
from bot.domain.workload import Workload, workload
from storage.models import HistoryEntry, Kind, Priority, Project, Record

WEEK = timedelta(days=7)
# KPIs look back this many days.
KPI_DAYS = 90
TOP_RISKS = 5
PRIORITY_ORDER = (Priority.CRITICAL, Priority.HIGH, Priority.MEDIUM, Priority.LOW)
# The status that counts as "done" for each kind (requirements are "delivered", listed apart).
_DONE_STATUS = {Kind.TASK: "done", Kind.ISSUE: "closed", Kind.RISK: "closed"}
_KINDS = {kind.value: kind for kind in Kind}
_OPEN = {kind: frozenset(LIFECYCLES[kind].open) for kind in Kind}
_ORDER = {kind: n for n, kind in enumerate((Kind.REQUIREMENT, Kind.ISSUE, Kind.TASK, Kind.RISK))}
# The same, keyed by the kinds' stored values (what a record row holds).
_OPEN_BY_VALUE = {kind.value: statuses for kind, statuses in _OPEN.items()}
_DONE_BY_VALUE = {
    kind.value: "delivered" if kind is Kind.REQUIREMENT else _DONE_STATUS[kind] for kind in Kind
}
_RESOLVED_OR_CLOSED = frozenset((RESOLVED, CLOSED))
_REQUIREMENT, _ISSUE, _TASK, _RISK = (
    Kind.REQUIREMENT.value,
    Kind.ISSUE.value,
    Kind.TASK.value,
    Kind.RISK.value,
)


def counts_as_done(kind: Kind, status: str) -> bool:
    """Done, for the digest and its chart: tasks done, issues and risks closed, requirements delivered."""
    return status == "delivered" if kind is Kind.REQUIREMENT else _DONE_STATUS.get(kind) == status


# -- the digest's data -------------------------------------------------------------------------


class DigestItem(NamedTuple):
    """One record as the digest lists it (a named tuple: a weekly run builds a hundred thousand)."""

    key: str
    seq: int
    kind: Kind
    title: str
    status: str
    priority: str
    assignee_id: str | None
    due_date: date | None
    created_at: datetime
    closed_at: datetime | None
    # Days past its due date ("as of" the digest), 0 when not overdue.
    days_overdue: int = 0


@dataclass(frozen=True)
class ScopeChange:
    """A change to an agreed requirement (history entry with ``scope_change``)."""

    key: str
    title: str | None  # None when the record is gone
    field: str
    old: str | None
    new: str | None
    by: str
    at: datetime


@dataclass(frozen=True)
class IssueAges:
    """Open issues of one priority (resolved ones included: they are open until closed)."""

    priority: str
    count: int
    oldest_key: str
    oldest_days: int
    median_days: float


@dataclass(frozen=True)
class Kpis:
    # Tasks done in the last KPI_DAYS days that had a due date, and how many of them were on time.
    on_time: int
    with_due_date: int
    # Issues resolved in the last KPI_DAYS days, and the median time from logging to resolution
    # (:mod:`bot.domain.resolution`: the move to ``resolved``, as in the retrospective).
    issues_closed: int
    median_resolution: timedelta | None
    # Sum of the scores of open risks (unscored risks count 0), and how many are open.
    risk_exposure: int
    open_risks: int
    # The latest satisfaction score (surveys), None until there is one.
    satisfaction: float | None
    # Issue satisfaction (answers to resolved issues' cards, up to the digest): average and count.
    issue_satisfaction: float | None = None
    issue_answers: int = 0

    @property
    def on_time_rate(self) -> float | None:
        return OnTime(self.on_time, self.with_due_date).rate


@dataclass(frozen=True)
class DigestData:
    project: ProjectView
    slot: datetime  # when the digest is (or was) due, in the project's time zone
    week_start: datetime  # the week is [week_start, slot)
    as_of: datetime  # open and overdue work is read at this instant
    today: date  # as_of's date in the project's time zone: a due date before it is overdue
    done: tuple[DigestItem, ...]  # tasks done, issues and risks closed this week
    delivered: tuple[DigestItem, ...]  # requirements delivered this week
    in_progress: tuple[DigestItem, ...]
    new: tuple[DigestItem, ...]  # requirements and issues logged this week
    scope_changes: tuple[ScopeChange, ...]
    overdue: tuple[DigestItem, ...]  # longest overdue first
    issues: tuple[IssueAges, ...]  # by priority, most urgent first; only priorities with open issues
    top_risks: tuple[RiskLine, ...]  # highest score first
    workload: tuple[Workload, ...]  # busiest first
    unassigned: int  # open tasks and issues nobody is assigned to
    open_total: int  # open records of every kind
    kpis: Kpis
    # Everything logged this week (any kind), for the record.
    logged: int = 0
    # Open records logged after ``as_of`` (a digest sent late): not this week's, but open all the same.
    open_since: int = 0
    # The chart's figures (None until the project has two weeks of history).
    chart: ChartSeries | None = None
    # Service levels of the week (:mod:`bot.domain.sla_report`); None when no target was due or answered.
    service_levels: ServiceLevelWeek | None = None

    @property
    def quiet(self) -> bool:
        """Nothing happened this week and nothing is open: the digest is one line.

        "Nothing open" must hold when the digest is read, not only at its slot: a digest sent
        late is never quiet while work logged since is open.
        """
        return not (
            self.done
            or self.delivered
            or self.new
            or self.scope_changes
            or self.open_total
            or self.open_since
        )


def satisfaction_history(
    session: Session, *, project_ids: Sequence[int], before: datetime
) -> dict[int, list[tuple[datetime, float]]]:
    """Each project's closed surveys' average scores, oldest first, in one query (the satisfaction KPI)."""
    return surveys.satisfaction_history(session, project_ids=project_ids, before=before)


def _item(row: RecordRow, days_overdue: int = 0) -> DigestItem:
    # tuple.__new__ directly: half the cost of the named tuple's own constructor, for ~100 items a project.
    return _new(DigestItem, (
        row.key, row.seq, _KINDS[row.kind], one_line(row.title), row.status, row.priority, row.assignee_id,
        row.due_date, row.created_at, row.closed_at, days_overdue,
    ))  # fmt: skip


_new = tuple.__new__


def _by_kind_then_seq(item: DigestItem) -> tuple[int, int]:
    return _ORDER[item.kind], item.seq


def weekly_digests(
    session: Session,
    targets: Sequence[tuple[Project, datetime]],
    *,
    now: datetime,
    records: dict[int, list[RecordRow]] | None = None,
) -> list[DigestData]:
    """The digest data of each ``(project, slot)``, in the order given.

    Work is read as of ``min(now, slot)``: at the slot for a digest being sent, at
    ``now`` for a preview of one still to come. ``records``: the projects' rows already read
    (:func:`bot.domain.record_rows.fetch`, with bounds at least as wide as :func:`records_since`'s).
    """
    results: list[DigestData] = []
    for chunk in chunks(targets):
        results.extend(_digest_chunk(session, chunk, now, records))
    return results


def weekly_digest(session: Session, *, project: Project, slot: datetime, now: datetime) -> DigestData:
    return weekly_digests(session, [(project, slot)], now=now)[0]


def records_since(targets: Sequence[tuple[Project, datetime]], now: datetime) -> Since:
    """What the digests of ``targets`` read: records logged since the earliest week, closed since the
    earliest KPI window (and every open one)."""
    earliest_week = min(slot for _, slot in targets) - WEEK
    kpi_since = min(min(now, slot) for _, slot in targets) - timedelta(days=KPI_DAYS)
    return Since(created=earliest_week, closed=kpi_since)


def _digest_chunk(
    session: Session,
    targets: Sequence[tuple[Project, datetime]],
    now: datetime,
    records: dict[int, list[RecordRow]] | None,
) -> list[DigestData]:
    ids = [project.id for project, _ in targets]
    windows = {project.id: (slot - WEEK, slot, min(now, slot)) for project, slot in targets}
    since = records_since(targets, now)
    earliest_week, kpi_since = since.created, since.closed
    latest_slot = max(end for _, end, _ in windows.values())
    if records is None:
        rows = fetch(session, ids, since)
    else:  # read with others' (wider) bounds: keep what this query would have brought back
        closed, created = kpi_since.astimezone(UTC), earliest_week.astimezone(UTC)  # as the rows' (cheaper)
        rows = {
            pid: [r for r in records.get(pid, ()) if in_digest(r, closed=closed, created=created)]
            for pid in ids
        }

    history: dict[int, list[Row]] = {pid: [] for pid in ids}
    for entry in session.execute(
        select(
            HistoryEntry.project_id,
            HistoryEntry.record_key,
            HistoryEntry.field,
            HistoryEntry.old,
            HistoryEntry.new,
            HistoryEntry.by,
            HistoryEntry.at,
        )
        .where(
            HistoryEntry.project_id.in_(ids),
            HistoryEntry.scope_change.is_(True),
            HistoryEntry.at >= earliest_week,
            HistoryEntry.at < latest_slot,
        )
        .order_by(HistoryEntry.at, HistoryEntry.id)
    ):
        start, end, _ = windows[entry.project_id]
        if start <= entry.at < end:
            history[entry.project_id].append(entry)

    changed = {(e.project_id, e.record_key) for entries in history.values() for e in entries}
    titles = {
        (pid, row.key): row.title
        for pid in {pid for pid, _ in changed}
        for row in rows[pid]
        if (pid, row.key) in changed
    }
    missing = changed - set(titles)
    if missing:
        for pid, key, title in session.execute(
            select(Record.project_id, Record.key, Record.title).where(
                Record.project_id.in_({pid for pid, _ in missing}),
                Record.key.in_({key for _, key in missing}),
                Record.deleted_at.is_(None),
            )
        ):
            titles[(pid, key)] = title

    surveys = satisfaction_history(session, project_ids=ids, before=latest_slot)
    moves: dict[int, dict[str, datetime]] = {pid: {} for pid in ids}
    for (pid, key), at in resolved_moves(session, ids, since=kpi_since).items():
        moves.setdefault(pid, {})[key] = at  # grouped once, not filtered again for every project
    levels = service_level_weeks(session, [(p, windows[p.id][0], windows[p.id][1]) for p, _ in targets])
    issue_answers = issue_satisfaction_of(session, project_ids=ids, before=latest_slot)
    digests = [
        _digest_of(
            project,
            windows[project.id],
            rows[project.id],
            moves[project.id],
            [
                ScopeChange(
                    key=e.record_key,
                    title=one_line(titles[(e.project_id, e.record_key)])
                    if (e.project_id, e.record_key) in titles
                    else None,
                    field=e.field,
                    old=e.old,
                    new=e.new,
                    by=e.by,
                    at=e.at,
                )
                for e in history[project.id]
            ],
            surveys.get(project.id, []),
        )
        for project, _ in targets
    ]
    return [
        _with_issue_satisfaction(
            replace(d, service_levels=levels.get(d.project.id)), issue_answers.get(d.project.id, [])
        )
        for d in digests
    ]


def _with_issue_satisfaction(data: DigestData, answers: list[tuple[datetime, int]]) -> DigestData:
    figure = issue_satisfaction(answers, before=data.slot)
    kpis = replace(data.kpis, issue_satisfaction=figure.average, issue_answers=figure.count)
    return replace(data, kpis=kpis)


def _digest_of(
    project: Project,
    window: tuple[datetime, datetime, datetime],
    rows: list[RecordRow],
    moves: dict[str, datetime],
    scope_changes: list[ScopeChange],
    surveys: list[tuple[datetime, float]],
) -> DigestData:
    start, slot, as_of = window
    satisfaction = satisfaction_at(surveys, slot)
    zone = ZoneInfo(project.timezone)
    today = as_of.astimezone(zone).date()
    kpi_since = as_of - timedelta(days=KPI_DAYS)
    # The same instants in UTC, as the rows' are: comparing two datetimes of one time zone skips asking
    # each for its offset, and the loop below compares a couple of hundred thousand.
    start_u, slot_u, as_of_u, kpi_since_u = (t.astimezone(UTC) for t in (start, slot, as_of, kpi_since))

    done: list[DigestItem] = []
    delivered: list[DigestItem] = []
    in_progress: list[DigestItem] = []
    new: list[DigestItem] = []
    overdue: list[DigestItem] = []
    issue_ages: dict[str, list[tuple[datetime, str]]] = {}
    risks: list[tuple[int, int, RecordRow]] = []  # (-score, seq, row): highest score first
    open_work: dict[tuple[str | None, str], list[Any]] = {}  # (assignee, kind) → [count, hours]
    done_with_due: list[tuple[datetime, date]] = []
    resolutions: list[tuple[datetime, datetime]] = []
    open_created: list[datetime] = []  # the chart's records open now and never closed: when they were created
    closed_rows: list[RecordRow] = []  # and those closed at some point
    open_total = logged = open_since = 0

    # A plain loop over named tuples, each condition tested once: this runs for every record of every
    # project in a weekly run (see :mod:`bot.domain.record_rows`).
    for row in rows:
        kind, status, created_at, closed_at = row.kind, row.status, row.created_at, row.closed_at
        is_open = status in _OPEN_BY_VALUE[kind]
        if created_at >= as_of_u:
            open_since += is_open
            continue  # logged after the digest's instant: next week's news
        if start_u <= created_at < slot_u:
            logged += 1
            if kind in (_REQUIREMENT, _ISSUE):
                new.append(_item(row))
        if closed_at is not None:
            closed_rows.append(row)
            if start_u <= closed_at < slot_u and status == _DONE_BY_VALUE[kind]:
                (delivered if kind == _REQUIREMENT else done).append(_item(row))
            if (
                kpi_since_u <= closed_at < as_of_u
                and kind == _TASK
                and status == "done"
                and row.due_date is not None
            ):
                done_with_due.append((closed_at, row.due_date))
        elif is_open:
            open_created.append(created_at)
        if kind == _ISSUE and status in _RESOLVED_OR_CLOSED:  # the only statuses with a resolution time
            resolved = resolved_at(status, closed_at, moves.get(row.key))
            if resolved is not None and kpi_since_u <= resolved < as_of_u:
                resolutions.append((created_at, resolved))
        if not is_open:
            continue
        open_total += 1
        due_date = row.due_date
        if due_date is not None and due_date < today:
            overdue.append(_item(row, max((today - due_date).days, 0)))
        if status == "in_progress":
            in_progress.append(_item(row))
        if kind == _ISSUE:
            issue_ages.setdefault(row.priority, []).append((created_at, row.key))
        if kind in (_TASK, _ISSUE):
            mine = open_work.get((row.assignee_id, kind))
            if mine is None:
                mine = open_work[(row.assignee_id, kind)] = [0, 0.0]
            mine[0] += 1
            mine[1] += float(row.estimate_hours or 0)
        elif kind == _RISK:
            risks.append((-(risk_score(row.probability, row.impact) or 0), row.seq, row))

    work = workload((who, kind, count, hours) for (who, kind), (count, hours) in open_work.items())
    timely = on_time(done_with_due, zone)
    resolution = resolution_time(resolutions)
    exposure = risk_exposure((r.probability, r.impact) for _, _, r in risks)
    issues = []
    for priority in [*PRIORITY_ORDER, *sorted(set(issue_ages) - set(PRIORITY_ORDER))]:
        entries = sorted(issue_ages.get(priority, []))
        if not entries:
            continue
        ages = [(as_of - created).total_seconds() / 86400 for created, _ in entries]
        issues.append(
            IssueAges(
                priority=priority,
                count=len(entries),
                oldest_key=entries[0][1],
                oldest_days=max(int(ages[0]), 0),
                median_days=max(round(statistics.median(ages), 1), 0.0),
            )
        )
    risks.sort(key=lambda r: (r[0], r[1]))
    top_risks = tuple(
        RiskLine(r.key, one_line(r.title), r.status, r.probability, r.impact, r.assignee_id)
        for _, _, r in risks[:TOP_RISKS]
    )
    return DigestData(
        project=ProjectView.of(project),
        slot=slot,
        week_start=start,
        as_of=as_of,
        today=today,
        done=tuple(sorted(done, key=lambda i: (i.closed_at or slot, i.seq))),
        delivered=tuple(sorted(delivered, key=lambda i: (i.closed_at or slot, i.seq))),
        in_progress=tuple(
            sorted(
                in_progress, key=lambda i: (i.due_date is None, i.due_date or today, *_by_kind_then_seq(i))
            )
        ),
        new=tuple(sorted(new, key=_by_kind_then_seq)),
        scope_changes=tuple(scope_changes),
        overdue=tuple(sorted(overdue, key=lambda i: (-i.days_overdue, *_by_kind_then_seq(i)))),
        issues=tuple(issues),
        top_risks=top_risks,
        workload=work.people,
        unassigned=work.unassigned,
        open_total=open_total,
        kpis=Kpis(
            on_time=timely.on_time,
            with_due_date=timely.with_due_date,
            issues_closed=resolution.resolved,
            median_resolution=resolution.median,
            risk_exposure=exposure.score,
            open_risks=exposure.open_risks,
            satisfaction=satisfaction,
        ),
        logged=logged,
        open_since=open_since,
        chart=weekly_series(
            open_created=open_created,
            closed=closed_rows,
            created_at=project.created_at,
            slot=slot,
            timezone=project.timezone,
            is_done=_is_done,
            satisfaction=surveys,
        ),
    )


def _is_done(row: RecordRow) -> bool:
    return row.status == _DONE_BY_VALUE[row.kind]
