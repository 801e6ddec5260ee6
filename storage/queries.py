"""Keyword-only queries. Every one is scoped to a workspace (``team_id``)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache
from typing import Any, cast

from sqlalchemy import Integer, Table, Update, bindparam, case, insert, inspect, or_, select, tuple_, update
from sqlalchemy.orm import Session

from storage.models import HistoryEntry, Project, ProjectChannel, ProjectMember, ProjectStatus, Record


def project_by_key(session: Session, *, team_id: str, key: str) -> Project | None:
    return session.scalar(select(Project).where(Project.team_id == team_id, Project.key == key))


# Built once: every command in a channel looks its project up.
_PROJECT_FOR_CHANNEL = (
    select(Project)
    .join(ProjectChannel, ProjectChannel.project_id == Project.id)
    .where(
        ProjectChannel.team_id == bindparam("team_id"), ProjectChannel.channel_id == bindparam("channel_id")
    )
)


def project_for_channel(session: Session, *, team_id: str, channel_id: str) -> Project | None:
    return session.scalar(_PROJECT_FOR_CHANNEL, {"team_id": team_id, "channel_id": channel_id})


_PROJECTS_FOR_CHANNELS = (
    select(Project, ProjectChannel.team_id, ProjectChannel.channel_id)
    .join(ProjectChannel, ProjectChannel.project_id == Project.id)
    .where(
        tuple_(ProjectChannel.team_id, ProjectChannel.channel_id).in_(bindparam("channels", expanding=True))
    )
)


def projects_for_channels(
    session: Session, channels: Iterable[tuple[str, str]]
) -> dict[tuple[str, str], Project]:
    """The projects of several ``(workspace, channel)`` at once, by channel (one query; a channel without a
    project is absent)."""
    wanted = sorted(set(channels))
    if not wanted:
        return {}
    return {
        (team_id, channel_id): project
        for project, team_id, channel_id in session.execute(_PROJECTS_FOR_CHANNELS, {"channels": wanted})
    }


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


_PROJECTS = cast(Table, Project.__table__)
_RECORDS = cast(Table, Record.__table__)
# Core statements built once: they run on every record logged.
_NEXT_SEQ = (
    update(_PROJECTS)
    .where(_PROJECTS.c.id == bindparam("project_id"))
    .values(last_seq=_PROJECTS.c.last_seq + bindparam("count"))
    .returning(_PROJECTS.c.last_seq)
)
# Many rows in one statement (SQLAlchemy's "insertmanyvalues"). Each id comes back with the row's project and
# number (unique together) to tell which row it is: asking SQLAlchemy for the rows' order instead makes it insert
# one row at a time on SQLite.
_INSERT_RECORDS = insert(_RECORDS).returning(_RECORDS.c.id, _RECORDS.c.project_id, _RECORDS.c.seq)
# (attribute, column) of every column of Record.
_RECORD_COLUMNS = [(prop.key, prop.columns[0].key) for prop in inspect(Record).column_attrs]


@lru_cache(maxsize=32)
def _next_seqs(projects: int) -> Update:
    """``_NEXT_SEQ`` for ``projects`` projects at once, built once for each number of projects (building the
    statement costs more than running it)."""
    in_order = (
        select(_PROJECTS.c.id)
        .where(_PROJECTS.c.id.in_(bindparam("project_ids", expanding=True)))
        .order_by(_PROJECTS.c.id)
        .with_for_update()
    )
    counts = case(
        *[
            (
                _PROJECTS.c.id == bindparam(f"project_{n}", type_=Integer),
                bindparam(f"count_{n}", type_=Integer),
            )
            for n in range(projects)
        ]
    )
    return (
        update(_PROJECTS)
        .where(_PROJECTS.c.id.in_(in_order.scalar_subquery()))
        .values(last_seq=_PROJECTS.c.last_seq + counts)
        .returning(_PROJECTS.c.id, _PROJECTS.c.last_seq)
    )


def allocate_seq(session: Session, *, project_id: int, count: int = 1) -> int:
    """Take the next ``count`` numbers of the project's key sequence; the last of them is returned.

    One atomic ``UPDATE … RETURNING``: PostgreSQL serialises it on the row lock,
    SQLite on its write lock, so concurrent creators never share a number, and a
    rolled-back transaction gives its numbers back. (A ``Project`` loaded in the
    session keeps its old ``last_seq``.)
    """
    return allocate_seqs(session, {project_id: count})[project_id]


def allocate_seqs(session: Session, counts: Mapping[int, int]) -> dict[int, int]:
    """``allocate_seq`` for several projects at once (``{project id: count}``), in one statement: the last number
    taken of each. The projects' rows are locked in id order first (``SELECT … ORDER BY id FOR UPDATE``; SQLite
    has its one write lock instead), so two writers taking overlapping projects cannot deadlock. ``LookupError``
    when a project is not there (nothing is taken)."""
    if not counts:
        return {}
    connection = session.connection()
    if len(counts) == 1:
        [(project_id, count)] = counts.items()
        seq = connection.execute(_NEXT_SEQ, {"project_id": project_id, "count": count}).scalar_one_or_none()
        last = {} if seq is None else {project_id: int(seq)}
    else:
        params: dict[str, Any] = {"project_ids": list(counts)}
        for n, (project_id, count) in enumerate(counts.items()):
            params[f"project_{n}"], params[f"count_{n}"] = project_id, count
        last = {
            int(project_id): int(seq)
            for project_id, seq in connection.execute(_next_seqs(len(counts)), params)
        }
    if last.keys() != counts.keys():
        raise LookupError(f"projects not found: {sorted(counts.keys() - last.keys())}")
    return last


_SET_CARD = (
    update(_RECORDS)
    .where(_RECORDS.c.id == bindparam("record_id"))
    .values(card_channel_id=bindparam("channel_id"), card_ts=bindparam("ts"))
)


def set_cards(session: Session, cards: Sequence[tuple[int, str, str]]) -> None:
    """Remember where records' cards were posted, ``(record id, channel, ts)`` each, in one statement (run for
    each row). Only those two columns: the record's ``version`` stays (no change of the record)."""
    if cards:
        session.connection().execute(
            _SET_CARD, [{"record_id": r, "channel_id": channel, "ts": ts} for r, channel, ts in cards]
        )


def insert_records(session: Session, records: Sequence[Record]) -> None:
    """Store new ``Record`` objects as built (the attributes set on each; column defaults for the rest) and set
    their ids: one ``INSERT … RETURNING`` for all the rows that set the same attributes (most often one),
    without the unit of work, which costs more than the rows. The objects stay out of the session
    (``session.get`` reads the rows)."""
    alike: dict[frozenset[str], list[tuple[Record, dict[str, Any]]]] = {}
    for record in records:
        values = {
            column: record.__dict__[attr] for attr, column in _RECORD_COLUMNS if attr in record.__dict__
        }
        alike.setdefault(frozenset(values), []).append((record, values))
    connection = session.connection()
    for group in alike.values():
        rows = connection.execute(_INSERT_RECORDS, [values for _, values in group]).all()
        ids = {(project_id, seq): record_id for record_id, project_id, seq in rows}
        for record, _ in group:
            record.id = int(ids[(record.project_id, record.seq)])


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
