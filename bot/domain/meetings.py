"""Meetings: notes, decisions and action items. Every action item becomes a task of the project.

A meeting takes its key from the project's one sequence (``ACME-3``), and its
tasks take the keys that follow, all in the caller's single write transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.domain.errors import N_, UserError
from bot.domain.parsing import MAX_TITLE
from bot.domain.records import NewRecord, create_record, project_today
from bot.i18n import t
from bot.slack.text import clean
from storage import queries
from storage.models import Kind, Meeting, Project, ProjectStatus, Record

MAX_MEETING_TITLE = 200
MAX_NOTES = 20_000
MAX_DECISIONS = 20_000
MAX_ATTENDEES = 100
MAX_ITEMS = 50

# Fields a validation error can name; the Slack edge maps them onto the form's blocks.
FIELD_PROJECT = "project"
FIELD_TITLE = "title"
FIELD_HELD_ON = "held_on"
FIELD_NOTES = "notes"
FIELD_DECISIONS = "decisions"


def item_field(row: int) -> str:
    """The field of action item ``row`` (counted from 0, as the form's rows are)."""
    return f"item:{row}"


def item_row(field_name: str) -> int | None:
    prefix, _, row = field_name.partition(":")
    return int(row) if prefix == "item" and row.isdigit() else None


@dataclass(frozen=True)
class NewActionItem:
    text: str = ""
    owner_id: str | None = None
    due_date: date | None = None
    # Where the item came from in the form, so an error lands on the right row.
    row: int = 0

    @property
    def is_blank(self) -> bool:
        return not self.text.strip() and not self.owner_id and self.due_date is None


@dataclass
class NewMeeting:
    title: str
    held_on: date | None = None
    attendees: list[str] = field(default_factory=list)
    notes: str = ""
    decisions: str = ""
    items: list[NewActionItem] = field(default_factory=list)
    source_url: str | None = None


class MeetingInvalid(UserError):
    """One or more fields of a meeting are wrong; each error names its field."""

    def __init__(self, errors: Sequence[UserError]) -> None:
        first = errors[0]
        super().__init__(first.message, field=first.field, **first.params)
        self.errors = list(errors)


@dataclass(frozen=True)
class ActionItemView:
    key: str
    title: str
    assignee_id: str | None
    due_date: date | None


@dataclass(frozen=True)
class MeetingView:
    id: int
    team_id: str
    project_id: int
    project_key: str
    project_channel_id: str | None
    locale: str
    key: str
    title: str
    held_on: date
    attendees: tuple[str, ...]
    notes: str
    decisions: str
    created_by: str
    created_at: datetime
    source_url: str | None
    items: tuple[ActionItemView, ...] = ()
    card_channel_id: str | None = None
    card_ts: str | None = None

    @classmethod
    def of(cls, meeting: Meeting, project: Project, items: Sequence[Record]) -> MeetingView:
        return cls(
            id=meeting.id,
            team_id=meeting.team_id,
            project_id=project.id,
            project_key=project.key,
            project_channel_id=project.channel_id,
            locale=project.locale,
            key=meeting.key,
            title=meeting.title,
            held_on=meeting.held_on,
            attendees=tuple(meeting.attendees or ()),
            notes=meeting.notes,
            decisions=meeting.decisions,
            created_by=meeting.created_by,
            created_at=meeting.created_at,
            source_url=meeting.source_url,
            items=tuple(
                ActionItemView(key=r.key, title=r.title, assignee_id=r.assignee_id, due_date=r.due_date)
                for r in items
            ),
            card_channel_id=meeting.card_channel_id,
            card_ts=meeting.card_ts,
        )


def check_meeting(new: NewMeeting) -> NewMeeting:
    """The meeting cleaned up, or :class:`MeetingInvalid` listing every wrong field. Writes nothing."""
    errors: list[UserError] = []
    title = clean(new.title).strip()
    if not title:
        errors.append(UserError(N_("Give the meeting a title."), field=FIELD_TITLE))
    elif len(title) > MAX_MEETING_TITLE:
        errors.append(
            UserError(
                N_("A meeting title can have at most %(limit)s characters."),
                limit=MAX_MEETING_TITLE,
                field=FIELD_TITLE,
            )
        )
    notes = clean(new.notes or "").strip()
    if len(notes) > MAX_NOTES:
        errors.append(
            UserError(N_("The notes are too long (at most %(limit)s characters)."), limit=MAX_NOTES,
                      field=FIELD_NOTES)
        )  # fmt: skip
    decisions = clean(new.decisions or "").strip()
    if len(decisions) > MAX_DECISIONS:
        errors.append(
            UserError(N_("The decisions are too long (at most %(limit)s characters)."), limit=MAX_DECISIONS,
                      field=FIELD_DECISIONS)
        )  # fmt: skip
    items: list[NewActionItem] = []
    for item in new.items:
        if item.is_blank:
            continue
        text = " ".join(clean(item.text).split())
        if not text:
            errors.append(
                UserError(
                    N_("Write what is to be done, or clear this row's owner and date."),
                    field=item_field(item.row),
                )
            )
            continue
        limit = min(MAX_TITLE, MAX_MEETING_TITLE)
        if len(text) > limit:
            errors.append(
                UserError(
                    N_("An action item can have at most %(limit)s characters."),
                    limit=limit,
                    field=item_field(item.row),
                )
            )
            continue
        items.append(NewActionItem(text=text, owner_id=item.owner_id, due_date=item.due_date, row=item.row))
    if len(items) > MAX_ITEMS:
        errors.append(
            UserError(N_("A meeting can have at most %(limit)s action items."), limit=MAX_ITEMS,
                      field=FIELD_TITLE)
        )  # fmt: skip
    attendees = list(dict.fromkeys(a for a in new.attendees if a))
    if len(attendees) > MAX_ATTENDEES:
        errors.append(
            UserError(N_("A meeting can list at most %(limit)s attendees."), limit=MAX_ATTENDEES,
                      field=FIELD_TITLE)
        )  # fmt: skip
    if errors:
        raise MeetingInvalid(errors)
    return NewMeeting(
        title=title,
        held_on=new.held_on,
        attendees=attendees,
        notes=notes,
        decisions=decisions,
        items=items,
        source_url=new.source_url,
    )


def _active_project(session: Session, *, team_id: str, project_id: int) -> Project:
    project = session.get(Project, project_id)
    if project is None or project.team_id != team_id:
        raise UserError(N_("That project no longer exists."), field=FIELD_PROJECT)
    if project.status != ProjectStatus.ACTIVE:
        raise UserError(
            N_("Project %(key)s is closed; reopen it to log new records."),
            key=project.key,
            field=FIELD_PROJECT,
        )
    return project


def create_meeting(
    session: Session,
    *,
    team_id: str,
    project_id: int,
    user_id: str,
    new: NewMeeting,
    now: datetime,
) -> MeetingView:
    """Store the meeting under the project's next key and one task per action item (the keys after it).

    Everything is validated before anything is written; the caller's transaction makes it all-or-nothing.
    """
    project = _active_project(session, team_id=team_id, project_id=project_id)
    new = check_meeting(new)
    seq = queries.allocate_seq(session, project_id=project.id)
    meeting = Meeting(
        team_id=team_id,
        project_id=project.id,
        seq=seq,
        key=f"{project.key}-{seq}",
        title=new.title,
        held_on=new.held_on or project_today(project.timezone, now),
        attendees=list(new.attendees),
        notes=new.notes,
        decisions=new.decisions,
        created_by=user_id,
        created_at=now,
        source_url=new.source_url,
    )
    session.add(meeting)
    session.flush()
    tasks: list[Record] = []
    for item in new.items:
        created = create_record(
            session,
            team_id=team_id,
            project_id=project.id,
            user_id=user_id,
            new=NewRecord(
                kind=Kind.TASK,
                title=item.text,
                description=t(
                    project.locale,
                    "Action item from meeting %(key)s: %(title)s",
                    key=meeting.key,
                    title=meeting.title,
                ),
                assignee_id=item.owner_id,
                due_date=item.due_date,
                source_url=new.source_url,
            ),
            now=now,
        )
        task = session.get(Record, created.id)
        if task is None:  # pragma: no cover - just flushed in this transaction
            raise RuntimeError(f"task {created.key} vanished")
        task.meeting_id = meeting.id
        tasks.append(task)
    session.flush()
    return MeetingView.of(meeting, project, tasks)


def _action_items(session: Session, meeting_ids: Sequence[int]) -> dict[int, list[Record]]:
    found: dict[int, list[Record]] = {}
    if not meeting_ids:
        return found
    rows = session.scalars(
        select(Record).where(Record.meeting_id.in_(meeting_ids)).order_by(Record.project_id, Record.seq)
    )
    for record in rows:
        if record.meeting_id is not None:
            found.setdefault(record.meeting_id, []).append(record)
    return found


def list_meetings(session: Session, *, team_id: str, project_id: int, limit: int = 20) -> list[MeetingView]:
    """The project's latest meetings, newest first, each with its action items."""
    project = session.get(Project, project_id)
    if project is None or project.team_id != team_id:
        return []
    meetings = list(
        session.scalars(
            select(Meeting)
            .where(Meeting.team_id == team_id, Meeting.project_id == project_id)
            .order_by(Meeting.seq.desc())
            .limit(limit)
        )
    )
    items = _action_items(session, [m.id for m in meetings])
    return [MeetingView.of(m, project, items.get(m.id, [])) for m in meetings]


def set_meeting_card(session: Session, *, meeting_id: int, channel_id: str, ts: str) -> None:
    """Remember where the meeting's summary was posted."""
    meeting = session.get(Meeting, meeting_id)
    if meeting is not None:
        meeting.card_channel_id = channel_id
        meeting.card_ts = ts


def set_meeting_source(session: Session, *, meeting_id: int, url: str) -> None:
    """The permalink of the message the notes came from, when it was found only after saving."""
    meeting = session.get(Meeting, meeting_id)
    if meeting is not None and not meeting.source_url:
        meeting.source_url = url
        for task in session.scalars(select(Record).where(Record.meeting_id == meeting_id)):
            if not task.source_url:
                task.source_url = url
