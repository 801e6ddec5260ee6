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
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.domain.customers import of_another_organisation
from bot.domain.errors import N_, UserError
from bot.domain.nudges import valid_timezone
from bot.domain.permissions import project_owners, require_project_manager
from bot.i18n import normalise_locale
from storage.models import (
    MemberRole,
    Person,
    Project,
    ProjectMember,
    ProjectStatus,
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


# -- working hours ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class WorkingHours:
    """When invitations and reminders may arrive, on the recipient's own wall clock."""

    weekdays: tuple[int, ...] = (0, 1, 2, 3, 4)  # Monday = 0
    start: time = time(9, 0)
    end: time = time(17, 0)

    def contains(self, now: datetime, timezone: str) -> bool:
        local = now.astimezone(ZoneInfo(timezone))
        return local.weekday() in self.weekdays and self.start <= local.time() < self.end


DEFAULT_WORKING_HOURS = WorkingHours()


def parse_working_hours(value: str) -> WorkingHours:
    """``"Mon-Fri 09:00-17:00"`` (or ``"0-4 09:00-17:00"``, ``"Mon,Wed 10:00-16:00"``) as :class:`WorkingHours`."""
    names = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

    def day(text: str) -> int:
        text = text.strip().lower()[:3]
        if text.isdigit() and int(text) in range(7):
            return int(text)
        if text in names:
            return names.index(text)
        raise ValueError(f"not a weekday: {text!r}")

    def clock(text: str) -> time:
        hours, _, minutes = text.strip().partition(":")
        return time(int(hours), int(minutes or 0))

    days_text, _, hours_text = value.strip().partition(" ")
    weekdays: list[int] = []
    for part in days_text.split(","):
        first, _, last = part.partition("-")
        low, high = day(first), day(last or first)
        weekdays += list(range(low, high + 1)) if low <= high else [*range(low, 7), *range(0, high + 1)]
    start_text, _, end_text = hours_text.strip().partition("-")
    start, end = clock(start_text), clock(end_text)
    if not start < end:
        raise ValueError("working hours must end after they start")
    return WorkingHours(weekdays=tuple(sorted(set(weekdays))), start=start, end=end)


def zone_of(person_timezone: str | None, project_timezone: str, default: str = "UTC") -> str:
    """The person's own time zone, else the project's, else ``default``."""
    for zone in (person_timezone, project_timezone, default):
        if valid_timezone(zone):
            return str(zone)
    return "UTC"


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
        closes_at=now + timedelta(days=max(project.survey_open_days, 1)),
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


def _dm(
    session: Session,
    survey: Survey,
    project: Project,
    participant: SurveyParticipant,
    response: SurveyResponse | None,
    now: datetime,
) -> SurveyDm:
    user_id = participant.user_id
    return SurveyDm(
        survey_id=survey.id,
        team_id=survey.team_id,
        project_key=project.key,
        project_name=project.name,
        project_locale=project.locale,
        kind=survey.kind,
        role=participant.role,
        closes_at=survey.closes_at,
        timezone=_person_zone(session, survey.team_id, user_id, project),
        closed=_is_closed(survey, now),
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
    return _dm(session, survey, project, participant, _own_response(session, key, survey, user_id), now)


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
    return _dm(session, survey, project, participant, response, now)


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
class _Facts:
    timezone: str | None
    locale: str | None
    inactive: bool


def scope_of(team_id: str | None, project_key: str | None) -> list[ColumnElement[bool]]:
    """Conditions on :class:`Project` for a job's ``--team`` / ``--project``."""
    return _scope(team_id, project_key)


def _scope(team_id: str | None, project_key: str | None) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if team_id:
        conditions.append(Project.team_id == team_id)
    if project_key:
        conditions.append(Project.key == project_key.strip().upper())
    return conditions


def _due_dms(
    session: Session,
    *,
    now: datetime,
    reminders: bool,
    team_id: str | None,
    project_key: str | None,
    default_timezone: str,
    default_locale: str,
    hours: WorkingHours,
) -> list[DueMessage]:
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
            *_scope(team_id, project_key),
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
    due: list[DueMessage] = []
    for participant, survey, project, tz, locale, is_deleted, is_bot, home, home_ent in session.execute(query):
        if is_deleted or is_bot:
            continue
        if of_another_organisation(home, survey.team_id, home_enterprise_id=home_ent, enterprise_id=project.enterprise_id):
            continue  # of another organisation: asked by the card in the project channel, not by DM
        zone = zone_of(tz, project.timezone, default_timezone)
        if not hours.contains(now, zone):
            continue
        dm = SurveyDm(
            survey_id=survey.id,
            team_id=survey.team_id,
            project_key=project.key,
            project_name=project.name,
            project_locale=project.locale,
            kind=survey.kind,
            role=participant.role,
            closes_at=survey.closes_at,
            timezone=zone,
        )
        due.append(
            DueMessage(
                survey_id=survey.id,
                participant_id=participant.id,
                team_id=survey.team_id,
                user_id=participant.user_id,
                locale=normalise_locale(locale, project.locale or default_locale),
                dm=dm,
            )
        )
    return due


def due_invitations(
    session: Session,
    *,
    now: datetime,
    team_id: str | None = None,
    project_key: str | None = None,
    default_timezone: str = "UTC",
    default_locale: str = "en",
    hours: WorkingHours = DEFAULT_WORKING_HOURS,
) -> list[DueMessage]:
    """Participants of open surveys not invited yet, whose own clock is in working hours now."""
    return _due_dms(
        session, now=now, reminders=False, team_id=team_id, project_key=project_key,
        default_timezone=default_timezone, default_locale=default_locale, hours=hours,
    )  # fmt: skip


def due_reminders(
    session: Session,
    *,
    now: datetime,
    team_id: str | None = None,
    project_key: str | None = None,
    default_timezone: str = "UTC",
    default_locale: str = "en",
    hours: WorkingHours = DEFAULT_WORKING_HOURS,
) -> list[DueMessage]:
    """Participants invited at least :data:`REMINDER_AFTER` ago who have not answered nor been reminded."""
    return _due_dms(
        session, now=now, reminders=True, team_id=team_id, project_key=project_key,
        default_timezone=default_timezone, default_locale=default_locale, hours=hours,
    )  # fmt: skip


def mark_invited(session: Session, *, participant_id: int, now: datetime) -> None:
    """Run in the ledger's claim: this participant's invitation is on its way."""
    session.execute(
        update(SurveyParticipant)
        .where(SurveyParticipant.id == participant_id, SurveyParticipant.invited_at.is_(None))
        .values(invited_at=now)
        .execution_options(synchronize_session=False)
    )


def mark_reminded(session: Session, *, participant_id: int, now: datetime) -> None:
    """Run in the ledger's claim: this participant's one reminder is on its way."""
    session.execute(
        update(SurveyParticipant)
        .where(SurveyParticipant.id == participant_id, SurveyParticipant.reminded_at.is_(None))
        .values(reminded_at=now)
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


# -- results ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Comment:
    text: str
    user_id: str | None  # None: anonymous


@dataclass(frozen=True)
class SurveyResults:
    survey_id: int
    team_id: str
    project_id: int
    project_key: str
    project_name: str
    project_locale: str
    project_timezone: str
    kind: str
    created_at: datetime
    closes_at: datetime
    asked: int
    answered: int
    average: float | None
    recommend_average: float | None
    recommend_answers: int
    # Score → how many gave it (1..5), and the comments; empty when hidden.
    distribution: tuple[tuple[int, int], ...] = ()
    comments: tuple[Comment, ...] = ()
    hidden: bool = True
    owners: tuple[str, ...] = field(default=())

    @property
    def rate(self) -> float:
        return self.answered / self.asked if self.asked else 0.0


def survey_results(session: Session, *, survey_id: int) -> SurveyResults:
    """The results of a survey: rate, averages, and — from :data:`MIN_ANSWERS_SHOWN` answers on — distribution and comments."""
    survey = session.get(Survey, survey_id)
    if survey is None:
        raise UserError(N_("That survey no longer exists."))
    project = session.get(Project, survey.project_id)
    assert project is not None
    asked = int(
        session.scalar(
            select(func.count())
            .select_from(SurveyParticipant)
            .where(SurveyParticipant.survey_id == survey_id)
        )
        or 0
    )
    responses = session.scalars(
        select(SurveyResponse).where(SurveyResponse.survey_id == survey_id).order_by(SurveyResponse.id)
    ).all()
    scores = [r.score for r in responses if r.score is not None]
    recommends = [r.recommend for r in responses if r.recommend is not None]
    answered = len(scores)
    hidden = answered < MIN_ANSWERS_SHOWN
    distribution: tuple[tuple[int, int], ...] = ()
    comments: tuple[Comment, ...] = ()
    if not hidden:
        distribution = tuple((value, scores.count(value)) for value in reversed(SCORES))
        comments = tuple(
            Comment(r.comment, r.user_id) for r in responses if r.comment and r.score is not None
        )
    return SurveyResults(
        survey_id=survey.id,
        team_id=survey.team_id,
        project_id=project.id,
        project_key=project.key,
        project_name=project.name,
        project_locale=project.locale,
        project_timezone=zone_of(None, project.timezone),
        kind=survey.kind,
        created_at=survey.created_at,
        closes_at=survey.closes_at,
        asked=asked,
        answered=answered,
        average=sum(scores) / answered if answered else None,
        recommend_average=sum(recommends) / len(recommends) if recommends else None,
        recommend_answers=len(recommends),
        distribution=distribution,
        comments=comments,
        hidden=hidden,
        owners=tuple(project_owners(session, project_id=project.id)),
    )


# Results stay planned this long after a survey was closed, so a crash between claiming the
# report and the owners' copies loses none of them (the ledger's keys keep them single).
RESULTS_GRACE = timedelta(days=1)


def due_results(
    session: Session, *, now: datetime, team_id: str | None = None, project_key: str | None = None
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
            *_scope(team_id, project_key),
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
            *_scope(team_id, project_key),
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
    return {project_id: surveys[-1][1] for project_id, surveys in history.items()}


def latest_satisfaction(session: Session, project_id: int, *, before: datetime | None = None) -> float | None:
    """The average score of the project's latest closed survey with at least one answer (the digest's KPI)."""
    return latest_satisfaction_scores(session, project_ids=[project_id], before=before).get(project_id)
