"""Satisfaction surveys: who is asked, answering (anonymously if they like), what is due, the results.

A survey asks a satisfaction score (1–5), an optional likelihood-to-recommend score
(0–10) and an optional comment. Recipients are the project's customer contacts and,
for an internal retrospective, optionally its owners (the team).

Anonymity. Who took part (:class:`SurveyParticipant`) is stored apart from what they
answered (:class:`SurveyResponse`); the two are linked only through a per-person
secret that lets the person change their answer:

- the secret is never stored: it is derived when needed as
  ``HMAC-SHA256(key, "survey:<team>:<survey>:<user>")``, where ``key`` comes from the
  server's Slack secret (see :func:`derive_key`) and the user is the one Slack vouches
  for in the signed request;
- the response holds ``sha256("answer:" + secret)``, the participant (from their first
  answer on) ``sha256("check:" + secret)``; neither leads to the other without the key;
- the response names its author only when they tick "Show my name with my answer";
- its timestamps keep only the day (UTC) of the answer, so they cannot be matched with
  the time someone was invited.

Nothing of the secret goes into a Slack message or the delivery ledger (a DM's
buttons carry only the survey id), so a copy of the database cannot link an answer
to a person. Rotating the server secret makes answers given before unchangeable
(the check no longer matches; the person is told), never doubles them.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import and_, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.domain.errors import N_, UserError
from bot.domain.kpis import satisfaction_at
from bot.domain.permissions import require_project_manager
from bot.domain.working_hours import zone_of
from storage.models import (
    MemberRole,
    Person,
    Project,
    ProjectMember,
    Survey,
    SurveyParticipant,
    SurveyResponse,
)

log = logging.getLogger(__name__)

KIND_CLOSING = "closing"
KIND_ON_DEMAND = "on_demand"
KIND_PULSE = "pulse"
KINDS = (KIND_CLOSING, KIND_ON_DEMAND, KIND_PULSE)
# Satisfaction with one resolved issue (:mod:`bot.domain.issue_csat`): not a project survey.
KIND_ISSUE = "issue"
STATUS_OPEN = "open"
STATUS_CLOSED = "closed"
ROLE_CUSTOMER = "customer"
ROLE_TEAM = "team"

SCORES = range(1, 6)
RECOMMEND_SCORES = range(0, 11)
MAX_COMMENT = 3000
# Fewer answers than this: the results show no distribution and no comments (nobody can be singled out).
MIN_ANSWERS_SHOWN = 3
REMINDER_AFTER = timedelta(days=3)

NOT_YOURS = N_("This survey was not sent to you.")
NO_RECIPIENTS = N_(
    "Project %(key)s has nobody to ask: add customer contacts in /project settings, then try again."
)


# -- secrets ----------------------------------------------------------------------------------------


def derive_key(material: str) -> bytes:
    """The survey key, from a server secret that every process shares (never stored in the database)."""
    if not material:
        raise UserError(N_("Surveys need the bot's Slack secret, which is not configured."))
    return hmac.new(material.encode(), b"aftercare-survey-secret-v1", hashlib.sha256).digest()


def _secret(key: bytes, *, team_id: str, survey_id: int, user_id: str) -> str:
    return hmac.new(key, f"survey:{team_id}:{survey_id}:{user_id}".encode(), hashlib.sha256).hexdigest()


def _check_of(secret: str) -> str:
    return hashlib.sha256(f"check:{secret}".encode()).hexdigest()


def _answer_hash_of(secret: str) -> str:
    return hashlib.sha256(f"answer:{secret}".encode()).hexdigest()


# -- starting a survey ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Recipient:
    user_id: str
    role: str  # customer | team


def recipients(session: Session, *, project_id: int, include_team: bool) -> list[Recipient]:
    """The project's customer contacts (and its owners, as the team, when asked); bots and deactivated people left out."""
    project = session.get(Project, project_id)
    if project is None:
        return []
    roles = [MemberRole.CUSTOMER_CONTACT] + ([MemberRole.OWNER] if include_team else [])
    rows = session.execute(
        select(ProjectMember.user_id, ProjectMember.role, Person.is_bot, Person.is_deleted)
        .outerjoin(
            Person, and_(Person.team_id == ProjectMember.team_id, Person.user_id == ProjectMember.user_id)
        )
        .where(ProjectMember.project_id == project_id, ProjectMember.role.in_(roles))
        .order_by(ProjectMember.id)
    )
    found: dict[str, str] = {}
    for user_id, role, is_bot, is_deleted in rows:
        if is_bot or is_deleted or user_id == "USLACKBOT":
            continue
        as_role = ROLE_CUSTOMER if role == MemberRole.CUSTOMER_CONTACT else ROLE_TEAM
        # Someone both customer contact and owner is asked once, as a customer.
        if found.get(user_id) != ROLE_CUSTOMER:
            found[user_id] = as_role
    return [Recipient(user_id, role) for user_id, role in found.items()]


