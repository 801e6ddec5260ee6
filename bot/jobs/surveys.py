"""The surveys job: pulse surveys, invitations and reminders by DM, and the results when a survey closes.

A planner (see :mod:`bot.delivery.base`): it reads only, and hands the delivery ledger
messages under deterministic keys, whose ``on_claim`` records what was done in the
claim's own transaction — so a second run, a restart or a second scheduler never
sends anything twice, and nothing claimed is forgotten.

- Invitations (``survey:<team>:<survey>:<user>``, kind ``survey``) go to each
  participant not yet invited, once their own clock (their Slack time zone, else
  the project's) is within working hours; the claim sets ``invited_at``.
- One reminder (``survey-reminder:<team>:<survey>:<user>``, kind ``survey_reminder``)
  goes, in working hours, to whoever has not answered 3 days after the invitation
  was sent; the claim sets ``reminded_at``.
- People of another organisation (Slack Connect), whom the bot cannot DM, are asked by one card in the
  project channel that mentions them (``survey-card:<team>:<survey>``, kind ``survey``) once the clock
  of one of them is in working hours, and reminded there once (``survey-card-reminder:<team>:<survey>``,
  kind ``survey_reminder``) mentioning only those who have not answered (:mod:`bot.domain.survey_channel`).
  DMs and cards are planned together, for invitations and for reminders alike (:func:`plan_asks`).
- Results (``survey-results:<team>:<survey>``, kind ``survey_results``) go, once the
  survey's time is up, to the project's report channel (internal: never a channel
  shared with another organisation; the runner falls back to the owners), and to
  each owner by DM (``…:<owner>``, the very key the runner's fallback uses, so an
  owner never gets two). Claiming any of them closes the survey.
- Pulse surveys: a planner may not write, so a pulse that falls due is planned as
  a notice to the owners (``survey-pulse:<team>:<project>:<due date>``, kind
  ``survey``) whose claim starts the survey — unless another survey began since it
  was planned. Its invitations follow from the next tick on; before that tick plans them,
  :func:`prepare` (outside any transaction) asks ``users.info`` about participants the directory cannot
  place yet, as ``/project survey`` does when a survey starts — so a person of another organisation gets
  the card in the project channel, not a DM Slack would refuse. The scheduler prepares each chunk just
  before planning it, in the chunk's planning turn, so with several replicas each person is asked about by
  one of them (their answer is in the directory for the next chunk and tick); ``jobs run`` prepares its
  whole scope before planning it. The participants to ask about are read in one query, however many
  surveys are open (:func:`bot.domain.survey_channel.unplaced_pulse_participants`).
- Chunked (:mod:`bot.delivery.planning`): every message belongs to one survey of one project — a person
  asked by two projects gets two invitations, under two keys — so the planners read only the projects of
  ``ctx.projects`` (:func:`bot.domain.survey_schedule.scope_of`) and a chunk plans exactly what the whole
  run plans for its projects, closed ones included (a closing survey).
"""

from __future__ import annotations

import logging
from datetime import datetime
from functools import partial

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.blocks.basics import text_blocks
from bot.blocks.survey import results_message, started_text, survey_message
from bot.blocks.survey_card import Card, survey_card
from bot.delivery.base import DeliveryKind, JobContext, Outgoing
from bot.delivery.runner import ClientFor
from bot.domain.survey_channel import unplaced_pulse_participants
from bot.domain.survey_results import survey_results
from bot.domain.survey_schedule import (
    DueCard,
    close_finished_issue_surveys,
    close_survey,
    due_asks,
    due_pulses,
    due_results,
    mark_asked,
    start_pulse,
)
from bot.domain.surveys import KIND_PULSE, closing_time
from bot.domain.working_hours import DEFAULT_WORKING_HOURS, WorkingHours, parse_working_hours, zone_of
from bot.features.survey_people import learn_people
from bot.i18n import normalise_locale
from bot.slack.services import Services
from storage import ledger
from storage.models import DeliveryStatus, Person, Project

log = logging.getLogger(__name__)

JOB_ID = "surveys"
KIND_SURVEY = DeliveryKind.SURVEY
KIND_REMINDER = DeliveryKind.SURVEY_REMINDER
KIND_RESULTS = DeliveryKind.SURVEY_RESULTS
# When invitations and reminders may arrive (each recipient's own wall clock).
WORKING_HOURS: WorkingHours = DEFAULT_WORKING_HOURS


