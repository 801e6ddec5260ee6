"""The delivery ledger's SQL: claim under a unique key, take a short lease to send, record the outcome.

States: ``pending`` → ``sending`` → ``sent``, or ``failed`` with the reason. Only
one process can hold the lease on a delivery (a conditional ``UPDATE``), so two
schedulers never send the same message.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import case, delete, or_, select, update
from sqlalchemy.orm import Session

from storage.models import ApiBudget, Delivery, DeliveryStatus, Workspace

LEASE = timedelta(minutes=2)


def _upsert_insert(session: Session) -> Any:
    """The ``insert`` (with ``ON CONFLICT``) of the session's dialect, SQLite's or PostgreSQL's.

    Taken from the dialect's package, which the engine has already loaded, at call time: a process on
    SQLite (a dry run) never loads PostgreSQL's dialect, which costs about 80 ms of start-up.
    """
    return importlib.import_module(f"sqlalchemy.dialects.{session.get_bind().dialect.name}").insert


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
    insert = _upsert_insert(session)
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
    session: Session,
    *,
    now: datetime,
    real_now: datetime | None = None,
    team_id: str | None = None,
    kinds: Sequence[str] | None = None,
) -> list[Delivery]:
    """Deliveries to (re)try now: pending and due (job's clock), or stuck in ``sending`` past their lease
    (real clock, as in :func:`acquire`)."""
    lease_now = real_now or now
    query = select(Delivery).where(
        or_(
            (Delivery.status == DeliveryStatus.PENDING) & (Delivery.next_attempt_at <= now),
            (Delivery.status == DeliveryStatus.SENDING) & (Delivery.lease_until < lease_now),
        )
    )
    if team_id is not None:
        query = query.where(Delivery.team_id == team_id)
    if kinds is not None:
        query = query.where(Delivery.kind.in_(list(kinds)))
    return list(session.scalars(query.order_by(Delivery.id)))


def acquire(session: Session, *, delivery_id: int, now: datetime, real_now: datetime) -> bool:
    """Take the lease to send. An expired ``sending`` lease means the last sender died: now in doubt.

    ``now`` is the job's clock (is it due?); the lease runs on ``real_now``, the clock every process
    shares, so a run with another ``--now`` never takes a lease that is still held. The attempt's real
    time is kept while the delivery is in doubt: the history check looks around it.
    """
    was_in_flight = Delivery.status == DeliveryStatus.SENDING
    taken = session.execute(
        update(Delivery)
        .where(
            Delivery.id == delivery_id,
            or_(
                (Delivery.status == DeliveryStatus.PENDING) & (Delivery.next_attempt_at <= now),
                was_in_flight & (Delivery.lease_until < real_now),
            ),
        )
        .values(
            in_doubt=Delivery.in_doubt | was_in_flight,
            attempted_at=case((Delivery.in_doubt | was_in_flight, Delivery.attempted_at), else_=real_now),
            status=DeliveryStatus.SENDING,
            lease_until=real_now + LEASE,
            attempts=Delivery.attempts + 1,
            updated_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(taken, "rowcount", 0))


def mark_attempt(session: Session, *, delivery_id: int, real_now: datetime) -> None:
    """A (re)send starts now (Slack's time): if it ends in doubt, this is the instant to look around."""
    _set(session, delivery_id, attempted_at=real_now, check_cursor=None)


def mark_checking(session: Session, *, delivery_id: int, cursor: str | None) -> None:
    """Remember how far an in-doubt check got (the next page of the conversation's history)."""
    _set(session, delivery_id, check_cursor=cursor)


def take_budget(
    session: Session, *, team_id: str, method: str, now: datetime, interval: timedelta
) -> datetime | None:
    """Take the workspace's turn at a rate-limited Slack method, for every process at once.

    None: taken (the next turn is ``now + interval``). Otherwise the instant of the next turn. The
    conditional ``UPDATE`` is atomic, so two processes never both get the same turn.
    """
    insert = _upsert_insert(session)
    session.execute(
        insert(ApiBudget)
        .values(team_id=team_id, method=method, next_at=now - interval)
        .on_conflict_do_nothing(index_elements=["team_id", "method"])
    )
    taken = session.execute(
        update(ApiBudget)
        .where(ApiBudget.team_id == team_id, ApiBudget.method == method, ApiBudget.next_at <= now)
        .values(next_at=now + interval)
        .execution_options(synchronize_session=False)
    )
    if getattr(taken, "rowcount", 0):
        return None
    return session.scalar(
        select(ApiBudget.next_at).where(ApiBudget.team_id == team_id, ApiBudget.method == method)
    )


def hold_budget(session: Session, *, team_id: str, method: str, until: datetime) -> None:
    """Slack said wait (429 Retry-After): no process calls ``method`` for the workspace before ``until``."""
    session.execute(
        update(ApiBudget)
        .where(ApiBudget.team_id == team_id, ApiBudget.method == method, ApiBudget.next_at < until)
        .values(next_at=until)
        .execution_options(synchronize_session=False)
    )


def take_turn(
    session: Session, *, team_id: str, method: str, now: datetime, lease: timedelta
) -> datetime | None:
    """Take a turn kept in ``api_budgets`` (a project's audience, a chunk's planning) for ``lease``.

    The lease's end when taken — the turn's token, which :func:`pass_turn` and :func:`drop_turns` ask
    for, so a replica whose lease lapsed never touches the turn another replica took since — or None
    when another process holds it. One atomic ``UPDATE``: two processes never both get it.
    """
    insert = _upsert_insert(session)
    token = now + lease
    session.execute(
        insert(ApiBudget)
        .values(team_id=team_id, method=method, next_at=now)
        .on_conflict_do_nothing(index_elements=["team_id", "method"])
    )
    taken = session.execute(
        update(ApiBudget)
        .where(ApiBudget.team_id == team_id, ApiBudget.method == method, ApiBudget.next_at <= now)
        .values(next_at=token)
        .execution_options(synchronize_session=False)
    )
    return token if getattr(taken, "rowcount", 0) else None


def pass_turn(session: Session, *, team_id: str, method: str, token: datetime, next_at: datetime) -> None:
    """A turn this process holds (``token``) may be taken again from ``next_at`` on."""
    session.execute(
        update(ApiBudget)
        .where(ApiBudget.team_id == team_id, ApiBudget.method == method, ApiBudget.next_at == token)
        .values(next_at=next_at)
        .execution_options(synchronize_session=False)
    )


def drop_turns(
    session: Session, *, held: Sequence[tuple[str, str, datetime]], prefix: str, now: datetime
) -> None:
    """Turns done with: the rows of those this process still holds (team, method, token) are deleted, and
    so are the free rows under ``prefix`` (lapsed, or left by an earlier version): the table does not grow."""
    for team_id, method, token in held:
        session.execute(
            delete(ApiBudget).where(
                ApiBudget.team_id == team_id, ApiBudget.method == method, ApiBudget.next_at == token
            )
        )
    session.execute(
        delete(ApiBudget).where(
            ApiBudget.method.startswith(prefix, autoescape=True), ApiBudget.next_at <= now
        )
    )


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
        check_cursor=None,
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


def uninstalled_at(session: Session, *, team_id: str, enterprise_id: str | None = None) -> datetime | None:
    """When the workspace was uninstalled — or its Grid organisation's org-wide install (whose events name
    the organisation, not a workspace, as their tenant) — None while it is installed."""
    instants = [
        workspace.uninstalled_at
        for tenant in (team_id, enterprise_id)
        if tenant and (workspace := session.get(Workspace, tenant)) and workspace.uninstalled_at
    ]
    return max(instants, default=None)


def mark_reinstalled(
    session: Session, *, team_id: str, enterprise_id: str | None = None, now: datetime
) -> None:
    """The workspace works again (a new install or token): sending resumes."""
    for tenant in (team_id, enterprise_id):
        workspace = session.get(Workspace, tenant) if tenant else None
        if workspace is not None:
            workspace.uninstalled_at = None
            workspace.updated_at = now


def settle_found(
    session: Session, *, team_id: str, found: dict[str, str], channel: str, now: datetime
) -> None:
    """Pending in-doubt deliveries whose key was seen in Slack (key → ts) are sent; nothing else changes."""
    rows = session.execute(
        select(Delivery.id, Delivery.key).where(
            Delivery.key.in_(list(found)),
            Delivery.team_id == team_id,
            Delivery.status == DeliveryStatus.PENDING,
            Delivery.in_doubt.is_(True),
        )
    )
    for delivery_id, key in rows.all():
        mark_sent(session, delivery_id=delivery_id, ts=found[key], channel=channel, now=now)
