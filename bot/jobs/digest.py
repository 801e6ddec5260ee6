"""The weekly digest job: which projects' digests are due, and what each one says.

A planner (``plan(session, ctx)``): it reads only, and hands the ledger one
:class:`~bot.delivery.base.Outgoing` per message under a deterministic key
``digest:<team>:<project>:<ISO week of the slot>:<part>``. Each project's slot is
its digest weekday and time in its own time zone; a slot missed while the process
was down is still due until :data:`DIGEST_GRACE` has passed.
"""

from __future__ import annotations

import logging
from bisect import bisect_right
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfoNotFoundError

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from bot.blocks.basics import Block
from bot.blocks.digest import digest_parts, preview_messages
from bot.delivery.base import DeliveryKind, JobContext, Outgoing
from bot.delivery.charts import chart_spec
from bot.delivery.slots import is_due, iso_week, latest_weekly_slot, local_at, parse_hhmm
from bot.domain.digest import DigestData, weekly_digest, weekly_digests
from bot.domain.errors import N_, UserError
from bot.domain.people import get_person
from bot.domain.rows import CHUNK, chunks
from storage.models import Delivery, Project, ProjectStatus

log = logging.getLogger(__name__)

KIND = DeliveryKind.DIGEST
DIGEST_GRACE = timedelta(hours=12)


def active_projects(session: Session, ctx: JobContext) -> list[Project]:
    """The active projects in the job's scope (``--team``, ``--project``, a planning chunk)."""
    query = (
        select(Project).where(Project.status == ProjectStatus.ACTIVE).order_by(Project.team_id, Project.key)
    )
    if ctx.team_id:
        query = query.where(Project.team_id == ctx.team_id)
    if ctx.project_key:
        query = query.where(Project.key == ctx.project_key.upper())
    if ctx.projects:
        query = query.where(Project.id.between(*ctx.projects))
    return list(session.scalars(query))


def digest_slot(project: Project, now: datetime) -> datetime:
    """The project's latest digest slot at or before ``now``."""
    return latest_weekly_slot(now, project.timezone, project.digest_weekday, project.digest_time)


def next_digest_slot(project: Project, now: datetime) -> datetime:
    """The project's first digest slot after ``now``."""
    latest = digest_slot(project, now)
    return local_at(latest.date() + timedelta(days=7), parse_hhmm(project.digest_time), project.timezone)


# Report bases asked about in one ledger query (each one a LIKE prefix): as many as the projects
# the digest reads in one query (:data:`bot.domain.rows.CHUNK`), so the job's statements grow per chunk only.
CLAIMED_CHUNK = CHUNK


def base_key(kind: str, team_id: str, project_key: str, slot: datetime) -> str:
    return f"{kind}:{team_id}:{project_key}:{iso_week(slot)}"


@dataclass(frozen=True)
class Claimed:
    """A message of a report already in the ledger, under the key its planner gave it."""

    key: str
    text: str
    blocks: list[Block]


def _planner_key(key: str, channel: str) -> str:
    """The planner's key of a ledger row: a DM copy's key is the planner's with ``:<owner>`` added, and its
    stored channel is that owner (:meth:`bot.delivery.audience.Targets.keyed`), so the suffix is known, not parsed."""
    suffix = f":{channel}"
    return key.removesuffix(suffix) if channel and key.endswith(suffix) else key


def claimed_reports(session: Session, bases: Collection[str]) -> dict[str, list[Claimed]]:
    """The messages already claimed for each of ``bases`` (``kind:team:project:week``, from :func:`base_key`)
    that has any, in the order they were claimed.

    A report is claimed as a whole: once any part of it is in the ledger, planning it
    again gives back exactly the claimed messages, as they were claimed — never a
    part more, even when the report has grown since — and the rest is the ledger's
    business. Planning them again (rather than nothing) lets the runner count them as
    already sent and retry pending ones; it is also far cheaper than building them again.
    A row belongs to the base its key starts with (a prefix, never split apart); one query per chunk of
    bases (the projects due in one tick).
    """
    if not bases:
        return {}
    wanted = sorted(set(bases))
    found: dict[str, dict[str, Claimed]] = {}
    for start in range(0, len(wanted), CLAIMED_CHUNK):
        chunk = wanted[start : start + CLAIMED_CHUNK]
        rows = session.execute(
            select(Delivery.key, Delivery.channel, Delivery.payload)
            .where(or_(*(Delivery.key.startswith(f"{base}:", autoescape=True) for base in chunk)))
            .order_by(Delivery.id)
        )
        for key, channel, payload in rows:
            # The base a key starts with is the greatest base not after it (sorted; the key only extends it).
            at = bisect_right(chunk, key) - 1
            base = chunk[at] if at >= 0 else ""
            if not base or not key.startswith(f"{base}:"):
                continue
            planned = _planner_key(key, channel)
            messages = found.setdefault(base, {})
            if planned not in messages:  # DM copies of one message share its planner key
                messages[planned] = Claimed(
                    key=planned,
                    text=str((payload or {}).get("text") or ""),
                    blocks=list((payload or {}).get("blocks") or []),
                )
    return {base: list(messages.values()) for base, messages in found.items()}


