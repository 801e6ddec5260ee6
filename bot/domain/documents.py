"""A project's documents: stored documents of record (the retrospective report) and the document index.

Plain data out, no Slack. The index (``/project docs``) lists, for one project:

- its stored documents (newest first), with the permalink of their uploaded file — only
  to people of the workspace's own organisation: the retrospective report is internal;
- its meetings, with where their summary was posted (to link to it) and the message
  the notes came from;
- every record logged from a Slack message, with the permalink of that message.

Four queries whatever the size of the project.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.domain.errors import N_, UserError
from bot.domain.people import get_person
from bot.domain.views import ProjectView
from storage.models import Document, Kind, Meeting, Project, Record

KIND_RETROSPECTIVE = "retrospective"
DOCUMENT_KINDS = (KIND_RETROSPECTIVE,)
# At most this many of each list in the index; the rest are counted.
MAX_INDEX_ITEMS = 50


@dataclass(frozen=True)
class DocumentView:
    id: int
    team_id: str
    project_id: int
    kind: str
    title: str
    content: str
    created_by: str | None
    created_at: datetime
    file_id: str | None
    permalink: str | None

    @classmethod
    def of(cls, document: Document) -> DocumentView:
        return cls(
            id=document.id,
            team_id=document.team_id,
            project_id=document.project_id,
            kind=document.kind,
            title=document.title,
            content=document.content,
            created_by=document.created_by,
            created_at=document.created_at,
            file_id=document.file_id,
            permalink=document.permalink,
        )


def store_document(
    session: Session,
    *,
    team_id: str,
    project_id: int,
    kind: str,
    title: str,
    content: str,
    created_by: str | None,
    now: datetime,
) -> DocumentView:
    """Keep a document of record; its file is uploaded (and noted with :func:`set_document_file`) later."""
    if kind not in DOCUMENT_KINDS:
        raise ValueError(f"unknown document kind {kind!r}")
    document = Document(
        team_id=team_id,
        project_id=project_id,
        kind=kind,
        title=title[:255],
        content=content,
        created_by=created_by,
        created_at=now,
    )
    session.add(document)
    session.flush()
    return DocumentView.of(document)


def get_document(session: Session, *, team_id: str, document_id: int) -> DocumentView | None:
    document = session.get(Document, document_id)
    if document is None or document.team_id != team_id:
        return None
    return DocumentView.of(document)


def set_document_file(
    session: Session, *, team_id: str, document_id: int, file_id: str | None, permalink: str | None
) -> None:
    """Remember the Slack file a document was uploaded as (the first upload wins)."""
    document = session.get(Document, document_id)
    if document is None or document.team_id != team_id or document.file_id:
        return
    document.file_id = file_id
    document.permalink = permalink


def list_documents(session: Session, *, team_id: str, project_id: int) -> list[DocumentView]:
    """The project's documents, newest first."""
    return [
        DocumentView.of(d)
        for d in session.scalars(
            select(Document)
            .where(Document.team_id == team_id, Document.project_id == project_id)
            .order_by(Document.created_at.desc(), Document.id.desc())
        )
    ]


# -- the index ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class IndexedDocument:
    title: str
    kind: str
    created_on: date
    permalink: str | None
    # The uploaded file: its permalink is asked of Slack (files.info) when the index is shown.
    file_id: str | None = None


@dataclass(frozen=True)
class IndexedMeeting:
    key: str
    title: str
    held_on: date
    # Where the summary was posted (link to it when both are known).
    card_channel_id: str | None
    card_ts: str | None
    # The message the notes came from, when logged with the shortcut.
    source_url: str | None


@dataclass(frozen=True)
class IndexedRecord:
    key: str
    kind: Kind
    title: str
    source_url: str


@dataclass(frozen=True)
class DocsIndex:
    project: ProjectView
    documents: tuple[IndexedDocument, ...]
    meetings: tuple[IndexedMeeting, ...]  # newest first
    records: tuple[IndexedRecord, ...]  # in key order
    # How many of each there are in all (the lists stop at MAX_INDEX_ITEMS).
    meetings_total: int
    records_total: int
    # False for a person of another organisation: internal documents are left out for them.
    internal: bool = True

    @property
    def empty(self) -> bool:
        return not (self.documents or self.meetings or self.records)


def _one_line(text: str) -> str:
    return " ".join(text.split())


def docs_index(
    session: Session, *, team_id: str, project_id: int, viewer_id: str | None, limit: int = MAX_INDEX_ITEMS
) -> DocsIndex:
    project = session.get(Project, project_id)
    if project is None or project.team_id != team_id:
        raise UserError(N_("That project no longer exists."))
    viewer = get_person(session, team_id=team_id, user_id=viewer_id) if viewer_id else None
    internal = not (viewer is not None and viewer.is_external)
    zone = ZoneInfo(project.timezone)

    documents: tuple[IndexedDocument, ...] = ()
    if internal:
        documents = tuple(
            IndexedDocument(
                title=d.title,
                kind=d.kind,
                created_on=d.created_at.astimezone(zone).date(),
                permalink=d.permalink,
                file_id=d.file_id,
            )
            for d in list_documents(session, team_id=team_id, project_id=project.id)[:limit]
        )

    meeting_rows = list(
        session.execute(
            select(
                Meeting.key,
                Meeting.title,
                Meeting.held_on,
                Meeting.card_channel_id,
                Meeting.card_ts,
                Meeting.source_url,
                func.count().over(),
            )
            .where(Meeting.team_id == team_id, Meeting.project_id == project.id)
            .order_by(Meeting.held_on.desc(), Meeting.seq.desc())
            .limit(limit)
        )
    )
    meetings = tuple(
        IndexedMeeting(
            key=row.key,
            title=_one_line(row.title),
            held_on=row.held_on,
            card_channel_id=row.card_channel_id,
            card_ts=row.card_ts,
            source_url=row.source_url,
        )
        for row in meeting_rows
    )

    record_rows = list(
        session.execute(
            select(Record.key, Record.kind, Record.title, Record.source_url, func.count().over())
            .where(
                Record.team_id == team_id,
                Record.project_id == project.id,
                Record.deleted_at.is_(None),
                Record.source_url.is_not(None),
                Record.source_url != "",
            )
            .order_by(Record.seq)
            .limit(limit)
        )
    )
    records = tuple(
        IndexedRecord(key=row.key, kind=Kind(row.kind), title=_one_line(row.title), source_url=row.source_url)
        for row in record_rows
    )
    return DocsIndex(
        project=ProjectView.of(project),
        documents=documents,
        meetings=meetings,
        records=records,
        meetings_total=int(meeting_rows[0][-1]) if meeting_rows else 0,
        records_total=int(record_rows[0][-1]) if record_rows else 0,
        internal=internal,
    )
