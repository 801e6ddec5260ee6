"""The nudges job: one DM a day per person with overdue work, and escalations to project owners.

A planner (see :mod:`bot.delivery.base`): it reads, and hands the delivery ledger
messages under deterministic keys, so planning the same instant twice — or from
two schedulers — never sends twice.

- Nudges follow each person's own Slack time zone (else their first project's, else
  the default): weekdays at 09:00 local, sent from the slot until the grace window
  closes, so a slot missed while the process was down still goes out, once
  (``nudge:<team>:<user>:<local date of the slot>``).
- Escalations are not tied to an hour: an item overdue longer than its project's
  limit goes to each owner once per due date; the ledger runs ``on_claim`` in the
  claim's transaction, which remembers the due date it was escalated for
  (``escalation:<team>:<project>:<owner>:<project's local date>``).
- Chunked (:mod:`bot.delivery.planning`), though a person's daily nudge gathers their overdue items of
  *every* project under one key (``nudge:<team>:<user>:<date>``): split by project, it would go out with
  one chunk's items only (the first chunk to claim the key), or — keyed per chunk — as several DMs. So a
  chunk reads its projects' items *and every item of their assignees* (:func:`bot.domain.nudges.overdue_work`),
  and plans the nudge of each person whose first overdue project (lowest id) is in the chunk: the whole
  list, under the same key, in exactly one chunk. Escalations are per project: a chunk plans its own.
  Two replicas ticking a moment apart across a project's midnight may disagree on that first project:
  then both plan the nudge (the ledger keeps one, as when every replica planned whole) or neither does
  and the next tick plans it, well within :data:`NUDGE_GRACE`.
"""

from __future__ import annotations

from datetime import timedelta
from functools import partial

from sqlalchemy.orm import Session

from bot.blocks.nudge import ESCALATION_ITEMS_SHOWN, escalation_message, nudge_message
from bot.delivery.base import DeliveryKind, JobContext, Outgoing
from bot.delivery.slots import is_due, latest_daily_slot
from bot.domain.nudge_actions import as_listed
from bot.domain.nudges import (
    OverdueItem,
    OverdueWork,
    PersonFacts,
    ProjectFacts,
    mark_escalated,
    overdue_work,
    owners_of,
)
from bot.domain.working_hours import valid_timezone
from bot.i18n import normalise_locale

JOB_ID = "nudges"
NUDGE_GRACE = timedelta(hours=8)
NUDGE_TIME = "09:00"
NUDGE_WEEKDAYS = (0, 1, 2, 3, 4)
KIND_NUDGE = DeliveryKind.NUDGE
KIND_ESCALATION = DeliveryKind.ESCALATION


def plan(session: Session, ctx: JobContext) -> list[Outgoing]:
    """Everything due at ``ctx.now``: the nudges whose slot is open, and the escalations not yet sent."""
    work = overdue_work(
        session,
        now=ctx.now,
        team_id=ctx.team_id,
        project_key=ctx.project_key,
        chunk=ctx.projects,
        default_timezone=ctx.default_timezone,
    )
    return [*plan_nudges(work, ctx), *plan_escalations(session, work, ctx.projects)]


def _in(chunk: tuple[int, int] | None, project_id: int) -> bool:
    return chunk is None or chunk[0] <= project_id <= chunk[1]


def _home_project(items: list[OverdueItem], projects: dict[int, ProjectFacts]) -> ProjectFacts:
    """The project whose zone and language stand in for a person the directory does not know."""
    return min((projects[item.project_id] for item in items), key=lambda p: (p.key, p.id))


def nudge_timezone(person: PersonFacts | None, home: ProjectFacts | None, default: str) -> str:
    if person is not None and valid_timezone(person.timezone):
        return str(person.timezone)
    if home is not None and valid_timezone(home.timezone):
        return home.timezone
    return default if valid_timezone(default) else "UTC"


def plan_nudges(work: OverdueWork, ctx: JobContext) -> list[Outgoing]:
    planned: list[Outgoing] = []
    for (team_id, user_id), items in work.by_assignee().items():
        if not _in(ctx.projects, min(item.project_id for item in items)):
            continue  # planned whole by the chunk of the first project they have overdue work in
        person = work.people.get((team_id, user_id))
        if person is not None and person.inactive:
            continue  # deactivated accounts and bots: a DM would only fail
        home = _home_project(items, work.projects)
        zone = nudge_timezone(person, home, ctx.default_timezone)
        slot = latest_daily_slot(ctx.now, zone, NUDGE_TIME, NUDGE_WEEKDAYS)
        if slot is None or not is_due(slot, ctx.now, NUDGE_GRACE):
            continue
        locale = normalise_locale(person.locale if person else None, home.locale or ctx.default_locale)
        listed = [as_listed(item, work.projects[item.project_id]) for item in items]
        text, blocks = nudge_message(listed, locale=locale)
        planned.append(
            Outgoing(
                # A run limited to one project sends a partial nudge under its own key, not the person's daily one.
                key=f"nudge:{team_id}:{user_id}:{slot.date().isoformat()}"
                + (f":{ctx.project_key}" if ctx.project_key else ""),
                team_id=team_id,
                kind=KIND_NUDGE,
                text=text,
                blocks=blocks,
                channel=user_id,
            )
        )
    return planned


def plan_escalations(
    session: Session, work: OverdueWork, chunk: tuple[int, int] | None = None
) -> list[Outgoing]:
    due = {project_id: items for project_id, items in work.to_escalate().items() if _in(chunk, project_id)}
    if not due:
        return []
    projects = sorted((work.projects[pid] for pid in due), key=lambda p: (p.team_id, p.key))
    owners = owners_of(session, projects=projects)
    planned: list[Outgoing] = []
    for project in projects:
        items = due[project.id]
        shown = items[:ESCALATION_ITEMS_SHOWN]
        more = len(items) - len(shown)
        # Only the items named in the message count as escalated; the rest go in the next one.
        escalated = tuple((item.id, item.due_date) for item in shown)
        for owner in owners.get(project.id, []):
            if owner.inactive:
                continue
            locale = normalise_locale(owner.locale, project.locale)
            text, blocks = escalation_message(project, shown, locale=locale, more=more)
            planned.append(
                Outgoing(
                    key=f"escalation:{project.team_id}:{project.key}:{owner.user_id}:{project.today.isoformat()}",
                    team_id=project.team_id,
                    kind=KIND_ESCALATION,
                    text=text,
                    blocks=blocks,
                    channel=owner.user_id,
                    project_id=project.id,
                    on_claim=partial(mark_escalated, items=escalated),
                )
            )
    return planned
