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
transaction by the listener); someone it still does not know is asked by DM, and if Slack refuses
that DM, the ledger marks it failed and tells the owners.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.domain.customers import of_another_organisation
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
