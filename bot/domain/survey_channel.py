"""Surveys for people of another organisation: one card in the project channel that mentions them.

Slack lets this workspace's app DM its own members and guests, never a person of another
organisation in a Slack Connect channel. Those participants are therefore asked by ONE card in
the project channel (``survey-card:<team>:<survey>``) that mentions them, and reminded by one
post there (``survey-card-reminder:<team>:<survey>``) that mentions only those who have not
answered. Everyone else is still asked by DM; both are planned together by
:func:`bot.domain.survey_schedule.due_asks`. This module tells who is of another organisation.

"Of another organisation" is narrower than "external" (INTERFACE.md): guests and customer contacts
who are members here are reached by DM. It is read from the people directory — the person's home
workspace (``users.info`` → ``team_id``, kept in ``people.home_team_id``) differs from the
survey's workspace and its Enterprise Grid organisation (``people.home_enterprise_id``) is not the project's
(a colleague of a sibling workspace of the same Grid is this organisation, and DMed). The directory is filled from ``users.info`` for
whoever it does not know yet when a survey starts (:func:`unknown_people`, called after the
transaction by the listener) and, for a pulse survey the surveys job started, before its invitations
are planned (:func:`unplaced_pulse_participants`); someone it still does not know is asked by DM, and if
Slack refuses that DM, the ledger marks it failed and tells the owners.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.domain.customers import of_another_organisation
from bot.domain.survey_schedule import scope_of
from bot.domain.surveys import KIND_PULSE, STATUS_OPEN
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
    """Participants of a survey whose organisation the directory cannot tell (:func:`cannot_place`), to ask
    ``users.info`` about."""
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
        if cannot_place(home, home_enterprise, team_id=survey.team_id, enterprise_id=enterprise)
    ]


def cannot_place(
    home: str | None, home_enterprise: str | None, *, team_id: str, enterprise_id: str | None
) -> bool:
    """Whether the directory's facts (home workspace, its organisation) leave a person's organisation
    unknown: no home workspace, or — in an Enterprise Grid organisation — another workspace without its
    organisation."""
    return not home or bool(enterprise_id and home != team_id and not home_enterprise)


def unplaced_pulse_participants(
    session: Session,
    *,
    now: datetime,
    team_id: str | None = None,
    project_key: str | None = None,
    projects: tuple[int, int] | None = None,
) -> dict[str, list[str]]:
    """Per workspace, the participants of open pulse surveys (of the job's scope) not invited yet whom the
    directory cannot place, each once, in survey then participant order. One query, however many surveys."""
    rows = session.execute(
        select(
            Survey.team_id,
            SurveyParticipant.user_id,
            Project.enterprise_id,
            Person.home_team_id,
            Person.home_enterprise_id,
        )
        .join(SurveyParticipant, SurveyParticipant.survey_id == Survey.id)
        .join(Project, Project.id == Survey.project_id)
        .outerjoin(
            Person,
            (Person.team_id == SurveyParticipant.team_id) & (Person.user_id == SurveyParticipant.user_id),
        )
        .where(
            Survey.kind == KIND_PULSE,
            Survey.status == STATUS_OPEN,
            Survey.closes_at > now,
            SurveyParticipant.invited_at.is_(None),
            *scope_of(team_id, project_key, projects),
        )
        .order_by(Survey.id, SurveyParticipant.id)
    )
    wanted: dict[str, dict[str, None]] = {}
    for team, user_id, enterprise, home, home_enterprise in rows:
        if cannot_place(home, home_enterprise, team_id=team, enterprise_id=enterprise):
            wanted.setdefault(team, {})[user_id] = None
    return {team: list(people) for team, people in wanted.items()}
