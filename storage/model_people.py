"""People and workspaces: the directory cache and its sync, installs, rate budgets, modal drafts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Integer, String, UniqueConstraint, false, true
from sqlalchemy.orm import Mapped, mapped_column

from storage.model_base import Base


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


class Workspace(Base):
    """A workspace the bot is (or was) installed in; sending stops when it is uninstalled."""

    __tablename__ = "workspaces"

    team_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    uninstalled_at: Mapped[datetime | None]
    updated_at: Mapped[datetime]


class ApiBudget(Base):
    """A turn shared by all processes, kept as the next instant it may be taken (one atomic ``UPDATE``).

    - A rate-limited Slack method's budget per workspace (``conversations.history`` for in-doubt checks,
      ``users.list``): the next instant it may be called.
    - A *planning turn* (``plan:<job>:<chunk>``, team ``*``): which scheduler replica plans a chunk of
      projects of a chunked job (``bot/delivery/planning.py``); one row per chunk and job, reused run after run.
    - An *audience turn* (``audience:<project>``): which replica asks Slack about a project's report
      channel while claiming (``bot/delivery/claims.py``); deleted when given back.
    """

    __tablename__ = "api_budgets"

    team_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    method: Mapped[str] = mapped_column(String(64), primary_key=True)
    next_at: Mapped[datetime]
