"""The weekly customer report, planned by the ``digest`` job at each project's digest slot.

One message per channel under ``customer_report:<team>:<project>:<ISO week of the slot>:<channel>``:
the project channel, and every other channel linked to the project — each sent only when the project
channel and that channel count as shared (the audience policy decides at send time; a dry run treats
every channel as shared). Setting ``customer_report`` (default on) turns it off per project. A report
already claimed is planned again from the ledger as it was claimed (never built twice, never sent twice).
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.blocks.customer_report import customer_report_message
from bot.delivery.base import DeliveryKind, JobContext, Outgoing
from bot.delivery.slots import iso_week
from bot.domain.customer_report import CustomerReport, customer_reports, report_since
from bot.domain.digest import records_since, weekly_digests
from bot.domain.record_rows import Since, fetch, widest
from bot.domain.rows import chunks
from bot.jobs import digest
from storage.models import Delivery, Project, ProjectChannel

log = logging.getLogger(__name__)

KIND = DeliveryKind.CUSTOMER_REPORT


def digest_job(session: Session, ctx: JobContext) -> list[Outgoing]:
    """The ``digest`` job's planner: every digest due (as :func:`bot.jobs.digest.plan` plans them), then
    the customer reports of the same slots (as :func:`plan` does).

    Both are built a chunk of projects at a time from one records query per chunk
    (:func:`bot.domain.record_rows.fetch`, with bounds wide enough for both reports): only one chunk's
    rows are held at a time.
    """
    due = digest.due_projects(session, ctx)
    digests, digests_due = digest.pending(session, due)
    reports = Pending.of(session, due)
    wanted = {p.id for p, _ in digests_due}
    reported = {p.id for p, _ in reports.to_build}
    messages: list[Outgoing] = []
    for chunk in chunks([(p, slot) for p, slot in due if p.id in wanted or p.id in reported]):
        mine = [(p, slot) for p, slot in chunk if p.id in wanted]
        theirs = [(p, slot) for p, slot in chunk if p.id in reported]
        bounds = [records_since(mine, ctx.now)] if mine else []
        if theirs:
            since = report_since(theirs)
            bounds.append(Since(created=since, closed=since, resolved=since))
        rows = fetch(session, [p.id for p, _ in chunk], widest(bounds))
        for data in weekly_digests(session, mine, now=ctx.now, records=rows) if mine else []:
            digests += digest.messages(data)
        for report in customer_reports(session, theirs, rows) if theirs else []:
            messages += reports.messages(report)
    return digests + reports.replayed + messages


def report_key(team_id: str, project_key: str, slot: datetime, channel: str) -> str:
    return f"{KIND}:{team_id}:{project_key}:{iso_week(slot)}:{channel}"


def _channels(session: Session, projects: Sequence[Project]) -> dict[int, list[str]]:
    """Each project's channel first, then its other linked channels (in the order they were linked)."""
    linked: dict[int, list[str]] = {p.id: [p.channel_id] for p in projects if p.channel_id}
    ids = list(linked)
    if ids:
        for project_id, channel in session.execute(
            select(ProjectChannel.project_id, ProjectChannel.channel_id)
            .where(ProjectChannel.project_id.in_(ids))
            .order_by(ProjectChannel.id)
        ):
            if channel not in linked[project_id]:
                linked[project_id].append(channel)
    return linked


@dataclass
class Pending:
    """The customer reports due: those already claimed (planned again from the ledger, as they were
    claimed) and the projects whose report is still to be built, with what building their messages needs."""

    replayed: list[Outgoing]
    to_build: list[tuple[Project, datetime]]
    channels: dict[int, list[str]]
    claimed: Collection[str]

    @classmethod
    def of(cls, session: Session, due: Sequence[tuple[Project, datetime]]) -> Pending:
        wanted = [(p, slot) for p, slot in due if p.customer_report and p.channel_id]
        channels = _channels(session, [p for p, _ in wanted])
        keys = {
            (p.id, channel): report_key(p.team_id, p.key, slot, channel)
            for p, slot in wanted
            for channel in channels.get(p.id, [])
        }
        claimed = {
            key: payload or {}
            for key, payload in session.execute(
                select(Delivery.key, Delivery.payload).where(Delivery.key.in_(list(keys.values())))
            )
        } if keys else {}  # fmt: skip
        # A week whose digest is claimed and whose customer report is not: the project channel was internal
        # when the digest went out (decided then, not asked of Slack again every tick of the grace period).
        digests = digest.claimed_reports(
            session, [digest.base_key(digest.KIND, p.team_id, p.key, slot) for p, slot in wanted]
        )
        outgoing: list[Outgoing] = []
        to_build: list[tuple[Project, datetime]] = []
        for project, slot in wanted:
            mine_in = {keys[(project.id, c)]: c for c in channels.get(project.id, [])}  # key → its channel
            mine = list(mine_in)
            decided = digest.base_key(digest.KIND, project.team_id, project.key, slot) in digests
            if any(k not in claimed for k in mine) and not (decided and not any(k in claimed for k in mine)):
                to_build.append((project, slot))
            for key in mine:
                if key in claimed:  # already claimed: handed back as it was, to no Slack check
                    payload = claimed[key]
                    outgoing.append(
                        Outgoing(
                            key=key, team_id=project.team_id, kind=KIND, text=str(payload.get("text") or ""),
                            blocks=list(payload.get("blocks") or []), channel=mine_in[key],
                            project_id=project.id,
                        )
                    )  # fmt: skip
        return cls(replayed=outgoing, to_build=to_build, channels=channels, claimed=set(claimed))

    def messages(self, report: CustomerReport) -> list[Outgoing]:
        """One report's messages, one per channel not claimed yet (none when it is empty or fails)."""
        if report.empty:
            return []  # nothing to tell the customer this week
        try:
            text, blocks = customer_report_message(report)
        except Exception:
            log.exception("building the customer report of %s:%s failed", report.team_id, report.key)
            return []
        channels = self.channels[report.project_id]
        project_channel = channels[0]
        return [
            Outgoing(
                key=key, team_id=report.team_id, kind=KIND, text=text, blocks=blocks, channel=channel,
                project_id=report.project_id,
                shared_only=(project_channel,) if channel == project_channel else (project_channel, channel),
            )
            for channel in channels
            if (key := report_key(report.team_id, report.key, report.slot, channel)) not in self.claimed
        ]  # fmt: skip


def plan(session: Session, ctx: JobContext, due: Sequence[tuple[Project, datetime]]) -> list[Outgoing]:
    """The customer reports of the projects whose digest is due (``due``: project and slot)."""
    pending = Pending.of(session, due)
    outgoing = list(pending.replayed)
    # A chunk of projects at a time: only one chunk's reports are held while their messages are built.
    for report in (r for chunk in chunks(pending.to_build) for r in customer_reports(session, chunk)):
        outgoing += pending.messages(report)
    return outgoing
