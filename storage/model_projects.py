"""Projects, the channels linked to them, their members and their documents of record."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text, UniqueConstraint, false, true
from sqlalchemy.orm import Mapped, mapped_column

from storage.enums import ProjectStatus
from storage.model_base import Base


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
