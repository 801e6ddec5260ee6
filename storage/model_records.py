"""Records (requirements, issues, tasks, risks) with their history, meetings, and the channel messages seen."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, validates

from storage.enums import Kind, Priority
from storage.model_base import Base
from storage.record_states import LIFECYCLES, StatusType


class Record(Base):
    """A requirement, issue, task or risk. One table, so one key sequence and one history."""

    __tablename__ = "records"
    __table_args__ = (
        UniqueConstraint("project_id", "seq"),
        # At most one record per Slack message, whatever the path (rows without a source are not compared).
        UniqueConstraint("team_id", "source_channel_id", "source_ts", name="uq_records_source_message"),
        Index("ix_records_team_key", "team_id", "key"),
        Index("ix_records_team_assignee", "team_id", "assignee_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32))
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    seq: Mapped[int] = mapped_column(Integer)
    key: Mapped[str] = mapped_column(String(24))
    title: Mapped[str] = mapped_column(String(255))
    description: Mapped[str] = mapped_column(Text, default="")
    # One of its kind's statuses (storage.record_states), stored as the word itself.
    status: Mapped[str] = mapped_column(StatusType())
    priority: Mapped[str] = mapped_column(String(16), default=Priority.MEDIUM)
    assignee_id: Mapped[str | None] = mapped_column(String(32))
    due_date: Mapped[date | None] = mapped_column(Date)
    estimate_hours: Mapped[float | None] = mapped_column(Float)
    probability: Mapped[int | None] = mapped_column(Integer)
    impact: Mapped[int | None] = mapped_column(Integer)
    mitigation: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(32))
    requester_id: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]
    deleted_at: Mapped[datetime | None]
    source_url: Mapped[str | None] = mapped_column(String(500))
    source_channel_id: Mapped[str | None] = mapped_column(String(32))
    source_ts: Mapped[str | None] = mapped_column(String(32))
    card_channel_id: Mapped[str | None] = mapped_column(String(32))
    card_ts: Mapped[str | None] = mapped_column(String(32))
    # Bumped on every change; cards carry it so a stale button can be detected. It is also the
    # mapper's version counter: every ORM UPDATE of a record says ``WHERE version = <the one read>``,
    # so of two transactions that read the same version only the first to commit changes the row —
    # the other gets ``StaleDataError`` (see ``bot.domain.lifecycle.change_once``). The domain bumps
    # it itself (``version_id_generator=False``): remembering where a card was posted is no change.
    version: Mapped[int] = mapped_column(Integer, default=1)
    meeting_id: Mapped[int | None] = mapped_column(ForeignKey("meetings.id", ondelete="SET NULL"))
    snoozed_until: Mapped[date | None] = mapped_column(Date)
    last_reviewed_at: Mapped[datetime | None]
    # The due date this record was last escalated to the owners for (escalated once per due date).
    escalated_for_due: Mapped[date | None] = mapped_column(Date)
    # Service levels (issues with an external requester logged after the feature was installed).
    # Whether the requester was external (a customer) when the record was logged; None: not known.
    requester_external: Mapped[bool | None] = mapped_column(Boolean)
    # When the clocks started (the customer message's time, else creation); None: no service levels.
    sla_start: Mapped[datetime | None]
    first_response_at: Mapped[datetime | None]
    first_response_due: Mapped[datetime | None]
    resolution_due: Mapped[datetime | None]
    # The latest entry into ``resolved`` or ``closed``.
    resolved_at: Mapped[datetime | None]
    # Business minutes spent resolved (not counted: the resolution clock was paused).
    sla_paused_minutes: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # Targets breached, stored when it happened: ``first_response`` / ``resolution``.
    sla_breached: Mapped[list[str]] = mapped_column(JSON, default=list, server_default="[]")
    # Targets whose 80 % warning was sent, stored with it: a restore into an empty delivery ledger warns no one twice.
    sla_warned: Mapped[list[str]] = mapped_column(JSON, default=list, server_default="[]")

    __mapper_args__ = {"version_id_col": version, "version_id_generator": False}  # noqa: RUF012 (SQLAlchemy reads it)

    @validates("status")
    def _check_status(self, _name: str, value: str) -> str:
        """Refuse a status the record's kind does not have (the column type refuses any other word)."""
        if self.kind is not None and value is not None:
            LIFECYCLES[Kind(self.kind)].status(value)
        return value

    @property
    def score(self) -> int | None:
        if self.probability is None or self.impact is None:
            return None
        return self.probability * self.impact


class HistoryEntry(Base):
    """The timeline of a record or project: field changes (old → new) and comments (``field="comment"``)."""

    __tablename__ = "history"

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32), index=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    record_key: Mapped[str] = mapped_column(String(24))
    field: Mapped[str] = mapped_column(String(32))
    old: Mapped[str | None] = mapped_column(Text)
    new: Mapped[str | None] = mapped_column(Text)
    by: Mapped[str] = mapped_column(String(32))
    at: Mapped[datetime]
    # A change to a requirement once accepted: a change of scope, counted in the digest.
    scope_change: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class Meeting(Base):
    __tablename__ = "meetings"
    __table_args__ = (UniqueConstraint("project_id", "seq"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32), index=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    key: Mapped[str] = mapped_column(String(24))
    title: Mapped[str] = mapped_column(String(255))
    held_on: Mapped[date] = mapped_column(Date)
    attendees: Mapped[list[str]] = mapped_column(JSON, default=list)
    notes: Mapped[str] = mapped_column(Text, default="")
    decisions: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime]
    source_url: Mapped[str | None] = mapped_column(String(500))
    card_channel_id: Mapped[str | None] = mapped_column(String(32))
    card_ts: Mapped[str | None] = mapped_column(String(32))


class ChannelMessage(Base):
    """A message seen in a linked channel (``message`` events): intake, first responses, reaction intake.

    Top-level messages by external people carry their triage state (``suggested``, ``logged``,
    ``ignored``); ``record_id`` is the record logged from the message, by whatever path.
    """

    __tablename__ = "channel_messages"
    __table_args__ = (
        UniqueConstraint("team_id", "channel_id", "ts"),
        Index("ix_channel_messages_thread", "team_id", "channel_id", "thread_ts"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32))
    channel_id: Mapped[str] = mapped_column(String(32))
    ts: Mapped[str] = mapped_column(String(32))
    # The parent's ts for a thread reply; None for a top-level message.
    thread_ts: Mapped[str | None] = mapped_column(String(32))
    project_id: Mapped[int | None] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[str | None] = mapped_column(String(32))
    is_bot: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # Whether the author was internal when the message arrived (None: could not tell).
    internal: Mapped[bool | None] = mapped_column(Boolean)
    text: Mapped[str] = mapped_column(Text, default="")
    file_name: Mapped[str | None] = mapped_column(String(255))
    deleted: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    triage: Mapped[str | None] = mapped_column(String(16))
    record_id: Mapped[int | None] = mapped_column(ForeignKey("records.id", ondelete="SET NULL"))
    decided_by: Mapped[str | None] = mapped_column(String(32))
    decided_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
