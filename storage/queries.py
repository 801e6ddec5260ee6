"""Keyword-only queries. Every one is scoped to a workspace (``team_id``)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from storage.models import HistoryEntry, Project, ProjectChannel, ProjectMember, ProjectStatus, Record


def project_by_key(session: Session, *, team_id: str, key: str) -> Project | None:
    return session.scalar(select(Project).where(Project.team_id == team_id, Project.key == key))


def project_for_channel(session: Session, *, team_id: str, channel_id: str) -> Project | None:
    return session.scalar(
        select(Project)
        .join(ProjectChannel, ProjectChannel.project_id == Project.id)
        .where(ProjectChannel.team_id == team_id, ProjectChannel.channel_id == channel_id)
    )


def channel_link(session: Session, *, team_id: str, channel_id: str) -> ProjectChannel | None:
    return session.scalar(
        select(ProjectChannel).where(
            ProjectChannel.team_id == team_id, ProjectChannel.channel_id == channel_id
        )
    )


def projects(session: Session, *, team_id: str | None = None, key: str | None = None) -> Sequence[Project]:
    query = select(Project).order_by(Project.team_id, Project.key)
    if team_id is not None:
        query = query.where(Project.team_id == team_id)
    if key is not None:
        query = query.where(Project.key == key)
    return session.scalars(query).all()


def active_projects_matching(
    session: Session, *, team_id: str, terms: Sequence[str], limit: int
) -> Sequence[Project]:
    """Active projects of the workspace whose key or name contains every one of ``terms`` (any case), by key."""
    query = select(Project).where(Project.team_id == team_id, Project.status == ProjectStatus.ACTIVE)
    for term in terms:
        query = query.where(
            or_(Project.key.icontains(term, autoescape=True), Project.name.icontains(term, autoescape=True))
        )
    return session.scalars(query.order_by(Project.key).limit(limit)).all()


def members(session: Session, *, project_ids: Sequence[int]) -> Sequence[ProjectMember]:
    if not project_ids:
        return []
    return session.scalars(
        select(ProjectMember).where(ProjectMember.project_id.in_(project_ids)).order_by(ProjectMember.id)
    ).all()


def allocate_seq(session: Session, *, project_id: int) -> int:
    """Take the next number of the project's key sequence.

    One atomic ``UPDATE … RETURNING``: PostgreSQL serialises it on the row lock,
    SQLite on its write lock, so concurrent creators never share a number, and a
    rolled-back transaction gives its number back.
    """
    seq = session.execute(
        update(Project)
        .where(Project.id == project_id)
        .values(last_seq=Project.last_seq + 1)
        .returning(Project.last_seq)
        .execution_options(synchronize_session=False)
    ).scalar_one()
    return int(seq)


def records(
    session: Session,
    *,
    project_ids: Sequence[int] | None = None,
    team_id: str | None = None,
    kind: str | None = None,
) -> Sequence[Record]:
    query = select(Record).order_by(Record.project_id, Record.seq)
    if project_ids is not None:
        query = query.where(Record.project_id.in_(project_ids))
    if team_id is not None:
        query = query.where(Record.team_id == team_id)
    if kind is not None:
        query = query.where(Record.kind == kind)
    return session.scalars(query).all()


def record_by_key(session: Session, *, team_id: str, key: str) -> Record | None:
    return session.scalar(select(Record).where(Record.team_id == team_id, Record.key == key))


def history(session: Session, *, project_ids: Sequence[int]) -> Sequence[HistoryEntry]:
    if not project_ids:
        return []
    return session.scalars(
        select(HistoryEntry).where(HistoryEntry.project_id.in_(project_ids)).order_by(HistoryEntry.id)
    ).all()


def enterprise_of(session: Session, *, team_id: str) -> str | None:
    """The Enterprise Grid organisation of a workspace, as stored with its projects (None outside Grid)."""
    return session.scalar(
        select(Project.enterprise_id)
        .where(Project.team_id == team_id, Project.enterprise_id.is_not(None))
        .limit(1)
    )
