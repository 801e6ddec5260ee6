"""A survey's results: the scores, the recommend figure and the comments, shown only from a few answers on."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.domain.errors import N_, UserError
from bot.domain.permissions import project_owners
from bot.domain.surveys import MIN_ANSWERS_SHOWN, SCORES
from bot.domain.working_hours import zone_of
from storage.models import (
    Project,
    Survey,
    SurveyParticipant,
    SurveyResponse,
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