def invitation_key(team_id: str, survey_id: int, user_id: str) -> str:
    return f"survey:{team_id}:{survey_id}:{user_id}"


def reminder_key(team_id: str, survey_id: int, user_id: str) -> str:
    return f"survey-reminder:{team_id}:{survey_id}:{user_id}"


def results_key(team_id: str, survey_id: int) -> str:
    return f"survey-results:{team_id}:{survey_id}"


def card_key(team_id: str, survey_id: int) -> str:
    return f"survey-card:{team_id}:{survey_id}"


def card_reminder_key(team_id: str, survey_id: int) -> str:
    return f"survey-card-reminder:{team_id}:{survey_id}"


def plan(session: Session, ctx: JobContext) -> list[Outgoing]:
    """Everything due at ``ctx.now``: pulse starts, invitations, cards, reminders, results."""
    return [
        *plan_pulses(session, ctx),
        *plan_asks(session, ctx, reminders=False),
        *plan_asks(session, ctx, reminders=True),
        *plan_results(session, ctx),
    ]


def plan_asks(session: Session, ctx: JobContext, *, reminders: bool) -> list[Outgoing]:
    """Invitations (or reminders): a DM to each participant due, one card per survey in its project
    channel for those of another organisation. A reminder only follows an invitation that really went
    out (one that failed for good would fail again), and mentions only those who have not answered."""
    due = due_asks(
        session, now=ctx.now, reminders=reminders, team_id=ctx.team_id, project_key=ctx.project_key,
        projects=ctx.projects, default_timezone=ctx.default_timezone, default_locale=ctx.default_locale,
        hours=parse_working_hours(ctx.survey_hours),
    )  # fmt: skip
    invitations = [invitation_key(m.team_id, m.survey_id, m.user_id) for m in due.messages]
    cards = [card_key(c.team_id, c.survey_id) for c in due.cards]
    sent = ledger.statuses(session, keys=[*invitations, *cards]) if reminders else {}
    kind = KIND_REMINDER if reminders else KIND_SURVEY
    planned: list[Outgoing] = []
    for message, invitation in zip(due.messages, invitations, strict=True):
        if reminders and sent.get(invitation) != DeliveryStatus.SENT:
            continue
        text, blocks = survey_message(message.dm, locale=message.locale, reminder=reminders)
        planned.append(
            Outgoing(
                key=(reminder_key if reminders else invitation_key)(
                    message.team_id, message.survey_id, message.user_id
                ),
                team_id=message.team_id,
                kind=kind,
                text=text,
                blocks=blocks,
                channel=message.user_id,
                on_claim=partial(
                    mark_asked, participant_ids=(message.participant_id,), reminder=reminders, now=ctx.now
                ),
            )
        )
    for card, first in zip(due.cards, cards, strict=True):
        if reminders and sent.get(first) != DeliveryStatus.SENT:
            continue
        text, blocks = survey_card(_card_of(card), locale=card.locale, reminder=reminders)
        planned.append(
            Outgoing(
                key=card_reminder_key(card.team_id, card.survey_id) if reminders else first,
                team_id=card.team_id,
                kind=kind,
                text=text,
                blocks=blocks,
                channel=card.channel_id,
                project_id=card.project_id,
                on_claim=partial(
                    mark_asked, participant_ids=card.participant_ids, reminder=reminders, now=ctx.now
                ),
            )
        )
    return planned


def _card_of(due: DueCard) -> Card:
    return Card(
        survey_id=due.survey_id, kind=due.kind, project_name=due.project_name, user_ids=due.user_ids,
        closes_at=due.closes_at, timezone=due.timezone,
    )  # fmt: skip


