"""What the surveys job does: invitations and reminders (DMs and channel cards) due in working hours, results due, pulse surveys.

Reads and small marks only; the job (:mod:`bot.jobs.surveys`) turns them into ledger messages.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, func, select, update
from sqlalchemy.orm import Session

from bot.domain.customers import of_another_organisation
from bot.domain.errors import UserError
from bot.domain.surveys import (
    KIND_ISSUE,
    KIND_PULSE,
    REMINDER_AFTER,
    STATUS_CLOSED,
    STATUS_OPEN,
    SurveyDm,
    open_survey_of,
    recipients,
    start_survey,
    survey_dm,
)
from bot.domain.working_hours import DEFAULT_WORKING_HOURS, WorkingHours, zone_of
from bot.i18n import normalise_locale
from storage.models import (
    Person,
    Project,
    ProjectStatus,
    Survey,
    SurveyParticipant,
)

log = logging.getLogger(__name__)

# -- what the surveys job does ----------------------------------------------------------------------


@dataclass(frozen=True)
class DueMessage:
    """A DM due to a participant: an invitation or a reminder."""

    survey_id: int
    participant_id: int
    team_id: str
    user_id: str
    locale: str
    dm: SurveyDm


@dataclass(frozen=True)
class DueCard:
    """A card (or its reminder) due in a project channel, for the participants of another organisation it mentions."""

    survey_id: int
    team_id: str
    project_id: int
    project_key: str
    project_name: str
    kind: str
    channel_id: str
    locale: str
    closes_at: datetime
    timezone: str  # the project's, for the closing date
    participant_ids: tuple[int, ...]
    user_ids: tuple[str, ...]


@dataclass(frozen=True)
class DueAsks:
    """The invitations (or reminders) due now: DMs to each participant, one card per survey for the rest."""

    messages: tuple[DueMessage, ...]
    cards: tuple[DueCard, ...]


def scope_of(
    team_id: str | None, project_key: str | None, projects: tuple[int, int] | None = None
) -> list[ColumnElement[bool]]:
    """Conditions on :class:`Project` for a job's ``--team`` / ``--project`` and its planning chunk
    (``projects``: the first and last project id, :attr:`bot.delivery.base.JobContext.projects`)."""
    conditions: list[ColumnElement[bool]] = []
    if team_id:
        conditions.append(Project.team_id == team_id)
    if project_key:
        conditions.append(Project.key == project_key.strip().upper())
    if projects:
        conditions.append(Project.id.between(*projects))
    return conditions


def due_asks(
    session: Session,
    *,
    now: datetime,
    reminders: bool,
    team_id: str | None = None,
    project_key: str | None = None,
    projects: tuple[int, int] | None = None,
    default_timezone: str = "UTC",
    default_locale: str = "en",
    hours: WorkingHours = DEFAULT_WORKING_HOURS,
) -> DueAsks:
    """Participants of open project surveys to invite (``reminders`` False) or to remind, in one query.

    Invitations go to those not invited yet; a reminder to those invited at least
    :data:`REMINDER_AFTER` ago who have not answered nor been reminded. Each participant
    this app can DM gets a DM once their own clock is in working hours. Those of another
    organisation (:mod:`bot.domain.survey_channel`) get one card per survey in its project
    channel, due when the clock of at least one of them is in working hours; it mentions all of them.
    """
    query = (
        select(
            SurveyParticipant,
            Survey,
            Project,
            Person.timezone,
            Person.locale,
            Person.is_deleted,
            Person.is_bot,
            Person.home_team_id,
            Person.home_enterprise_id,
        )
        .join(Survey, Survey.id == SurveyParticipant.survey_id)
        .join(Project, Project.id == Survey.project_id)
        .outerjoin(
            Person,
            and_(Person.team_id == SurveyParticipant.team_id, Person.user_id == SurveyParticipant.user_id),
        )
        .where(
            Survey.status == STATUS_OPEN,
            Survey.closes_at > now,
            Survey.kind != KIND_ISSUE,
            *scope_of(team_id, project_key, projects),
        )
        .order_by(Survey.id, SurveyParticipant.id)
    )
    if reminders:
        query = query.where(
            SurveyParticipant.invited_at.is_not(None),
            SurveyParticipant.invited_at <= now - REMINDER_AFTER,
            SurveyParticipant.responded.is_(False),
            SurveyParticipant.reminded_at.is_(None),
        )
    else:
        query = query.where(SurveyParticipant.invited_at.is_(None))
    messages: list[DueMessage] = []
    by_card: dict[int, tuple[Survey, Project, list[tuple[SurveyParticipant, str]]]] = {}
    for participant, survey, project, tz, locale, is_deleted, is_bot, home, home_ent in session.execute(
        query
    ):
        if is_deleted or is_bot:
            continue
        zone = zone_of(tz, project.timezone, default_timezone)
        if of_another_organisation(
            home, survey.team_id, home_enterprise_id=home_ent, enterprise_id=project.enterprise_id
        ):
            by_card.setdefault(survey.id, (survey, project, []))[2].append((participant, zone))
        elif hours.contains(now, zone):
            messages.append(
                _message(
                    participant,
                    survey,
                    project,
                    zone,
                    normalise_locale(locale, project.locale or default_locale),
                )
            )
    cards = [
        _card(survey, project, people, default_timezone, default_locale)
        for survey, project, people in by_card.values()
        # Nowhere to reach them without a project channel; else due once one of them is at work.
        if project.channel_id and any(hours.contains(now, zone) for _participant, zone in people)
    ]
    return DueAsks(messages=tuple(messages), cards=tuple(cards))


def _message(
    participant: SurveyParticipant, survey: Survey, project: Project, zone: str, locale: str
) -> DueMessage:
    dm = survey_dm(survey, project, participant, timezone=zone)
    return DueMessage(
        survey_id=survey.id,
        participant_id=participant.id,
        team_id=survey.team_id,
        user_id=participant.user_id,
        locale=locale,
        dm=dm,
    )


def _card(
    survey: Survey,
    project: Project,
    people: list[tuple[SurveyParticipant, str]],
    default_timezone: str,
    default_locale: str,
) -> DueCard:
    return DueCard(
        survey_id=survey.id,
        team_id=survey.team_id,
        project_id=project.id,
        project_key=project.key,
        project_name=project.name,
        kind=survey.kind,
        channel_id=str(project.channel_id),
        locale=normalise_locale(project.locale, default_locale),
        closes_at=survey.closes_at,
        timezone=zone_of(None, project.timezone, default_timezone),
        participant_ids=tuple(p.id for p, _zone in people),
        user_ids=tuple(p.user_id for p, _zone in people),
    )


def mark_asked(session: Session, *, participant_ids: Sequence[int], reminder: bool, now: datetime) -> None:
    """Run in the ledger's claim of an invitation (DM or card) or a reminder: those it asks are marked, once."""
    column = SurveyParticipant.reminded_at if reminder else SurveyParticipant.invited_at
    session.execute(
        update(SurveyParticipant)
        .where(SurveyParticipant.id.in_(list(participant_ids)), column.is_(None))
        .values({column: now})
        .execution_options(synchronize_session=False)
    )