def closing_time(open_days: int, now: datetime) -> datetime:
    """When a survey started ``now`` closes: after the project's ``survey_open_days`` (one day at least)."""
    return now + timedelta(days=max(open_days, 1))


def start_survey(
    session: Session,
    *,
    team_id: str,
    project_id: int,
    kind: str,
    created_by: str | None,
    now: datetime,
    include_team: bool | None = None,
) -> int:
    """Create a survey of the project, open for ``survey_open_days``, and its participants; returns its id.

    ``include_team`` (default: the project's setting) adds the owners, for an internal
    retrospective. Invitations go out with the surveys job, in each person's working hours.
    No permission check: callers check who may start one (see :func:`start_on_demand_survey`).
    """
    if kind not in KINDS:
        raise ValueError(f"unknown survey kind {kind!r}")
    project = session.get(Project, project_id)
    if project is None or project.team_id != team_id:
        raise UserError(N_("That project no longer exists."))
    with_team = project.survey_include_team if include_team is None else include_team
    people = recipients(session, project_id=project.id, include_team=with_team)
    if not people:
        raise UserError(NO_RECIPIENTS, key=project.key)
    survey = Survey(
        team_id=team_id,
        project_id=project.id,
        kind=kind,
        status=STATUS_OPEN,
        include_team=with_team,
        created_by=created_by,
        created_at=now,
        closes_at=closing_time(project.survey_open_days, now),
    )
    session.add(survey)
    session.flush()
    for person in people:
        session.add(
            SurveyParticipant(
                survey_id=survey.id,
                team_id=team_id,
                user_id=person.user_id,
                role=person.role,
                # Set from the first answer on (the job that creates pulse surveys has no key).
                secret_check="",
                responded=False,
            )
        )
    session.flush()
    return survey.id


@dataclass(frozen=True)
class StartedSurvey:
    id: int
    project_key: str
    project_name: str
    locale: str
    timezone: str
    recipients: int
    closes_at: datetime


def open_survey_of(session: Session, *, project_id: int, now: datetime) -> Survey | None:
    return session.scalar(
        select(Survey)
        .where(
            Survey.project_id == project_id,
            Survey.status == STATUS_OPEN,
            Survey.closes_at > now,
            Survey.kind != KIND_ISSUE,
        )
        .order_by(Survey.id.desc())
        .limit(1)
    )


def start_on_demand_survey(
    session: Session, *, team_id: str, project_id: int, user_id: str, now: datetime
) -> StartedSurvey:
    """``/project survey``: an owner or admin starts a survey now (one open at a time)."""
    project = session.get(Project, project_id)
    if project is None or project.team_id != team_id:
        raise UserError(N_("That project no longer exists."))
    require_project_manager(session, team_id=team_id, project_id=project.id, user_id=user_id, key=project.key)
    if open_survey_of(session, project_id=project.id, now=now) is not None:
        raise UserError(
            N_("A survey of %(key)s is still open. Its results come when it closes."), key=project.key
        )
    survey_id = start_survey(
        session, team_id=team_id, project_id=project.id, kind=KIND_ON_DEMAND, created_by=user_id, now=now
    )
    survey = session.get(Survey, survey_id)
    assert survey is not None
    count = session.scalar(
        select(func.count()).select_from(SurveyParticipant).where(SurveyParticipant.survey_id == survey_id)
    )
    return StartedSurvey(
        id=survey_id,
        project_key=project.key,
        project_name=project.name,
        locale=project.locale,
        timezone=zone_of(None, project.timezone),
        recipients=int(count or 0),
        closes_at=survey.closes_at,
    )


