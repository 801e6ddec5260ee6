"""Typed SQLAlchemy models. Every row belongs to one workspace (``team_id``).

Nothing in this package knows about Slack beyond storing its ids as strings.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    false,
    true,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware datetimes on every backend: stored as UTC, returned aware."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a timezone-aware column")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UTCDateTime(), dict[str, Any]: JSON}


class Kind(StrEnum):
    REQUIREMENT = "requirement"
    ISSUE = "issue"
    TASK = "task"
    RISK = "risk"


class Priority(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


class ProjectStatus(StrEnum):
    ACTIVE = "active"
    CLOSED = "closed"


class MemberRole(StrEnum):
    OWNER = "owner"
    CUSTOMER_CONTACT = "customer_contact"


class Project(Base):
    __tablename__ = "projects"
    __table_args__ = (UniqueConstraint("team_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32), index=True)
    # The Enterprise Grid organisation of the workspace (Bolt's context), None outside Grid:
    # jobs find the installation by it (an org-wide install has no team_id of its own).
    enterprise_id: Mapped[str | None] = mapped_column(String(32))
    key: Mapped[str] = mapped_column(String(10))
    name: Mapped[str] = mapped_column(String(200))
    channel_id: Mapped[str | None] = mapped_column(String(32))
    report_channel_id: Mapped[str | None] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), default=ProjectStatus.ACTIVE)
    timezone: Mapped[str] = mapped_column(String(64))
    locale: Mapped[str] = mapped_column(String(8))
    created_by: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]
    # Last number handed out by the per-project key sequence (ACME-1, ACME-2, ...).
    last_seq: Mapped[int] = mapped_column(Integer, default=0)
    # Settings (``/project settings``). Weekdays count from Monday = 0; times are HH:MM in ``timezone``.
    digest_weekday: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    digest_time: Mapped[str] = mapped_column(String(5), default="09:00", server_default="09:00")
    review_weekday: Mapped[int] = mapped_column(Integer, default=3, server_default="3")
    review_time: Mapped[str] = mapped_column(String(5), default="10:00", server_default="10:00")
    review_every_weeks: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    nudges_enabled: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    escalate_after_days: Mapped[int] = mapped_column(Integer, default=3, server_default="3")
    # 0 = no recurring pulse survey; else every N days.
    survey_pulse_days: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    survey_open_days: Mapped[int] = mapped_column(Integer, default=7, server_default="7")
    survey_include_team: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    closing_summary: Mapped[str | None] = mapped_column(Text)
    lessons_learned: Mapped[str | None] = mapped_column(Text)
    # Customers and service levels (docs/INTERFACE.md "Customers and service levels").
    # What a customer's top-level message in a linked channel does: off | suggest | auto.
    intake: Mapped[str] = mapped_column(String(8), default="suggest", server_default="suggest")
    # The reaction (name without colons) by which an internal person logs a message as an issue.
    intake_emoji: Mapped[str] = mapped_column(String(64), default="ticket", server_default="ticket")
    # Status changes, assignments and new due dates told in the record's source thread.
    thread_updates: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    # The weekly customer report in shared project channels.
    customer_report: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    # A 1-5 card in the thread of a resolved issue with an external requester.
    issue_csat: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    # ``Day[-Day] HH:MM-HH:MM[, …]`` in ``timezone``.
    business_hours: Mapped[str] = mapped_column(
        String(200), default="Mon-Fri 09:00-18:00", server_default="Mon-Fri 09:00-18:00"
    )
    # ISO dates without business hours.
    holidays: Mapped[list[str]] = mapped_column(JSON, default=list, server_default="[]")
    # Per-project service-level targets overriding the defaults:
    # ``{"first_response": {"critical": hours, …}, "resolution": {…}}``.
    sla: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict, server_default="{}")
    # Customer contacts an owner removed for good (never learned again).
    removed_contacts: Mapped[list[str]] = mapped_column(JSON, default=list, server_default="[]")


class ProjectChannel(Base):
    """A channel linked to a project; one project per channel within a workspace."""

    __tablename__ = "project_channels"
    __table_args__ = (UniqueConstraint("team_id", "channel_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32))
    channel_id: Mapped[str] = mapped_column(String(32))
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    linked_by: Mapped[str] = mapped_column(String(32))
    linked_at: Mapped[datetime]


class ProjectMember(Base):
    __tablename__ = "project_members"
    __table_args__ = (UniqueConstraint("project_id", "user_id", "role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32))
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[str] = mapped_column(String(32))
    role: Mapped[str] = mapped_column(String(24))


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
    status: Mapped[str] = mapped_column(String(16))
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

    __mapper_args__ = {"version_id_col": version, "version_id_generator": False}  # noqa: RUF012 (SQLAlchemy reads it)

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


class Person(Base):
    """The user directory cache (``users.list`` + ``user_change``) and each person's preferences."""

    __tablename__ = "people"
    __table_args__ = (UniqueConstraint("team_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32))
    user_id: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(200), default="")
    timezone: Mapped[str | None] = mapped_column(String(64))
    locale: Mapped[str | None] = mapped_column(String(16))
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    is_bot: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    is_deleted: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # The person's home workspace (a customer in a Slack Connect channel has another).
    home_team_id: Mapped[str | None] = mapped_column(String(32))
    # The person's Enterprise Grid organisation (``users.info`` → ``enterprise_user.enterprise_id``), if any.
    home_enterprise_id: Mapped[str | None] = mapped_column(String(32))
    # A guest (``is_restricted`` / ``is_ultra_restricted``); None until Slack has said.
    is_guest: Mapped[bool | None] = mapped_column(Boolean)
    updated_at: Mapped[datetime | None]
    notify_assignments: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())


