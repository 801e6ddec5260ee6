"""Satisfaction per resolved issue (project setting ``issue_csat``, default on).

When an issue whose requester is external (``records.requester_external``) enters ``resolved``, a
survey of kind ``issue`` is made for that resolution (``resolution`` = 1, 2, … : how many times the
issue entered ``resolved``, counted from its history), with the requester as its only participant.
Its 1–5 card goes in the issue's source thread (:mod:`bot.jobs.issue_csat`) under the ledger key
``issue-csat:<team>:<record>:<resolution>``; answers are stored like every survey answer
(:func:`bot.domain.surveys.answer`: only the participant's count, a second click changes it).

The figure "issue satisfaction" (average of the answers, with their count) is reported apart from
project surveys, in the digest and the retrospective (:func:`bot.domain.kpis.issue_satisfaction`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.domain.resolution import RESOLVED
from bot.domain.surveys import KIND_ISSUE, ROLE_CUSTOMER, STATUS_OPEN, closing_time
from bot.domain.working_hours import zone_of
from bot.i18n import normalise_locale
from storage.models import HistoryEntry, Project, Record, Survey, SurveyParticipant, SurveyResponse

ISSUE = "issue"


@dataclass(frozen=True)
class IssueCard:
    """A resolved issue's satisfaction card, ready to be posted in its thread."""

    survey_id: int
    participant_id: int
    team_id: str
    project_id: int
    project_key: str
    project_name: str
    record_id: int
    record_key: str
    record_title: str
    requester_id: str
    resolution: int
    channel_id: str
    thread_ts: str
    closes_at: datetime
    locale: str
    timezone: str


def resolutions(session: Session, record: Record) -> int:
    """How many times the issue entered ``resolved`` (its history's status changes)."""
    return int(
        session.scalar(
            select(func.count())
            .select_from(HistoryEntry)
            .where(
                HistoryEntry.project_id == record.project_id,
                HistoryEntry.record_key == record.key,
                HistoryEntry.field == "status",
                HistoryEntry.new == RESOLVED,
            )
        )
        or 0
    )


def issue_card_due(session: Session, *, record_id: int, now: datetime) -> IssueCard | None:
    """The card of the issue's current resolution, made on first call (None: no card for this issue).

    Called after every change of a record (in a write transaction): nothing unless it is a resolved issue
    with an external requester and a source thread, in a project with ``issue_csat`` on. Calling it again
    for the same resolution gives the same survey, so the ledger key keeps the card single.
    """
    # Locked: two follow-ups of the same resolution at once make one survey (PostgreSQL; SQLite serialises writers).
    record = session.get(Record, record_id, with_for_update=True)
    if record is None or record.kind != ISSUE or record.status != RESOLVED or record.deleted_at is not None:
        return None
    if not record.requester_external or not record.requester_id:
        return None
    if not record.source_channel_id or not record.source_ts:
        return None
    project = session.get(Project, record.project_id)
    if project is None or not project.issue_csat:
        return None
    resolution = resolutions(session, record)
    if resolution < 1:
        return None
    survey = session.scalar(
        select(Survey).where(
            Survey.record_id == record.id, Survey.kind == KIND_ISSUE, Survey.resolution == resolution
        )
    )
    if survey is None:
        survey = Survey(
            team_id=record.team_id,
            project_id=project.id,
            kind=KIND_ISSUE,
            record_id=record.id,
            resolution=resolution,
            status=STATUS_OPEN,
            include_team=False,
            created_by=None,
            created_at=now,
            closes_at=closing_time(project.survey_open_days, now),
        )
        session.add(survey)
        session.flush()
        session.add(
            SurveyParticipant(
                survey_id=survey.id,
                team_id=record.team_id,
                user_id=record.requester_id,
                role=ROLE_CUSTOMER,
                secret_check="",
                responded=False,
            )
        )
        session.flush()
    participant = session.scalar(select(SurveyParticipant).where(SurveyParticipant.survey_id == survey.id))
    if participant is None:
        return None
    return IssueCard(
        survey_id=survey.id,
        participant_id=participant.id,
        team_id=record.team_id,
        project_id=project.id,
        project_key=project.key,
        project_name=project.name,
        record_id=record.id,
        record_key=record.key,
        record_title=record.title,
        requester_id=participant.user_id,
        resolution=resolution,
        channel_id=record.source_channel_id,
        thread_ts=record.source_ts,
        closes_at=survey.closes_at,
        locale=normalise_locale(project.locale, "en"),
        timezone=zone_of(None, project.timezone),
    )


def issue_satisfaction_of(
    session: Session, *, project_ids: Sequence[int], before: datetime | None = None
) -> dict[int, list[tuple[datetime, int]]]:
    """Each project's answers to issue cards (when answered, score) up to ``before``: one query for all.

    The figure is :func:`bot.domain.kpis.issue_satisfaction`.
    """
    found: dict[int, list[tuple[datetime, int]]] = {}
    if not project_ids:
        return found
    query = (
        select(Survey.project_id, SurveyResponse.created_at, SurveyResponse.score)
        .join(Survey, Survey.id == SurveyResponse.survey_id)
        .where(
            Survey.project_id.in_(list(project_ids)),
            Survey.kind == KIND_ISSUE,
            SurveyResponse.score.is_not(None),
        )
    )
    if before is not None:
        query = query.where(SurveyResponse.created_at <= before)
    for project_id, at, score in session.execute(query):
        found.setdefault(project_id, []).append((at, int(score or 0)))
    return found
