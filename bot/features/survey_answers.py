"""A survey answer as the survey buttons and form (``bot/commands/surveys.py``) store and read it, each in one
transaction, with the language to answer the person in (theirs, else the project's)."""

from __future__ import annotations

from bot.domain import surveys
from bot.domain.people import locale_of
from bot.features.survey_people import survey_key
from bot.slack.services import Services


def answer(
    services: Services, *, survey_id: int, user_id: str, score: int | None = None,
    details: surveys.Details | None = None,
) -> tuple[surveys.SurveyDm, str]:  # fmt: skip
    """Store or change the person's answer (a score, or the whole form); the DM as it now stands."""
    with services.db.write() as session:
        dm = surveys.answer(
            session, survey_id=survey_id, user_id=user_id, key=survey_key(services), now=services.now(),
            score=score, details=details,
        )  # fmt: skip
        return dm, locale_of(session, team_id=dm.team_id, user_id=user_id, default=dm.project_locale)


def as_it_stands(services: Services, *, survey_id: int, user_id: str) -> tuple[surveys.SurveyDm, str]:
    """The person's survey DM as stored (``UserError`` for someone it was not sent to)."""
    with services.db.read() as session:
        dm = surveys.my_survey(
            session, survey_id=survey_id, user_id=user_id, key=survey_key(services), now=services.now()
        )
        return dm, locale_of(session, team_id=dm.team_id, user_id=user_id, default=dm.project_locale)
