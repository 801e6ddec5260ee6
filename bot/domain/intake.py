"""Customer intake: the messages of linked channels, their triage, and records logged from them.

Plain functions over a session. Every path that logs a message (the intake emoji, a triage button, ``auto``
intake) goes through :func:`log_from_message`, and the unique constraint on records
``(team_id, source_channel_id, source_ts)`` makes it at most one record per message whatever the path,
retries or races: the loser is told the key of the record that won.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.domain.records import NewRecord, create_record
from bot.domain.service_levels import note_first_response
from bot.domain.views import RecordView
from bot.slack.text import decode_slack_text
from storage import queries
from storage.db import Database
from storage.models import ChannelMessage, Kind, Project, ProjectStatus, Record

TITLE_LIMIT = 200
SUGGESTED, LOGGED, IGNORED = "suggested", "logged", "ignored"
# Message subtypes that are a person's message like any other (https://docs.slack.dev/reference/events/message).
PERSON_SUBTYPES = (None, "file_share", "thread_broadcast")


def ts_time(ts: str) -> datetime:
    """The instant of a Slack message ``ts`` ("1790000000.000100")."""
    return datetime.fromtimestamp(float(ts), tz=UTC)


@dataclass(frozen=True)
class IntakeProject:
    """What intake needs of the project a channel is linked to."""

    id: int
    team_id: str
    key: str
    locale: str
    active: bool
    intake: str
    intake_emoji: str
    thread_updates: bool
    channel_id: str | None


def intake_project(session: Session, *, team_id: str, channel_id: str) -> IntakeProject | None:
    project = queries.project_for_channel(session, team_id=team_id, channel_id=channel_id)
    if project is None:
        return None
    return IntakeProject(
        id=project.id, team_id=project.team_id, key=project.key, locale=project.locale,
        active=project.status == ProjectStatus.ACTIVE, intake=project.intake or "suggest",
        intake_emoji=project.intake_emoji or "ticket", thread_updates=bool(project.thread_updates),
        channel_id=project.channel_id,
    )  # fmt: skip


@dataclass(frozen=True)
class Message:
    """A message of a channel, as a ``message`` event or ``reactions.get`` gives it."""

    channel_id: str
    ts: str
    thread_ts: str | None
    user_id: str | None
    is_bot: bool
    text: str
    file_name: str | None

    @property
    def is_reply(self) -> bool:
        return bool(self.thread_ts and self.thread_ts != self.ts)

    @property
    def thread_root(self) -> str:
        return self.thread_ts or self.ts

    @classmethod
    def of(cls, channel_id: str, message: dict[str, Any], *, bot_user_id: str | None = None) -> Message:
        files = [f for f in message.get("files") or [] if isinstance(f, dict)]
        file_name = next(
            (str(f.get("name") or f.get("title")) for f in files if f.get("name") or f.get("title")), None
        )
        user = message.get("user")
        return cls(
            channel_id=channel_id,
            ts=str(message.get("ts") or ""),
            thread_ts=str(message["thread_ts"]) if message.get("thread_ts") else None,
            user_id=str(user) if isinstance(user, str) and user else None,
            is_bot=bool(message.get("bot_id"))
            or message.get("subtype") == "bot_message"
            or (bot_user_id is not None and user == bot_user_id),
            text=str(message.get("text") or ""),
            file_name=file_name[:255] if file_name else None,
        )


def title_and_description(message: Message) -> tuple[str, str]:
    """Title: the first line of the text, or the file name of a file-only message; description: the text."""
    text = decode_slack_text(message.text or "").strip()
    first = next((line.strip() for line in text.splitlines() if line.strip()), "")
    title = first or (message.file_name or "")
    if len(title) > TITLE_LIMIT:
        title = title[: TITLE_LIMIT - 1].rstrip() + "…"
    return title, text


# -- the stored messages ---------------------------------------------------------------------------------


def _row(session: Session, team_id: str, channel_id: str, ts: str) -> ChannelMessage | None:
    return session.scalar(
        select(ChannelMessage).where(
            ChannelMessage.team_id == team_id,
            ChannelMessage.channel_id == channel_id,
            ChannelMessage.ts == ts,
        )
    )


def store_message(
    db: Database, *, team_id: str, project_id: int, message: Message, internal: bool | None, now: datetime,
    learn: Any = None,
) -> bool:  # fmt: skip
    """Keep a message of a linked channel; False when it was stored already (Slack retried the event).

    ``learn(session)`` runs in the same transaction (an external author becomes a customer contact).
    """
    try:
        with db.write() as session:
            if _row(session, team_id, message.channel_id, message.ts) is not None:
                return False
            session.add(
                ChannelMessage(
                    team_id=team_id,
                    channel_id=message.channel_id,
                    ts=message.ts,
                    thread_ts=message.thread_ts if message.is_reply else None,
                    project_id=project_id,
                    user_id=message.user_id,
                    is_bot=message.is_bot,
                    internal=internal,
                    text=message.text,
                    file_name=message.file_name,
                    created_at=now,
                )
            )
            if learn is not None:
                learn(session)
    except IntegrityError:
        return False  # the same event, handled at the same moment by another worker
    return True


def edit_message(
    session: Session, *, team_id: str, channel_id: str, ts: str, message: dict[str, Any]
) -> None:
    """``message_changed``: the stored text follows the edit (an edit is never intake)."""
    row = _row(session, team_id, channel_id, ts)
    if row is not None:
        edited = Message.of(channel_id, message)
        row.text = edited.text
        row.file_name = edited.file_name or row.file_name


def delete_message(session: Session, *, team_id: str, channel_id: str, ts: str) -> None:
    """``message_deleted``: the stored message is marked deleted (its record, if any, stays)."""
    row = _row(session, team_id, channel_id, ts)
    if row is not None:
        row.deleted = True


def stored_message(session: Session, *, team_id: str, channel_id: str, ts: str) -> Message | None:
    row = _row(session, team_id, channel_id, ts)
    if row is None or row.deleted:
        return None
    return Message(
        channel_id=row.channel_id, ts=row.ts, thread_ts=row.thread_ts, user_id=row.user_id, is_bot=row.is_bot,
        text=row.text, file_name=row.file_name,
    )  # fmt: skip


def key_for_message(session: Session, *, team_id: str, channel_id: str, ts: str) -> str | None:
    """The key of the record logged from this message, by whatever path (None: not logged)."""
    return session.scalar(
        select(Record.key).where(
            Record.team_id == team_id, Record.source_channel_id == channel_id, Record.source_ts == ts
        )
    )


# -- triage ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Triage:
    """Where a suggested message stands: ``suggested``, ``logged`` (with its key) or ``ignored``."""

    state: str | None
    key: str | None = None
    decided_by: str | None = None


def suggest(session: Session, *, team_id: str, channel_id: str, ts: str) -> bool:
    """Mark a stored message as suggested; True only the first time (a retried event suggests nothing)."""
    result = session.execute(
        update(ChannelMessage)
        .where(
            ChannelMessage.team_id == team_id,
            ChannelMessage.channel_id == channel_id,
            ChannelMessage.ts == ts,
            ChannelMessage.triage.is_(None),
            ChannelMessage.record_id.is_(None),
        )
        .values(triage=SUGGESTED)
    )
    return bool(getattr(result, "rowcount", 0))


def ignore(
    session: Session, *, team_id: str, channel_id: str, ts: str, user_id: str, now: datetime
) -> Triage:
    """ "Ignore" on the triage card; a message already logged stays logged."""
    row = _row(session, team_id, channel_id, ts)
    if row is None:
        return Triage(state=None)
    key = key_for_message(session, team_id=team_id, channel_id=channel_id, ts=ts)
    if key is not None:
        return Triage(state=LOGGED, key=key, decided_by=row.decided_by)
    if row.triage != IGNORED:
        row.triage, row.decided_by, row.decided_at = IGNORED, user_id, now
    return Triage(state=IGNORED, decided_by=row.decided_by)


def triage_of(session: Session, *, team_id: str, channel_id: str, ts: str) -> Triage:
    row = _row(session, team_id, channel_id, ts)
    key = key_for_message(session, team_id=team_id, channel_id=channel_id, ts=ts)
    if key is not None:
        return Triage(state=LOGGED, key=key, decided_by=row.decided_by if row else None)
    if row is None:
        return Triage(state=None)
    return Triage(state=row.triage, decided_by=row.decided_by)


# -- logging a message ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Logged:
    """A record logged from a message now (``record``), or the key of the one logged before (``existing``)."""

    record: RecordView | None = None
    existing: str | None = None


def log_from_message(
    db: Database, *, team_id: str, project_id: int, message: Message, kind: Kind, created_by: str,
    requester_external: bool | None, source_url: str | None, now: datetime, untitled: str,
) -> Logged:  # fmt: skip
    """Log ``message`` as a record of ``kind`` — once: a message logged before gives that record's key."""
    title, description = title_and_description(message)
    new = NewRecord(
        kind=kind, title=title or untitled, description=description, requester_id=message.user_id,
        source_url=source_url, source_channel_id=message.channel_id, source_ts=message.ts,
        requester_external=requester_external, requested_at=ts_time(message.ts),
    )  # fmt: skip
    try:
        with db.write() as session:
            existing = key_for_message(session, team_id=team_id, channel_id=message.channel_id, ts=message.ts)
            if existing is not None:
                return Logged(existing=existing)
            view = create_record(session, team_id=team_id, project_id=project_id, user_id=created_by, new=new,
                                 now=now)  # fmt: skip
            record = session.get(Record, view.id)
            row = _row(session, team_id, message.channel_id, message.ts)
            if row is not None:
                row.record_id, row.triage = view.id, LOGGED
                row.decided_by, row.decided_at = created_by, now
            if record is not None:
                _first_response_from_thread(session, record)
            return Logged(record=view)
    except IntegrityError:  # another path logged it at the same moment
        with db.read() as session:
            key = key_for_message(session, team_id=team_id, channel_id=message.channel_id, ts=message.ts)
        if key is None:
            raise
        return Logged(existing=key)