class DirectorySync(Base):
    """Where a workspace's ``users.list`` sync stands, so it resumes after a rate limit or a restart.

    ``cursor`` is the page to fetch next (None: start over, or done when ``complete``); no call is made
    before ``next_at`` (Slack's ``Retry-After``, or a pause after a failure).
    """

    __tablename__ = "directory_syncs"

    team_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    cursor: Mapped[str | None] = mapped_column(String(1024))
    complete: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    stored: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    next_at: Mapped[datetime | None]
    error: Mapped[str | None] = mapped_column(String(100))
    updated_at: Mapped[datetime]


class Draft(Base):
    """Server-side state of an open modal whose data does not fit in ``private_metadata``.

    A message shortcut may carry a message far longer than a modal field (3,000
    characters); the full text waits here until the modal is submitted.
    """

    __tablename__ = "drafts"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32))
    data: Mapped[dict[str, Any]]
    created_at: Mapped[datetime]


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"


class Delivery(Base):
    """The delivery ledger: every message a job sends, claimed under a deterministic key before it is sent."""

    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("key"),
        Index("ix_deliveries_team_status", "team_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(255))
    team_id: Mapped[str] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(24))
    project_id: Mapped[int | None] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    # A channel id, or a user id for a direct message.
    channel: Mapped[str] = mapped_column(String(32))
    payload: Mapped[dict[str, Any]]
    status: Mapped[str] = mapped_column(String(16), default=DeliveryStatus.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # The last attempt may have reached Slack (timeout, 5xx, crash): look before sending again.
    in_doubt: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    next_attempt_at: Mapped[datetime]
    lease_until: Mapped[datetime | None]
    ts: Mapped[str | None] = mapped_column(String(32))
    sent_channel: Mapped[str | None] = mapped_column(String(32))
    # A file upload's Slack file id, stored before the upload is completed (an in-doubt upload is looked up).
    file_id: Mapped[str | None] = mapped_column(String(32))
    error: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    # Slack's (real) time of the attempt that may have reached Slack: the in-doubt check looks around it.
    attempted_at: Mapped[datetime | None]
    # Where an unfinished in-doubt check goes on (conversations.history's next_cursor).
    check_cursor: Mapped[str | None] = mapped_column(String(500))


class Workspace(Base):
    """A workspace the bot is (or was) installed in; sending stops when it is uninstalled."""

    __tablename__ = "workspaces"

    team_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    uninstalled_at: Mapped[datetime | None]
    updated_at: Mapped[datetime]


class ApiBudget(Base):
    """The next instant a rate-limited Slack method may be called for a workspace, shared by all processes."""

    __tablename__ = "api_budgets"

    team_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    method: Mapped[str] = mapped_column(String(64), primary_key=True)
    next_at: Mapped[datetime]


class Survey(Base):
    """A satisfaction survey of a project (on closing, on demand, or a recurring pulse)."""

    __tablename__ = "surveys"

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32), index=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # closing | on_demand | pulse | issue
    # For ``issue`` surveys (satisfaction per resolved issue): the issue, and which resolution (1, 2, …).
    record_id: Mapped[int | None] = mapped_column(ForeignKey("records.id", ondelete="CASCADE"))
    resolution: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default="open")  # open | closed
    include_team: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_by: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime]
    closes_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]


class SurveyParticipant(Base):
    """Who was asked, and whether they answered — never what they answered."""

    __tablename__ = "survey_participants"
    __table_args__ = (UniqueConstraint("survey_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("surveys.id", ondelete="CASCADE"), index=True)
    team_id: Mapped[str] = mapped_column(String(32))
    user_id: Mapped[str] = mapped_column(String(32))
    role: Mapped[str] = mapped_column(String(16))  # customer | team
    # Hash proving a presented secret is this participant's (it cannot lead to their answer).
    secret_check: Mapped[str] = mapped_column(String(64))
    responded: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    invited_at: Mapped[datetime | None]
    reminded_at: Mapped[datetime | None]


class SurveyResponse(Base):
    """What someone answered. Linked to a person only through their secret, unless they chose to sign it."""

    __tablename__ = "survey_responses"
    __table_args__ = (UniqueConstraint("secret_hash"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("surveys.id", ondelete="CASCADE"), index=True)
    team_id: Mapped[str] = mapped_column(String(32))
    secret_hash: Mapped[str] = mapped_column(String(64))
    score: Mapped[int | None] = mapped_column(Integer)
    recommend: Mapped[int | None] = mapped_column(Integer)
    comment: Mapped[str | None] = mapped_column(Text)
    # Null when the respondent chose anonymity.
    user_id: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class Document(Base):
    """A project's document of record (the retrospective report), also uploaded to Slack as a file."""

    __tablename__ = "documents"

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32), index=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(24))  # retrospective
    title: Mapped[str] = mapped_column(String(255))
    content: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime]
    file_id: Mapped[str | None] = mapped_column(String(32))
    permalink: Mapped[str | None] = mapped_column(String(500))