def replay(claimed: list[Claimed], *, team_id: str, kind: str, project_id: int) -> list[Outgoing]:
    return [
        Outgoing(
            key=c.key,
            team_id=team_id,
            kind=kind,
            text=c.text,
            blocks=c.blocks,
            report_project_id=project_id,
            project_id=project_id,
        )
        for c in claimed
    ]


def due_slots(
    session: Session,
    ctx: JobContext,
    *,
    slot_of: Callable[[Project, datetime], datetime],
    grace: timedelta,
    what: str,
    wanted: Callable[[Project, datetime], bool],
) -> list[tuple[Project, datetime]]:
    """The active projects whose weekly slot (``slot_of``) is due at ``ctx.now`` and ``wanted``, with that slot;
    a project whose time zone or ``what`` time is unusable is skipped with a warning."""
    due: list[tuple[Project, datetime]] = []
    for project in active_projects(session, ctx):
        try:
            slot = slot_of(project, ctx.now)
        except (ZoneInfoNotFoundError, ValueError):
            log.warning("project %s:%s has a bad time zone or %s time", project.team_id, project.key, what)
            continue
        if wanted(project, slot) and is_due(slot, ctx.now, grace):
            due.append((project, slot))
    return due


def _after_creation(project: Project, slot: datetime) -> bool:
    """A week all from before the project existed has nothing to report."""
    return slot > project.created_at


def due_projects(session: Session, ctx: JobContext) -> list[tuple[Project, datetime]]:
    """The active projects whose digest slot is due at ``ctx.now``, with that slot."""
    return due_slots(
        session, ctx, slot_of=digest_slot, grace=DIGEST_GRACE, what="digest", wanted=_after_creation
    )


def pending(
    session: Session, due: Sequence[tuple[Project, datetime]], *, kind: str = KIND
) -> tuple[list[Outgoing], list[tuple[Project, datetime]]]:
    """Of the weekly reports of ``kind`` that are ``due`` (:func:`due_slots`): those already claimed, planned
    again from the ledger, and the projects (with their slots) whose report is still to be built."""
    claimed = claimed_reports(session, [base_key(kind, p.team_id, p.key, slot) for p, slot in due])
    outgoing: list[Outgoing] = []
    for project, slot in due:
        done = claimed.get(base_key(kind, project.team_id, project.key, slot))
        if done:
            outgoing += replay(done, team_id=project.team_id, kind=kind, project_id=project.id)
    return outgoing, [(p, slot) for p, slot in due if base_key(kind, p.team_id, p.key, slot) not in claimed]


def messages(data: DigestData) -> list[Outgoing]:
    """One project's digest as the messages to send (none when building it fails)."""
    view = data.project
    try:
        parts = digest_parts(data)
    except Exception:
        # One project's broken digest must not hold back everybody else's.
        log.exception("building the digest of %s:%s failed", view.team_id, view.key)
        return []
    base = base_key(KIND, view.team_id, view.key, data.slot)
    chart = (
        chart_spec(data.chart, locale=view.locale, filename=f"{view.key}-{iso_week(data.slot)}.png")
        if data.chart is not None and not data.quiet
        else None
    )
    return [
        Outgoing(
            key=f"{base}:{number}",
            team_id=view.team_id,
            kind=KIND,
            text=text,
            blocks=blocks,
            report_project_id=view.id,
            project_id=view.id,
            chart=chart if number == 1 else None,
        )
        for number, (text, blocks) in enumerate(parts, start=1)
    ]


def plan(session: Session, ctx: JobContext) -> list[Outgoing]:
    """Every digest message due at ``ctx.now`` and not claimed yet."""
    outgoing, due = pending(session, due_projects(session, ctx))
    # A chunk of projects at a time: only one chunk's digest data is held while its messages are built.
    for data in (d for chunk in chunks(due) for d in weekly_digests(session, chunk, now=ctx.now)):
        outgoing += messages(data)
    return outgoing


@dataclass(frozen=True)
class DigestPreview:
    slot: datetime
    messages: list[tuple[str, list[Block]]]


def _project(session: Session, project_id: int, team_id: str | None) -> Project:
    project = session.get(Project, project_id)
    if project is None or (team_id is not None and project.team_id != team_id):
        raise UserError(N_("That project no longer exists."))
    return project


def build_digest(session: Session, project_id: int, now: datetime) -> list[tuple[str, list[Block]]]:
    """The project's next digest (planned for its next slot, as things stand at ``now``), as messages."""
    project = _project(session, project_id, None)
    slot = next_digest_slot(project, now)
    return digest_parts(weekly_digest(session, project=project, slot=slot, now=now))


def preview_digest(
    session: Session, *, team_id: str, project_id: int, now: datetime, viewer_id: str | None = None
) -> DigestPreview:
    """``/project digest``: the next digest as a preview for one person of the project's own team."""
    project = _project(session, project_id, team_id)
    if viewer_id is not None:
        person = get_person(session, team_id=team_id, user_id=viewer_id)
        if person is not None and person.is_external:
            raise UserError(N_("The weekly digest is internal to the project's team."))
    if project.status != ProjectStatus.ACTIVE:
        raise UserError(
            N_("Project %(key)s is closed: it gets no digest until it is reopened."), key=project.key
        )
    slot = next_digest_slot(project, now)
    data = weekly_digest(session, project=project, slot=slot, now=now)
    return DigestPreview(slot=slot, messages=preview_messages(data, slot=slot))
