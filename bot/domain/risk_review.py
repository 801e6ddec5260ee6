"""The weekly risk review of a project, and its buttons (confirm a risk, adjust its probability or impact).

Plain data out, no Slack; computed for many projects at once with a fixed number of queries.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from bot.domain.errors import N_, UserError
from bot.domain.lifecycle import Change, history_line, load
from bot.domain.permissions import require_record_change
from bot.domain.rows import Row, chunks, one_line
from bot.domain.status import open_condition
from bot.domain.statuses import LIFECYCLES
from bot.domain.views import ProjectView, RecordView
from storage.models import Kind, Person, Project, ProjectStatus, Record

# A risk not reviewed for this long is flagged in the risk review.
REVIEW_STALE_DAYS = 14


@dataclass(frozen=True)
class ReviewRisk:
    key: str
    seq: int
    title: str
    status: str
    probability: int | None
    impact: int | None
    owner_id: str | None
    last_reviewed_at: datetime | None
    version: int
    flagged: bool  # open and never reviewed, or not in REVIEW_STALE_DAYS days
    deleted: bool = False

    @property
    def score(self) -> int | None:
        if self.probability is None or self.impact is None:
            return None
        return self.probability * self.impact

    @property
    def is_open(self) -> bool:
        return not self.deleted and self.status in LIFECYCLES[Kind.RISK].open


@dataclass(frozen=True)
class RiskReview:
    project: ProjectView
    as_of: datetime
    today: date
    risks: tuple[ReviewRisk, ...]  # highest score first
    stale_days: int = REVIEW_STALE_DAYS
    # Keys are ordered as listed; lets a redraw keep a message's risks where they were.
    keys: tuple[str, ...] = field(default=())
    # Display names of owners (from the directory), so owners of risks that need no review are not pinged.
    names: dict[str, str] = field(default_factory=dict)

    @property
    def flagged(self) -> tuple[ReviewRisk, ...]:
        return tuple(r for r in self.risks if r.flagged)

    @property
    def open_count(self) -> int:
        return sum(1 for r in self.risks if r.is_open)

    @property
    def owners_to_mention(self) -> tuple[str, ...]:
        """Owners of flagged risks, each once, in the order their risks are listed."""
        seen: dict[str, None] = {}
        for risk in self.flagged:
            if risk.owner_id:
                seen.setdefault(risk.owner_id)
        return tuple(seen)

    @property
    def unowned_flagged(self) -> int:
        return sum(1 for r in self.flagged if not r.owner_id)


def _is_flagged(status: str, last_reviewed_at: datetime | None, now: datetime) -> bool:
    if status not in LIFECYCLES[Kind.RISK].open:
        return False
    return last_reviewed_at is None or last_reviewed_at < now - timedelta(days=REVIEW_STALE_DAYS)


_RISK_COLUMNS = (
    Record.project_id,
    Record.key,
    Record.seq,
    Record.title,
    Record.status,
    Record.probability,
    Record.impact,
    Record.assignee_id,
    Record.last_reviewed_at,
    Record.version,
    Record.deleted_at,
)


def _review_risk(row: Row, now: datetime) -> ReviewRisk:
    return ReviewRisk(
        key=row.key,
        seq=row.seq,
        title=one_line(row.title),
        status=row.status,
        probability=row.probability,
        impact=row.impact,
        owner_id=row.assignee_id,
        last_reviewed_at=row.last_reviewed_at,
        version=row.version,
        flagged=row.deleted_at is None and _is_flagged(row.status, row.last_reviewed_at, now),
        deleted=row.deleted_at is not None,
    )


def _by_score(risk: ReviewRisk) -> tuple[int, int]:
    return -(risk.score or 0), risk.seq


def risk_reviews(session: Session, projects: Sequence[Project], *, now: datetime) -> dict[int, RiskReview]:
    """The review of each project that has open risks (one query per chunk of projects)."""
    found: dict[int, list[ReviewRisk]] = {}
    for chunk in chunks(projects):
        for row in session.execute(
            select(*_RISK_COLUMNS)
            .where(Record.project_id.in_([p.id for p in chunk]), open_condition((Kind.RISK,)))
            .order_by(Record.project_id, Record.seq)
        ):
            found.setdefault(row.project_id, []).append(_review_risk(row, now))
    names = _names(session, [(p.team_id, r.owner_id) for p in projects for r in found.get(p.id, [])])
    reviews = {}
    for project in projects:
        risks = sorted(found.get(project.id, []), key=_by_score)
        if risks:
            reviews[project.id] = _review(project, risks, now, names)
    return reviews


def _names(session: Session, people: Iterable[tuple[str, str | None]]) -> dict[tuple[str, str], str]:
    wanted = {(team, user) for team, user in people if user}
    found: dict[tuple[str, str], str] = {}
    users = sorted({user for _, user in wanted})
    teams = sorted({team for team, _ in wanted})
    for chunk in chunks(users):
        for team, user, name in session.execute(
            select(Person.team_id, Person.user_id, Person.name).where(
                Person.team_id.in_(teams), Person.user_id.in_(chunk)
            )
        ):
            if (team, user) in wanted and name and name != user:
                found[(team, user)] = name
    return found


def _review(
    project: Project, risks: Iterable[ReviewRisk], now: datetime, names: dict[tuple[str, str], str]
) -> RiskReview:
    listed = tuple(risks)
    return RiskReview(
        project=ProjectView.of(project),
        as_of=now,
        today=now.astimezone(ZoneInfo(project.timezone)).date(),
        risks=listed,
        keys=tuple(r.key for r in listed),
        names={
            r.owner_id: names[(project.team_id, r.owner_id)]
            for r in listed
            if r.owner_id and (project.team_id, r.owner_id) in names
        },
    )


def risk_review(
    session: Session,
    *,
    team_id: str,
    project_id: int,
    now: datetime,
    keys: Sequence[str] | None = None,
    including: str | None = None,
) -> RiskReview:
    """One project's review as it stands now.

    With ``keys`` (a review message being redrawn) exactly those risks, whatever their
    status now, in that order; otherwise every open risk, highest score first, and
    ``including`` at the end if it is no longer open (the risk just closed from a review).
    """
    project = session.get(Project, project_id)
    if project is None or project.team_id != team_id:
        raise UserError(N_("That project no longer exists."))
    query = select(*_RISK_COLUMNS).where(Record.project_id == project.id, Record.kind == Kind.RISK)
    if keys is not None:
        query = query.where(Record.key.in_(list(keys)))
    elif including:
        query = query.where(or_(open_condition((Kind.RISK,)), Record.key == including))
    else:
        query = query.where(open_condition((Kind.RISK,)))
    risks = [_review_risk(row, now) for row in session.execute(query)]
    if keys is None:
        risks.sort(key=lambda r: (not r.is_open, *_by_score(r)))
    else:
        place = {key: n for n, key in enumerate(keys)}
        risks.sort(key=lambda r: place[r.key])
    return _review(project, risks, now, _names(session, [(project.team_id, r.owner_id) for r in risks]))


# -- review buttons ----------------------------------------------------------------------------


def _load_risk(session: Session, *, team_id: str, key: str) -> tuple[Record, Project]:
    return load(session, team_id=team_id, key=key, kind=Kind.RISK)


def _check_writable(record: Record, project: Project) -> None:
    if project.status != ProjectStatus.ACTIVE:
        raise UserError(
            N_("Project %(key)s is closed: its records are read-only until it is reopened."), key=project.key
        )
    if record.status not in LIFECYCLES[Kind.RISK].open:
        raise UserError(N_("%(key)s is already %(status)s."), key=record.key, status=record.status)


def confirm_risk(
    session: Session, *, team_id: str, key: str, user_id: str, now: datetime, expected_version: int | None
) -> Change:
    """ "Still valid": the risk was looked at and stands as it is; stamps ``last_reviewed_at``.

    Like every change, bumps the version; a button drawn at an older one changes nothing (stale).
    """
    record, project = _load_risk(session, team_id=team_id, key=key)
    if expected_version is not None and expected_version != record.version:
        return Change(RecordView.of(record, project), changed=False, stale=True)
    _check_writable(record, project)
    require_record_change(session, record=record, user_id=user_id)
    session.add(history_line(record, "last_reviewed_at", record.last_reviewed_at, now, by=user_id, now=now))
    record.last_reviewed_at = now
    record.version += 1
    record.updated_at = now
    return Change(RecordView.of(record, project))


ADJUSTABLE = ("probability", "impact")


def adjust_risk(
    session: Session,
    *,
    team_id: str,
    key: str,
    field_name: str,
    delta: int,
    user_id: str,
    now: datetime,
    expected_version: int | None,
) -> Change:
    """Raise or lower a risk's probability or impact by one step (within 1–5); also counts as a review."""
    if field_name not in ADJUSTABLE or delta not in (1, -1):
        raise UserError(N_("This button is broken. Please use the command instead."))
    record, project = _load_risk(session, team_id=team_id, key=key)
    if expected_version is not None and expected_version != record.version:
        return Change(RecordView.of(record, project), changed=False, stale=True)
    _check_writable(record, project)
    require_record_change(session, record=record, user_id=user_id)
    old = getattr(record, field_name)
    if old is None:
        raise UserError(N_("%(key)s has no score yet: set one with /risk edit %(key)s."), key=record.key)
    value = old + delta
    if not 1 <= value <= 5:
        return Change(RecordView.of(record, project), changed=False)
    session.add(history_line(record, field_name, old, value, by=user_id, now=now))
    setattr(record, field_name, value)
    record.last_reviewed_at = now
    record.version += 1
    record.updated_at = now
    return Change(RecordView.of(record, project))
