"""The delivery ledger's table."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column

from storage.enums import DeliveryStatus
from storage.model_base import Base


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