def plan_pulses(session: Session, ctx: JobContext) -> list[Outgoing]:
    planned: list[Outgoing] = []
    for pulse in due_pulses(
        session, now=ctx.now, team_id=ctx.team_id, project_key=ctx.project_key, projects=ctx.projects,
        default_timezone=ctx.default_timezone, hours=parse_working_hours(ctx.survey_hours),
    ):  # fmt: skip
        project = session.get(Project, pulse.project_id)
        assert project is not None
        locale = normalise_locale(pulse.project_locale, ctx.default_locale)
        text = started_text(
            key=pulse.project_key,
            name=pulse.project_name,
            kind=KIND_PULSE,
            count=pulse.recipients,
            closes_at=closing_time(pulse.open_days, ctx.now),
            timezone=zone_of(None, project.timezone, ctx.default_timezone),
            locale=locale,
        )
        planned.append(
            Outgoing(
                key=f"survey-pulse:{pulse.team_id}:{pulse.project_key}:{pulse.due_at.date().isoformat()}",
                team_id=pulse.team_id,
                kind=KIND_SURVEY,
                text=text,
                blocks=text_blocks(text),
                report_project_id=pulse.project_id,
                on_claim=partial(
                    _start_pulse, project_id=pulse.project_id, last_started=pulse.last_started, now=ctx.now
                ),
            )
        )
    return planned


def _start_pulse(session: Session, *, project_id: int, last_started: datetime | None, now: datetime) -> None:
    start_pulse(session, project_id=project_id, last_started=last_started, now=now)


def plan_results(session: Session, ctx: JobContext) -> list[Outgoing]:
    planned: list[Outgoing] = []
    for survey_id in due_results(
        session, now=ctx.now, team_id=ctx.team_id, project_key=ctx.project_key, projects=ctx.projects
    ):
        results = survey_results(session, survey_id=survey_id)
        closing = partial(close_survey, survey_id=survey_id, now=ctx.now)
        key = results_key(results.team_id, survey_id)
        owners = _owner_facts(session, results.team_id, results.owners)
        # The owners' copies first, each in its reader's language; the runner's fallback to the
        # owners (no report channel, or a shared one) uses the same keys, so it adds nothing.
        for owner, (locale, inactive) in owners.items():
            if inactive:
                continue
            text, blocks = results_message(
                results, locale=normalise_locale(locale, results.project_locale or ctx.default_locale)
            )
            planned.append(
                Outgoing(
                    key=f"{key}:{owner}",
                    team_id=results.team_id,
                    kind=KIND_RESULTS,
                    text=text,
                    blocks=blocks,
                    channel=owner,
                    project_id=results.project_id,
                    on_claim=closing,
                )
            )
        text, blocks = results_message(
            results, locale=normalise_locale(results.project_locale, ctx.default_locale)
        )
        planned.append(
            Outgoing(
                key=key,
                team_id=results.team_id,
                kind=KIND_RESULTS,
                text=text,
                blocks=blocks,
                report_project_id=results.project_id,
                on_claim=closing,
            )
        )
    return planned


def _owner_facts(
    session: Session, team_id: str, owners: tuple[str, ...]
) -> dict[str, tuple[str | None, bool]]:
    """Each owner's locale and whether they can get a DM, from the directory cache (one query)."""
    found: dict[str, tuple[str | None, bool]] = dict.fromkeys(owners, (None, False))
    if owners:
        for user_id, locale, is_deleted, is_bot in session.execute(
            select(Person.user_id, Person.locale, Person.is_deleted, Person.is_bot).where(
                Person.team_id == team_id, Person.user_id.in_(list(owners))
            )
        ):
            found[user_id] = (locale, bool(is_deleted or is_bot))
    return found


def prepare(services: Services, client_for: ClientFor, ctx: JobContext) -> None:
    """Close the issues' satisfaction cards whose time is up; ask ``users.info`` about participants of open pulse
    surveys of ``ctx``'s scope, not invited yet, whom the directory cannot place (its answer is kept there).
    Outside the plan's transaction (a dry run does neither); failures are logged (they are then asked by DM,
    and a DM Slack refuses is reported to the owners by the ledger)."""
    with services.db.write() as session:
        closed = close_finished_issue_surveys(
            session, now=ctx.now, team_id=ctx.team_id, project_key=ctx.project_key, projects=ctx.projects
        )
    if closed:
        log.info("closed %s issue satisfaction cards whose time was up", closed)
    with services.db.read() as session:
        wanted = unplaced_pulse_participants(
            session, now=ctx.now, team_id=ctx.team_id, project_key=ctx.project_key, projects=ctx.projects
        )
    for team_id, user_ids in wanted.items():
        client = client_for(team_id)
        if client is None:
            continue
        learn_people(services, client, team_id=team_id, user_ids=user_ids)
