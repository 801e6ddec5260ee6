"""The delivery ledger's SQL: claim under a unique key, take a short lease to send, record the outcome.

States: ``pending`` → ``sending`` → ``sent``, or ``failed`` with the reason. Only
one process can hold the lease on a delivery (a conditional ``UPDATE``), so two
schedulers never send the same message.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from storage.models import Delivery, DeliveryStatus, Workspace

LEASE = timedelta(minutes=2)


def claim(
    session: Session,
    *,
    key: str,
    team_id: str,
    kind: str,
    channel: str,
    project_id: int | None,
    payload: dict[str, Any],
    now: datetime,
) -> bool:
    """Record a message under ``key`` unless it is already there. True when this call created it."""
    values = {
        "key": key,
        "team_id": team_id,
        "kind": kind,
        "channel": channel,
        "project_id": project_id,
        "payload": payload,
        "status": DeliveryStatus.PENDING,
        "attempts": 0,
        "in_doubt": False,
        "next_attempt_at": now,
        "created_at": now,
        "updated_at": now,
    }
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    statement = (
        insert(Delivery)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["key"])
        .returning(Delivery.id)
    )
    return session.execute(statement).first() is not None


def statuses(session: Session, *, keys: Sequence[str]) -> dict[str, str]:
    if not keys:
        return {}
    rows = session.execute(select(Delivery.key, Delivery.status).where(Delivery.key.in_(list(keys))))
    return {key: status for key, status in rows}


def due(
    session: Session, *, now: datetime, team_id: str | None = None, kinds: Sequence[str] | None = None
) -> list[Delivery]:
    """Deliveries to (re)try now: pending and due, or stuck in ``sending`` past their lease."""
    query = select(Delivery).where(
        or_(
            (Delivery.status == DeliveryStatus.PENDING) & (Delivery.next_attempt_at <= now),
            (Delivery.status == DeliveryStatus.SENDING) & (Delivery.lease_until < now),
        )
    )
    if team_id is not None:
        query = query.where(Delivery.team_id == team_id)
    if kinds is not None:
        query = query.where(Delivery.kind.in_(list(kinds)))
    return list(session.scalars(query.order_by(Delivery.id)))


def acquire(session: Session, *, delivery_id: int, now: datetime) -> bool:
    """Take the lease to send. An expired ``sending`` lease means the last sender died: now in doubt."""
    taken = session.execute(
        update(Delivery)
        .where(
            Delivery.id == delivery_id,
            or_(
                (Delivery.status == DeliveryStatus.PENDING) & (Delivery.next_attempt_at <= now),
                (Delivery.status == DeliveryStatus.SENDING) & (Delivery.lease_until < now),
            ),
        )
        .values(
            in_doubt=Delivery.in_doubt | (Delivery.status == DeliveryStatus.SENDING),
            status=DeliveryStatus.SENDING,
            lease_until=now + LEASE,
            attempts=Delivery.attempts + 1,
            updated_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(taken, "rowcount", 0))


def _set(session: Session, delivery_id: int, **values: Any) -> None:
    session.execute(
        update(Delivery)
        .where(Delivery.id == delivery_id)
        .values(**values)
        .execution_options(synchronize_session=False)
    )


def mark_sent(
    session: Session, *, delivery_id: int, ts: str | None, channel: str | None, now: datetime
) -> None:
    _set(
        session,
        delivery_id,
        status=DeliveryStatus.SENT,
        ts=ts,
        sent_channel=channel,
        sent_at=now,
        updated_at=now,
        lease_until=None,
        in_doubt=False,
        error=None,
    )


def mark_failed(session: Session, *, delivery_id: int, error: str, now: datetime) -> None:
    _set(
        session,
        delivery_id,
        status=DeliveryStatus.FAILED,
        error=error[:255],
        updated_at=now,
        lease_until=None,
    )


def mark_retry(
    session: Session, *, delivery_id: int, error: str, retry_at: datetime, in_doubt: bool, now: datetime
) -> None:
    _set(
        session,
        delivery_id,
        status=DeliveryStatus.PENDING,
        error=error[:255],
        next_attempt_at=retry_at,
        in_doubt=in_doubt,
        updated_at=now,
        lease_until=None,
    )


def note_file(session: Session, *, delivery_id: int, file_id: str) -> None:
    """Remember the Slack file an upload made, before the upload is completed (so it is never made twice)."""
    _set(session, delivery_id, file_id=file_id)


def by_key(session: Session, *, key: str) -> Delivery | None:
    return session.scalar(select(Delivery).where(Delivery.key == key))


def with_prefix(session: Session, *, prefix: str) -> list[Delivery]:
    """The deliveries whose key starts with ``prefix`` (one message and its per-owner copies)."""
    query = select(Delivery).where(Delivery.key.startswith(prefix, autoescape=True))
    return list(session.scalars(query.order_by(Delivery.id)))


def failed(session: Session, *, team_id: str | None = None, limit: int = 50) -> list[Delivery]:
    query = select(Delivery).where(Delivery.status == DeliveryStatus.FAILED)
    if team_id is not None:
        query = query.where(Delivery.team_id == team_id)
    return list(session.scalars(query.order_by(Delivery.updated_at.desc()).limit(limit)))


def fail_all_pending(session: Session, *, team_id: str, error: str, now: datetime) -> None:
    session.execute(
        update(Delivery)
        .where(
            Delivery.team_id == team_id, Delivery.status.in_([DeliveryStatus.PENDING, DeliveryStatus.SENDING])
        )
        .values(status=DeliveryStatus.FAILED, error=error, updated_at=now, lease_until=None)
        .execution_options(synchronize_session=False)
    )


def mark_uninstalled(session: Session, *, team_id: str, now: datetime) -> None:
    workspace = session.get(Workspace, team_id)
    if workspace is None:
        session.add(Workspace(team_id=team_id, uninstalled_at=now, updated_at=now))
    else:
        workspace.uninstalled_at = now
        workspace.updated_at = now
    fail_all_pending(session, team_id=team_id, error="app_uninstalled", now=now)


def uninstalled_at(session: Session, *, team_id: str) -> datetime | None:
    workspace = session.get(Workspace, team_id)
    return workspace.uninstalled_at if workspace else None