# -- answering --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Details:
    """What the "Add details" form sends (the score again, and the optional parts)."""

    score: int
    recommend: int | None
    comment: str | None
    signed: bool


@dataclass(frozen=True)
class SurveyDm:
    """A survey as its recipient sees it in their DM (their own answer, if any)."""

    survey_id: int
    team_id: str
    project_key: str
    project_name: str
    project_locale: str
    kind: str
    role: str  # customer | team
    closes_at: datetime
    timezone: str  # the recipient's, for dates
    closed: bool = False
    score: int | None = None
    recommend: int | None = None
    comment: str | None = None
    signed: bool = False

    @property
    def answered(self) -> bool:
        return self.score is not None

    @property
    def closes_on(self) -> date:
        return self.closes_at.astimezone(ZoneInfo(self.timezone)).date()


def _day_of(now: datetime) -> datetime:
    """Midnight UTC of ``now``'s day."""
    return datetime.combine(now.astimezone(UTC).date(), time(0, 0), tzinfo=UTC)


def _is_closed(survey: Survey, now: datetime) -> bool:
    return survey.status != STATUS_OPEN or now >= survey.closes_at


def _load(
    session: Session, *, survey_id: int, user_id: str, lock: bool = False
) -> tuple[Survey, Project, SurveyParticipant]:
    """The survey, its project and the clicking person's participation; strangers refused."""
    survey = session.get(Survey, survey_id)
    project = session.get(Project, survey.project_id) if survey is not None else None
    query = select(SurveyParticipant).where(
        SurveyParticipant.survey_id == survey_id, SurveyParticipant.user_id == user_id
    )
    if lock:
        query = query.with_for_update()
    participant = session.scalar(query) if survey is not None else None
    if survey is None or project is None or participant is None:
        raise UserError(NOT_YOURS)
    return survey, project, participant


def _person_zone(session: Session, team_id: str, user_id: str, project: Project) -> str:
    person_tz = session.scalar(
        select(Person.timezone).where(Person.team_id == team_id, Person.user_id == user_id)
    )
    return zone_of(person_tz, project.timezone)


def survey_dm(
    survey: Survey,
    project: Project,
    participant: SurveyParticipant,
    *,
    timezone: str,
    closed: bool = False,
    response: SurveyResponse | None = None,
) -> SurveyDm:
    """The survey as ``participant`` sees it in their DM, dates in ``timezone``, with their answer if any."""
    return SurveyDm(
        survey_id=survey.id,
        team_id=survey.team_id,
        project_key=project.key,
        project_name=project.name,
        project_locale=project.locale,
        kind=survey.kind,
        role=participant.role,
        closes_at=survey.closes_at,
        timezone=timezone,
        closed=closed,
        score=response.score if response else None,
        recommend=response.recommend if response else None,
        comment=response.comment if response else None,
        signed=bool(response and response.user_id),
    )


def _own_response(session: Session, key: bytes, survey: Survey, user_id: str) -> SurveyResponse | None:
    secret = _secret(key, team_id=survey.team_id, survey_id=survey.id, user_id=user_id)
    return session.scalar(
        select(SurveyResponse).where(
            SurveyResponse.survey_id == survey.id, SurveyResponse.secret_hash == _answer_hash_of(secret)
        )
    )


def my_survey(session: Session, *, survey_id: int, user_id: str, key: bytes, now: datetime) -> SurveyDm:
    """The survey as ``user_id`` sees it, with their own answer (to redraw the DM or fill the form)."""
    survey, project, participant = _load(session, survey_id=survey_id, user_id=user_id)
    zone = _person_zone(session, survey.team_id, user_id, project)
    response = _own_response(session, key, survey, user_id)
    return survey_dm(
        survey, project, participant, timezone=zone, closed=_is_closed(survey, now), response=response
    )


