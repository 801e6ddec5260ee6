"""Satisfaction surveys: who was asked (never what they answered) and the answers."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column

from storage.model_base import Base


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
