"""The ``sla`` job: service-level warnings (at 80 % of a target, in business time) and breaches.

A planner (``plan(session, ctx)``) like the others: it reads, and hands the delivery ledger messages
under deterministic keys, so two schedulers, a restart or ``jobs run sla`` never send one twice.

- Warning: a DM to the assignee (each owner when unassigned), ``sla-warning:<team>:<KEY>:<target>``
  (``:<owner>`` for owners), with Assign to me, Open thread and Resolve (the record card's buttons,
  handled by :mod:`bot.commands.cards` through the lifecycle functions).
- Breach: one internal post where internal posts go (``report_project_id``: report channel, else an
  internal project channel, else each owner by DM), ``sla-breach:<team>:<KEY>:<target>``, whose claim
  stores the breach in ``sla_breached``; and a DM to the assignee, ``sla-breach-dm:<team>:<KEY>:<target>``.
- When a warning and a breach fall due in one run, only the breach. Nothing for a target crossed more
  than :data:`STALE` before the run (a restore or an upgrade floods no one), and nothing for a breach or a
  warning already stored in ``sla_breached`` / ``sla_warned`` (an imported one included: a restore starts with
  an empty ledger).
- Chunked (:mod:`bot.delivery.planning`): each message is about one issue of one project (a DM per issue,
  never a digest of several), so the planner reads only the projects of ``ctx.projects``
  (:func:`bot.jobs.digest.active_projects`).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from functools import partial

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import InstrumentedAttribute, Session

from bot.blocks.sla import breach_message, warning_message
from bot.delivery.base import DeliveryKind, JobContext, Outgoing
from bot.domain.service_levels import AT_RISK, BREACHED, STOPPED, TARGETS, target_state
from bot.i18n import normalise_locale
from bot.jobs.digest import active_projects
from storage import queries
from storage.models import Kind, MemberRole, Project, Record

log = logging.getLogger(__name__)

KIND_WARNING = DeliveryKind.SLA_WARNING
KIND_BREACH = DeliveryKind.SLA_BREACH
STALE = timedelta(hours=24)


def _remember(
    column: InstrumentedAttribute[list[str]], session: Session, *, record_id: int, target: str
) -> None:
    """Add ``target`` to the record's list in ``column`` (in the claim's transaction; not through the version, so
    no card goes stale)."""
    row = session.execute(select(column).where(Record.id == record_id).with_for_update()).scalar_one_or_none()
    stored = list(row or [])
    if target not in stored:
        session.execute(update(Record).where(Record.id == record_id).values({column: [*stored, target]}))


# Claimed with the message, so the record itself says what was told (a restore's empty ledger does not).
store_breach = partial(_remember, Record.sla_breached)
store_warning = partial(_remember, Record.sla_warned)


def _candidates(session: Session, projects: list[Project], now: datetime) -> list[Record]:
    """Issues with a running clock whose target is not more than :data:`STALE` behind."""
    if not projects:
        return []
    since = now - STALE
    query = (
        select(Record)
        .where(
            Record.project_id.in_([p.id for p in projects]),
            Record.kind == Kind.ISSUE,
            Record.deleted_at.is_(None),
            Record.sla_start.is_not(None),
            Record.sla_start <= now,
            or_(
                and_(Record.first_response_at.is_(None), Record.first_response_due >= since),
                and_(Record.status.not_in(STOPPED), Record.resolution_due >= since),
            ),
        )
        .order_by(Record.project_id, Record.id)
    )
    return list(session.scalars(query))


def plan(session: Session, ctx: JobContext) -> list[Outgoing]:
    """Every warning and breach due at ``ctx.now`` (the ledger drops those already sent)."""
    projects = {p.id: p for p in active_projects(session, ctx)}
    records = _candidates(session, list(projects.values()), ctx.now)
    owners: dict[int, list[str]] = {}
    for member in queries.members(session, project_ids=sorted({r.project_id for r in records})):
        if member.role == MemberRole.OWNER:
            owners.setdefault(member.project_id, []).append(member.user_id)
    planned: list[Outgoing] = []
    for record in records:
        project = projects[record.project_id]
        for target in TARGETS:
            try:
                planned += _plan_target(record, project, target, owners.get(project.id, []), ctx)
            except Exception:
                log.exception("service level of %s:%s could not be planned", record.team_id, record.key)
    return planned


def _plan_target(
    record: Record, project: Project, target: str, owners: list[str], ctx: JobContext
) -> list[Outgoing]:
    state = target_state(record, project, target, now=ctx.now)
    if state is None or state.done_at is not None:
        return []
    locale = normalise_locale(project.locale, ctx.default_locale)
    team, key = record.team_id, record.key
    if state.state == BREACHED:
        # A stored breach was claimed with its post (the claim stores it): never again, even after a restore.
        if ctx.now - state.due > STALE or target in (record.sla_breached or []):
            return []
        text, blocks = breach_message(
            key=key, title=record.title, source_url=record.source_url, assignee_id=record.assignee_id,
            state=state, locale=locale,
        )  # fmt: skip
        out = [
            Outgoing(
                key=f"sla-breach:{team}:{key}:{target}", team_id=team, kind=KIND_BREACH, text=text,
                blocks=blocks, report_project_id=project.id, project_id=project.id,
                on_claim=partial(store_breach, record_id=record.id, target=target),
            )
        ]  # fmt: skip
        if record.assignee_id:
            out.append(
                Outgoing(
                    key=f"sla-breach-dm:{team}:{key}:{target}", team_id=team, kind=KIND_BREACH, text=text,
                    blocks=blocks, channel=record.assignee_id, project_id=project.id,
                    on_claim=partial(store_breach, record_id=record.id, target=target),
                )
            )  # fmt: skip
        return out
    if state.state != AT_RISK or ctx.now - state.warn_at > STALE or target in (record.sla_warned or []):
        return []
    text, blocks = warning_message(
        key=key, title=record.title, version=record.version, status=record.status,
        assigned=record.assignee_id is not None, source_url=record.source_url, state=state, locale=locale,
    )  # fmt: skip
    base = f"sla-warning:{team}:{key}:{target}"
    if record.assignee_id:
        recipients = [(base, record.assignee_id)]
    else:
        recipients = [(f"{base}:{owner}", owner) for owner in owners]
    return [
        Outgoing(
            key=ledger_key, team_id=team, kind=KIND_WARNING, text=text, blocks=blocks, channel=user,
            project_id=project.id, on_claim=partial(store_warning, record_id=record.id, target=target),
        )
        for ledger_key, user in recipients
    ]  # fmt: skip