# -- the conversation ----------------------------------------------------------------------------------------


def _first_response_from_thread(session: Session, record: Record) -> None:
    """Replies by internal people stored before the record was logged count: the earliest one after the
    customer's message is the first response."""
    if not record.source_channel_id or not record.source_ts:
        return
    replies = session.scalars(
        select(ChannelMessage.ts).where(
            ChannelMessage.team_id == record.team_id,
            ChannelMessage.channel_id == record.source_channel_id,
            ChannelMessage.thread_ts == record.source_ts,
            ChannelMessage.internal.is_(True),
            ChannelMessage.is_bot.is_(False),
        )
    ).all()
    later = sorted((float(ts), ts) for ts in replies if float(ts) > float(record.source_ts))
    if later:
        note_first_response(record, at=ts_time(later[0][1]))


def note_reply(session: Session, *, team_id: str, channel_id: str, thread_ts: str, ts: str) -> str | None:
    """An internal person replied in a thread: the first response of the record logged from its parent
    message, if any (the key of that record when this reply is now its first response)."""
    record = session.scalar(
        select(Record).where(
            Record.team_id == team_id, Record.source_channel_id == channel_id, Record.source_ts == thread_ts
        )
    )
    if record is None or float(ts) <= float(thread_ts):
        return None
    return record.key if note_first_response(record, at=ts_time(ts)) else None


def project_of_record(session: Session, record_id: int) -> Project | None:
    record = session.get(Record, record_id)
    return session.get(Project, record.project_id) if record else None