def answer(
    session: Session,
    *,
    survey_id: int,
    user_id: str,
    key: bytes,
    now: datetime,
    score: int | None = None,
    details: Details | None = None,
) -> SurveyDm:
    """Store or change ``user_id``'s answer: a score (a button), or the whole form (``details``).

    One answer per person, changeable until the survey closes; anyone not asked is refused.
    A first answer is anonymous unless the form's "show my name" is ticked.
    """
    survey, project, participant = _load(session, survey_id=survey_id, user_id=user_id, lock=True)
    if _is_closed(survey, now):
        raise UserError(N_("This survey is closed: answers can no longer be given or changed. Thank you!"))
    if details is not None:
        score = details.score
    if score not in SCORES:
        raise UserError(N_("Choose a score from 1 to 5."), field="score")
    if details is not None and details.recommend is not None and details.recommend not in RECOMMEND_SCORES:
        raise UserError(N_("Choose a score from 0 to 10."), field="recommend")
    secret = _secret(key, team_id=survey.team_id, survey_id=survey.id, user_id=user_id)
    check = _check_of(secret)
    if participant.secret_check and not hmac.compare_digest(participant.secret_check, check):
        raise UserError(
            N_(
                "Your earlier answer can no longer be changed (the bot's keys were renewed). Thank you for it!"
            )
        )
    response = _own_response(session, key, survey, user_id)
    if response is None and participant.responded:
        # Answered before, yet no answer under this secret: never make a second one.
        raise UserError(
            N_(
                "Your earlier answer can no longer be changed (the bot's keys were renewed). Thank you for it!"
            )
        )
    # Answers keep only the day they were given: an exact time could be matched with an invitation's.
    day = _day_of(now)
    if response is None:
        response = SurveyResponse(
            survey_id=survey.id,
            team_id=survey.team_id,
            secret_hash=_answer_hash_of(secret),
            score=score,
            created_at=day,
            updated_at=day,
        )
        try:
            with session.begin_nested():
                session.add(response)
                session.flush()
        except IntegrityError:
            # A double click won the race: change that answer instead.
            found = _own_response(session, key, survey, user_id)
            if found is None:
                raise
            response = found
        participant.responded = True
        participant.secret_check = check
    response.score = score
    if details is not None:
        response.recommend = details.recommend
        comment = (details.comment or "").strip()
        response.comment = comment[:MAX_COMMENT] or None
        response.user_id = user_id if details.signed else None
    response.updated_at = day
    session.flush()
    zone = _person_zone(session, survey.team_id, user_id, project)
    return survey_dm(
        survey, project, participant, timezone=zone, closed=_is_closed(survey, now), response=response
    )


# -- the digest's KPI -------------------------------------------------------------------------------


def satisfaction_history(
    session: Session, *, project_ids: Sequence[int], before: datetime | None = None
) -> dict[int, list[tuple[datetime, float]]]:
    """Each project's closed surveys with at least one answer: (closed at, average score), oldest first.

    One query whatever the number of projects (closed before ``before``).
    """
    if not project_ids:
        return {}
    query = (
        select(Survey.project_id, Survey.closed_at, Survey.id, func.avg(SurveyResponse.score))
        .join(SurveyResponse, SurveyResponse.survey_id == Survey.id)
        .where(
            Survey.project_id.in_(list(project_ids)),
            Survey.status == STATUS_CLOSED,
            Survey.kind != KIND_ISSUE,
            SurveyResponse.score.is_not(None),
        )
        .group_by(Survey.project_id, Survey.closed_at, Survey.id)
        .order_by(Survey.closed_at, Survey.id)
    )
    if before is not None:
        query = query.where(Survey.closed_at <= before)
    history: dict[int, list[tuple[datetime, float]]] = {}
    for project_id, closed_at, _survey_id, average in session.execute(query):
        history.setdefault(project_id, []).append((closed_at, float(average)))
    return history


def latest_satisfaction_scores(
    session: Session, *, project_ids: Sequence[int], before: datetime | None = None
) -> dict[int, float]:
    """The average score of each project's latest closed survey with at least one answer (closed before ``before``)."""
    history = satisfaction_history(session, project_ids=project_ids, before=before)
    return {
        project_id: score
        for project_id, surveys in history.items()
        if (score := satisfaction_at(surveys)) is not None
    }


def latest_satisfaction(session: Session, project_id: int, *, before: datetime | None = None) -> float | None:
    """The average score of the project's latest closed survey with at least one answer (the digest's KPI)."""
    return latest_satisfaction_scores(session, project_ids=[project_id], before=before).get(project_id)
