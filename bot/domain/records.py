"""Records (requirements, issues, tasks, risks): creation and look-up."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import or_, update
from sqlalchemy.orm import Session

from bot.domain.dates import parse_date
from bot.domain.errors import N_, UserError
from bot.domain.parsing import check_title
from bot.domain.service_levels import gets_clocks, start_clocks
from bot.domain.statuses import LIFECYCLES
from bot.domain.views import RecordView
from bot.slack.text import clean
from storage import queries
from storage.models import Kind, Priority, Project, ProjectStatus, Record

# Full text stays in the store; Slack's input fields take 3,000 characters.
MAX_DESCRIPTION = 40_000


@dataclass
class NewRecord:
    kind: Kind
    title: str
    description: str = ""
    assignee_id: str | None = None
    due_date: date | None = None
    # Natural words ("friday", "下周五") resolved in the project's time zone.
    due_text: str | None = None
    priority: Priority | None = None
    estimate_hours: float | None = None
    probability: int | None = None
    impact: int | None = None
    mitigation: str | None = None
    requester_id: str | None = None
    source_url: str | None = None
    source_channel_id: str | None = None
    source_ts: str | None = None
    # Whether the requester is a customer (external); issues with one get service levels.
    requester_external: bool | None = None
    # When the customer wrote (the clocks' start); creation time when None.
    requested_at: datetime | None = None

    @property
    def starts_clocks(self) -> bool:
        """Whether logging it starts service-level clocks (without them it never has a service level)."""
        return gets_clocks(self.kind, requester_external=self.requester_external)


def project_today(project_timezone: str, now: datetime) -> date:
    return now.astimezone(ZoneInfo(project_timezone)).date()


def resolve_due(text: str, *, project_timezone: str, now: datetime) -> date:
    return parse_date(text, today=project_today(project_timezone, now))


def channel_project_row(session: Session, *, team_id: str, channel_id: str) -> Project | None:
    """The channel's project as a row of ``session`` (a session keeps a row only while something refers to it:
    held by the caller, ``create_record`` in the same transaction finds it there instead of loading it again)."""
    return queries.project_for_channel(session, team_id=team_id, channel_id=channel_id)


def channel_project_rows(
    session: Session, channels: Iterable[tuple[str, str]]
) -> dict[tuple[str, str], Project]:
    """The projects of several ``(workspace, channel)``, as rows of ``session``, by channel (one query)."""
    return queries.projects_for_channels(session, channels)


def create_record(
    session: Session,
    *,
    team_id: str,
    project_id: int,
    user_id: str,
    new: NewRecord,
    now: datetime,
) -> RecordView:
    """Store a record under the project's next key. Validation happens before anything is written."""
    project = session.get(Project, project_id)
    if project is None or project.team_id != team_id:
        raise UserError(N_("That project no longer exists."), field="project")
    record = prepare_record(project, team_id=team_id, user_id=user_id, new=new, now=now)
    store_records(session, [(record, project)])
    return RecordView.of(record, project)


def prepare_record(project: Project, *, team_id: str, user_id: str, new: NewRecord, now: datetime) -> Record:
    """Check ``new`` against ``project`` and build its row, without a key yet (:func:`store_records` takes it):
    every ``UserError`` of logging a record is raised here, before anything is written."""
    if project.status != ProjectStatus.ACTIVE:
        raise UserError(
            N_("Project %(key)s is closed; reopen it to log new records."), key=project.key, field="project"
        )
    title = check_title(clean(new.title))
    description = clean(new.description or "")
    if len(description) > MAX_DESCRIPTION:
        raise UserError(
            N_("The description is too long (at most %(limit)s characters)."),
            limit=MAX_DESCRIPTION,
            field="description",
        )
    due = new.due_date
    if new.due_text:
        due = resolve_due(new.due_text, project_timezone=project.timezone, now=now)
    record = Record(
        team_id=team_id,
        project_id=project.id,
        kind=new.kind,
        title=title,
        description=description,
        status=LIFECYCLES[new.kind].initial,
        priority=new.priority or Priority.MEDIUM,
        assignee_id=new.assignee_id,
        due_date=due,
        estimate_hours=new.estimate_hours if new.kind is Kind.TASK else None,
        probability=new.probability if new.kind is Kind.RISK else None,
        impact=new.impact if new.kind is Kind.RISK else None,
        mitigation=new.mitigation if new.kind is Kind.RISK else None,
        created_by=user_id,
        requester_id=new.requester_id,
        created_at=now,
        updated_at=now,
        source_url=new.source_url,
        source_channel_id=new.source_channel_id,
        source_ts=new.source_ts,
        requester_external=new.requester_external,
        version=1,
    )
    start_clocks(record, project, start=new.requested_at or now)
    return record


def store_records(session: Session, made: Sequence[tuple[Record, Project]]) -> None:
    """Give each prepared record the next key of its project, in the order given, and insert them all: one
    ``UPDATE … RETURNING`` for their projects (``queries.allocate_seqs``) and one ``INSERT`` for the rows. Sets
    each record's ``seq``, ``key`` and ``id``."""
    session.flush()  # what the caller changed is written first, as the ORM's own statements would (no-op if none)
    by_project: dict[int, tuple[Project, list[Record]]] = {}
    for record, project in made:
        by_project.setdefault(project.id, (project, []))[1].append(record)
    last = queries.allocate_seqs(session, {pid: len(records) for pid, (_, records) in by_project.items()})
    for project_id, (project, records) in by_project.items():
        for seq, record in enumerate(records, start=last[project_id] - len(records) + 1):
            record.seq = seq
            record.key = f"{project.key}-{seq}"
    queries.insert_records(session, [record for record, _ in made])


def set_cards(session: Session, cards: Sequence[tuple[int, str, str]]) -> None:
    """Remember where records' cards were posted, ``(record id, channel, ts)`` each, so they can be redrawn in
    place."""
    # A plain UPDATE, not the ORM's: this is no change of the record (its version stays), and a
    # click that changed the record meanwhile must not make it fail (see ``Record.version``).
    queries.set_cards(session, cards)


def set_source(session: Session, *, record_id: int, url: str) -> None:
    session.execute(
        update(Record)
        .where(Record.id == record_id, or_(Record.source_url.is_(None), Record.source_url == ""))
        .values(source_url=url)
    )
