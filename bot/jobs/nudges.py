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
- Not chunked (planned whole by every scheduler replica, the ledger keeping each send single): a
  person's daily nudge gathers their overdue items of *every* project under one key
  (``nudge:<team>:<user>:<date>``). Planned a chunk of projects at a time, the first chunk to claim that
  key would send a partial list and the other chunks' items would never reach the person; a key per chunk
  instead would split one DM into several and change the keys. Planning each person's whole nudge in one
  chunk (the chunk of their first project with overdue work, reading all their items there) keeps keys and
  texts, but was tried and measured (2026-12-03, 1,000 projects × 200 records, 5,000 people, SQLite): the
  ten chunks read twice what one whole plan reads (7.5–9.8 s against 3.2–5.0 s), and since people work
  across many projects, most of them fall to the first chunk — so two replicas would each spend about what
  one whole plan costs, no faster than now. The escalations (per project) come from the same read of
  overdue work, so they stay with it.
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
        default_timezone=ctx.default_timezone,
    )
    return [*plan_nudges(work, ctx), *plan_escalations(session, work)]


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


def plan_escalations(session: Session, work: OverdueWork) -> list[Outgoing]:
    due = work.to_escalate()
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
