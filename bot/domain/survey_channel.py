"""Surveys for people of another organisation: one card in the project channel that mentions them.

Slack lets this workspace's app DM its own members and guests, never a person of another
organisation in a Slack Connect channel. Those participants are therefore asked by ONE card in
the project channel (``survey-card:<team>:<survey>``) that mentions them, and reminded by one
post there (``survey-card-reminder:<team>:<survey>``) that mentions only those who have not
answered. Everyone else is still asked by DM (:mod:`bot.domain.surveys`).

"Of another organisation" is narrower than "external" (INTERFACE.md): guests and customer contacts
who are members here are reached by DM. It is read from the people directory — the person's home
workspace (``users.info`` → ``team_id``, kept in ``people.home_team_id``) differs from the
survey's workspace and its Enterprise Grid organisation (``people.home_enterprise_id``) is not the project's
(a colleague of a sibling workspace of the same Grid is this organisation, and DMed). The directory is filled from ``users.info`` for
whoever it does not know yet when a survey starts (:func:`unknown_people`, called after the
transaction by the listener); someone it still does not know is asked by DM, and if Slack refuses
that DM, the ledger marks it failed and tells the owners.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, select, update
from sqlalchemy.orm import Session

from bot.domain.customers import of_another_organisation
from bot.domain.surveys import KIND_ISSUE, REMINDER_AFTER, STATUS_OPEN
from bot.domain.working_hours import WorkingHours, zone_of
from bot.i18n import normalise_locale
from storage.models import Person, Project, Survey, SurveyParticipant


def other_organisation_ids(
    session: Session, *, team_id: str, user_ids: Iterable[str], enterprise_id: str | None = None
) -> set[str]:
    """The people among ``user_ids`` whom the directory knows to be of another organisation."""
    wanted = list(set(user_ids))
    if not wanted:
        return set()
    rows = session.execute(
        select(Person.user_id, Person.home_team_id, Person.home_enterprise_id).where(
            Person.team_id == team_id, Person.user_id.in_(wanted)
        )
    )
    return {
        user_id
        for user_id, home, home_enterprise in rows
        if of_another_organisation(
            home, team_id, home_enterprise_id=home_enterprise, enterprise_id=enterprise_id
        )
    }


def unknown_people(session: Session, *, survey_id: int) -> list[str]:
    """Participants of a survey whose organisation the directory cannot tell (to ask ``users.info``): no home
    workspace known, or — in an Enterprise Grid organisation — another workspace without its organisation."""
    survey = session.get(Survey, survey_id)
    if survey is None:
        return []
    project = session.get(Project, survey.project_id)
    enterprise = project.enterprise_id if project is not None else None
    rows = session.execute(
        select(SurveyParticipant.user_id, Person.home_team_id, Person.home_enterprise_id)
        .outerjoin(
            Person,
            (Person.team_id == SurveyParticipant.team_id) & (Person.user_id == SurveyParticipant.user_id),
        )
        .where(SurveyParticipant.survey_id == survey_id)
        .order_by(SurveyParticipant.id)
    )
    return [
        user_id
        for user_id, home, home_enterprise in rows
        if not home or (enterprise and home != survey.team_id and not home_enterprise)
    ]


@dataclass(frozen=True)
class DueCard:
    """A card (or its reminder) due in a project channel, for the participants it mentions."""

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


def due_cards(
    session: Session,
    *,
    now: datetime,
    reminders: bool,
    hours: WorkingHours,
    scope: Sequence[ColumnElement[bool]] = (),
    default_timezone: str = "UTC",
    default_locale: str = "en",
) -> list[DueCard]:
    """Open project surveys with participants of another organisation still to invite (or to remind).

    Due when the clock of at least one of them is in working hours; then the card mentions all of them,
    so there is one card per survey (and one reminder).
    """
    query = (
        select(
            SurveyParticipant,
            Survey,
            Project,
            Person.timezone,
            Person.home_team_id,
            Person.home_enterprise_id,
        )
        .join(Survey, Survey.id == SurveyParticipant.survey_id)
        .join(Project, Project.id == Survey.project_id)
        .join(
            Person,
            (Person.team_id == SurveyParticipant.team_id) & (Person.user_id == SurveyParticipant.user_id),
        )
        .where(
            Survey.status == STATUS_OPEN,
            Survey.closes_at > now,
            Survey.kind != KIND_ISSUE,
            Person.home_team_id.is_not(None),
            Person.home_team_id != Survey.team_id,  # and not of a sibling workspace of its Grid (below)
            Person.is_bot.is_(False),
            Person.is_deleted.is_(False),
            *scope,
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
    grouped: dict[int, tuple[Survey, Project, list[tuple[SurveyParticipant, str]]]] = {}
    for participant, survey, project, tz, home, home_enterprise in session.execute(query):
        if not of_another_organisation(
            home, survey.team_id, home_enterprise_id=home_enterprise, enterprise_id=project.enterprise_id
        ):
            continue
        entry = grouped.setdefault(survey.id, (survey, project, []))
        entry[2].append((participant, zone_of(tz, project.timezone, default_timezone)))
    due: list[DueCard] = []
    for survey, project, people in grouped.values():
        if not project.channel_id:
            continue  # nowhere to reach them: the project has no channel
        if not any(hours.contains(now, zone) for _participant, zone in people):
            continue
        due.append(
            DueCard(
                survey_id=survey.id,
                team_id=survey.team_id,
                project_id=project.id,
                project_key=project.key,
                project_name=project.name,
                kind=survey.kind,
                channel_id=project.channel_id,
                locale=normalise_locale(project.locale, default_locale),
                closes_at=survey.closes_at,
                timezone=zone_of(None, project.timezone, default_timezone),
                participant_ids=tuple(p.id for p, _zone in people),
                user_ids=tuple(p.user_id for p, _zone in people),
            )
        )
    return due


def mark_card_invited(session: Session, *, participant_ids: Sequence[int], now: datetime) -> None:
    """Run in the ledger's claim of the card: the people it mentions are invited."""
    session.execute(
        update(SurveyParticipant)
        .where(SurveyParticipant.id.in_(list(participant_ids)), SurveyParticipant.invited_at.is_(None))
        .values(invited_at=now)
        .execution_options(synchronize_session=False)
    )


def mark_card_reminded(session: Session, *, participant_ids: Sequence[int], now: datetime) -> None:
    """Run in the ledger's claim of the reminder: the people it mentions were reminded."""
    session.execute(
        update(SurveyParticipant)
        .where(SurveyParticipant.id.in_(list(participant_ids)), SurveyParticipant.reminded_at.is_(None))
        .values(reminded_at=now)
        .execution_options(synchronize_session=False)
    )