def close_survey(session: Session, *, survey_id: int, now: datetime) -> None:
    """Run in the ledger's claim of the results: the survey is closed (once; later calls change nothing)."""
    session.execute(
        update(Survey)
        .where(Survey.id == survey_id, Survey.status == STATUS_OPEN)
        .values(status=STATUS_CLOSED, closed_at=now)
        .execution_options(synchronize_session=False)
    )


def close_finished_issue_surveys(
    session: Session,
    *,
    now: datetime,
    team_id: str | None = None,
    project_key: str | None = None,
    projects: tuple[int, int] | None = None,
) -> int:
    """Close, as of their closing time, the satisfaction cards of resolved issues whose time is up; how many.

    A project's survey is closed when its results are posted (:func:`close_survey`); an issue's card has no
    results message, so without this its row said "open" for ever (and so did the export).
    """
    result = session.execute(
        update(Survey)
        .where(
            Survey.kind == KIND_ISSUE,
            Survey.status == STATUS_OPEN,
            Survey.closes_at <= now,
            Survey.project_id.in_(select(Project.id).where(*scope_of(team_id, project_key, projects))),
        )
        .values(status=STATUS_CLOSED, closed_at=Survey.closes_at)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


RESULTS_GRACE = timedelta(days=1)


def due_results(
    session: Session,
    *,
    now: datetime,
    team_id: str | None = None,
    project_key: str | None = None,
    projects: tuple[int, int] | None = None,
) -> list[int]:
    """Surveys whose results are due: open past their closing time, or closed within :data:`RESULTS_GRACE`."""
    query = (
        select(Survey.id)
        .join(Project, Project.id == Survey.project_id)
        .where(
            Survey.closes_at <= now,
            Survey.kind != KIND_ISSUE,
            (Survey.status == STATUS_OPEN)
            | ((Survey.status == STATUS_CLOSED) & (Survey.closed_at >= now - RESULTS_GRACE)),
            *scope_of(team_id, project_key, projects),
        )
        .order_by(Survey.id)
    )
    return list(session.scalars(query))


# -- pulse surveys ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class DuePulse:
    team_id: str
    project_id: int
    project_key: str
    project_name: str
    project_locale: str
    # When the pulse fell due (the last survey's start, or the project's, plus the pulse's days).
    due_at: datetime
    # The start of the project's latest survey when planned (None: none yet); rechecked when claimed.
    last_started: datetime | None
    recipients: int
    open_days: int


def due_pulses(
    session: Session,
    *,
    now: datetime,
    team_id: str | None = None,
    project_key: str | None = None,
    projects: tuple[int, int] | None = None,
    default_timezone: str = "UTC",
    hours: WorkingHours = DEFAULT_WORKING_HOURS,
) -> list[DuePulse]:
    """Active projects with a pulse whose last survey (of any kind) began ``survey_pulse_days`` ago or more.

    None while one of the project's surveys is still open or it has nobody to ask;
    started in the project's working hours, so the owners' notice arrives at a decent hour.
    """
    latest = (
        select(Survey.project_id, func.max(Survey.created_at).label("last_started"))
        .where(Survey.kind != KIND_ISSUE)
        .group_by(Survey.project_id)
        .subquery()
    )
    rows = session.execute(
        select(Project, latest.c.last_started)
        .outerjoin(latest, latest.c.project_id == Project.id)
        .where(
            Project.status == ProjectStatus.ACTIVE,
            Project.survey_pulse_days > 0,
            *scope_of(team_id, project_key, projects),
        )
        .order_by(Project.team_id, Project.key)
    )
    due: list[DuePulse] = []
    for project, last_started in rows:
        anchor = last_started or project.created_at
        due_at = anchor + timedelta(days=project.survey_pulse_days)
        if now < due_at:
            continue
        if not hours.contains(now, zone_of(None, project.timezone, default_timezone)):
            continue
        if open_survey_of(session, project_id=project.id, now=now) is not None:
            continue
        people = recipients(session, project_id=project.id, include_team=project.survey_include_team)
        if not people:
            continue
        due.append(
            DuePulse(
                team_id=project.team_id,
                project_id=project.id,
                project_key=project.key,
                project_name=project.name,
                project_locale=project.locale,
                due_at=due_at,
                last_started=last_started,
                recipients=len(people),
                open_days=project.survey_open_days,
            )
        )
    return due


def start_pulse(
    session: Session, *, project_id: int, last_started: datetime | None, now: datetime
) -> int | None:
    """Run in the ledger's claim of a pulse notice: start the pulse survey, unless one began meanwhile."""
    project = session.get(Project, project_id)
    if project is None or project.status != ProjectStatus.ACTIVE:
        return None
    current = session.scalar(
        select(func.max(Survey.created_at)).where(Survey.project_id == project_id, Survey.kind != KIND_ISSUE)
    )
    if current != last_started:
        return None
    try:
        with session.begin_nested():
            return start_survey(
                session,
                team_id=project.team_id,
                project_id=project.id,
                kind=KIND_PULSE,
                created_by=None,
                now=now,
            )
    except UserError:
        log.warning("pulse survey of %s not started: nobody to ask any more", project.key)
        return None
