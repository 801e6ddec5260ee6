"""The scheduled risk review: per active project with open risks, at its review slot.

A planner (``plan(session, ctx)``), like the digest: one message per project under
``review:<team>:<project>:<ISO week of the slot>`` (``:<part>`` appended when a long
register is split). The slot is the project's review weekday and time in its time
zone, only in ISO weeks whose number is a multiple of ``review_every_weeks``; a slot
missed while the process was down is still due until :data:`REVIEW_GRACE` has passed.
Chunked (:mod:`bot.delivery.planning`): one project, one review, so the planner reads only the projects
of ``ctx.projects`` (:func:`bot.jobs.digest.active_projects`).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from bot.blocks.review import review_parts
from bot.delivery.base import DeliveryKind, JobContext, Outgoing
from bot.delivery.slots import latest_weekly_slot
from bot.domain.risk_review import risk_reviews
from bot.jobs.digest import base_key, due_slots, pending
from storage.models import Project

log = logging.getLogger(__name__)

KIND = DeliveryKind.REVIEW
REVIEW_GRACE = timedelta(hours=12)


def review_slot(project: Project, now: datetime) -> datetime:
    """The project's latest review weekday and time at or before ``now`` (whatever the week)."""
    return latest_weekly_slot(now, project.timezone, project.review_weekday, project.review_time)


def is_review_week(project: Project, slot: datetime) -> bool:
    every = max(int(project.review_every_weeks or 1), 1)
    return slot.isocalendar().week % every == 0


def plan(session: Session, ctx: JobContext) -> list[Outgoing]:
    """Every risk review due at ``ctx.now`` and not claimed yet."""
    due = due_slots(
        session, ctx, slot_of=review_slot, grace=REVIEW_GRACE, what="review", wanted=is_review_week
    )
    outgoing, due = pending(session, due, kind=KIND)
    reviews = risk_reviews(session, [p for p, _ in due], now=ctx.now)
    for project, slot in due:
        review = reviews.get(project.id)
        if review is None:
            continue  # no open risks: nothing to review
        try:
            parts = review_parts(review)
        except Exception:
            log.exception("building the risk review of %s:%s failed", project.team_id, project.key)
            continue
        base = base_key(KIND, project.team_id, project.key, slot)
        for number, (text, blocks) in enumerate(parts, start=1):
            outgoing.append(
                Outgoing(
                    key=base if len(parts) == 1 else f"{base}:{number}",
                    team_id=project.team_id,
                    kind=KIND,
                    text=text,
                    blocks=blocks,
                    report_project_id=project.id,
                    project_id=project.id,
                )
            )
    return outgoing
