"""``aftercare export``: every record as JSON (or one CSV per kind), in the public export format."""

from __future__ import annotations

import csv
import json
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.domain.customer_settings import CUSTOMER_COLUMNS
from storage import queries
from storage.models import (
    Document,
    Kind,
    Meeting,
    MemberRole,
    ProjectChannel,
    Record,
    Survey,
    SurveyParticipant,
    SurveyResponse,
)

KIND_SECTIONS = {
    Kind.REQUIREMENT: "requirements",
    Kind.ISSUE: "issues",
    Kind.TASK: "tasks",
    Kind.RISK: "risks",
}
# The project settings (``/project settings``), exported so that ``aftercare import`` restores them.
PROJECT_SETTINGS = (
    "digest_weekday",
    "digest_time",
    "review_weekday",
    "review_time",
    "review_every_weeks",
    "nudges_enabled",
    "escalate_after_days",
    "survey_pulse_days",
    "survey_open_days",
    "survey_include_team",
    *CUSTOMER_COLUMNS,  # customers and service levels
    "removed_contacts",
)
# The service-level fields of an issue (stored as they happened, never recomputed at export).
SERVICE_LEVEL_FIELDS = (
    "first_response_at",
    "first_response_due",
    "resolved_at",
    "resolution_due",
    "sla_start",
)
SECTIONS = (
    "projects",
    "requirements",
    "issues",
    "tasks",
    "risks",
    "meetings",
    "surveys",
    "history",
    "documents",
)


def _iso(value: datetime | date | None) -> str | None:
    return value.isoformat() if value is not None else None


def _record(record: Record, project_key: str) -> dict[str, Any]:
    data: dict[str, Any] = {
        "key": record.key,
        "team_id": record.team_id,
        "project": project_key,
        "title": record.title,
        "description": record.description,
        "status": record.status,
        "created_by": record.created_by,
        "created_at": _iso(record.created_at),
        "updated_at": _iso(record.updated_at),
        "assignee_id": record.assignee_id,
        "due_date": _iso(record.due_date),
        "priority": record.priority,
        "source_url": record.source_url,
        "requester_id": record.requester_id,
        "deleted_at": _iso(record.deleted_at),
        # For a faithful restore (``aftercare import``): when it reached its terminal status, and
        # the reminders' memory (snoozed, escalated for this due date, last risk review).
        "closed_at": _iso(record.closed_at),
        "snoozed_until": _iso(record.snoozed_until),
        "escalated_for_due": _iso(record.escalated_for_due),
    }
    if record.kind == Kind.ISSUE:
        data["source_ts"] = record.source_ts
        data["source_channel_id"] = record.source_channel_id
        data["requester_external"] = record.requester_external
        data.update({name: _iso(getattr(record, name)) for name in SERVICE_LEVEL_FIELDS})
        data["sla_paused_minutes"] = record.sla_paused_minutes
        data["sla_breached"] = list(record.sla_breached or [])
        data["sla_warned"] = list(record.sla_warned or [])
    if record.kind == Kind.TASK:
        data["estimate_hours"] = record.estimate_hours
    if record.kind == Kind.RISK:
        data.update(
            probability=record.probability,
            impact=record.impact,
            score=record.score,
            mitigation=record.mitigation,
            last_reviewed_at=_iso(record.last_reviewed_at),
        )
    return data


def _meetings(session: Session, *, project_ids: list[int], keys: dict[int, str]) -> list[dict[str, Any]]:
    """Meetings with the keys of the tasks each one created (in creation order)."""
    if not project_ids:
        return []
    meetings = session.scalars(
        select(Meeting).where(Meeting.project_id.in_(project_ids)).order_by(Meeting.project_id, Meeting.seq)
    ).all()
    items: dict[int, list[str]] = {}
    if meetings:
        rows = session.execute(
            select(Record.meeting_id, Record.key)
            .where(Record.meeting_id.in_([m.id for m in meetings]))
            .order_by(Record.project_id, Record.seq)
        )
        for meeting_id, key in rows:
            if meeting_id is not None:
                items.setdefault(meeting_id, []).append(key)
    return [
        {
            "key": meeting.key,
            "team_id": meeting.team_id,
            "project": keys[meeting.project_id],
            "title": meeting.title,
            "held_on": _iso(meeting.held_on),
            "attendees": list(meeting.attendees or []),
            "notes": meeting.notes,
            "decisions": meeting.decisions,
            "action_items": items.get(meeting.id, []),
            "created_by": meeting.created_by,
            "created_at": _iso(meeting.created_at),
            "source_url": meeting.source_url,
        }
        for meeting in meetings
    ]


def _surveys(
    session: Session, *, project_ids: list[int], keys: dict[int, str], record_keys: dict[int, str]
) -> list[dict[str, Any]]:
    """Surveys with who was asked and what was answered — kept apart, as they are stored.

    ``recipients`` and ``responses`` are listed independently (recipients by user id,
    responses in the order they were first given), so the export links an answer to a
    person no more than the database does: only when they chose to show their name.
    ``participants`` and the secret hashes are there for a faithful restore.
    """
    if not project_ids:
        return []
    surveys = session.scalars(
        select(Survey).where(Survey.project_id.in_(project_ids)).order_by(Survey.project_id, Survey.id)
    ).all()
    if not surveys:
        return []
    survey_ids = [s.id for s in surveys]
    participants: dict[int, list[SurveyParticipant]] = {}
    for participant in session.scalars(
        select(SurveyParticipant)
        .where(SurveyParticipant.survey_id.in_(survey_ids))
        .order_by(SurveyParticipant.survey_id, SurveyParticipant.user_id)
    ):
        participants.setdefault(participant.survey_id, []).append(participant)
    responses: dict[int, list[SurveyResponse]] = {}
    for response in session.scalars(
        select(SurveyResponse)
        .where(SurveyResponse.survey_id.in_(survey_ids))
        .order_by(SurveyResponse.survey_id, SurveyResponse.id)
    ):
        responses.setdefault(response.survey_id, []).append(response)
    return [
        {
            "id": survey.id,
            "team_id": survey.team_id,
            "project": keys[survey.project_id],
            "kind": survey.kind,
            # ``issue`` surveys (satisfaction per resolved issue): the issue's key and which resolution.
            **(
                {"record": record_keys.get(survey.record_id), "resolution": survey.resolution}
                if survey.record_id is not None
                else {}
            ),
            "status": survey.status,
            "include_team": survey.include_team,
            "created_by": survey.created_by,
            "created_at": _iso(survey.created_at),
            "closes_at": _iso(survey.closes_at),
            "closed_at": _iso(survey.closed_at),
            "recipients": [p.user_id for p in participants.get(survey.id, [])],
            "responses": [
                {
                    "score": r.score,
                    "recommend": r.recommend,
                    "comment": r.comment,
                    "user_id": r.user_id,
                    "created_at": _iso(r.created_at),
                    "updated_at": _iso(r.updated_at),
                    "secret_hash": r.secret_hash,
                }
                for r in responses.get(survey.id, [])
            ],
            "participants": [
                {
                    "user_id": p.user_id,
                    "role": p.role,
                    "responded": p.responded,
                    "invited_at": _iso(p.invited_at),
                    "reminded_at": _iso(p.reminded_at),
                    "secret_check": p.secret_check,
                }
                for p in participants.get(survey.id, [])
            ],
        }
        for survey in surveys
    ]


def _documents(session: Session, *, project_ids: list[int], keys: dict[int, str]) -> list[dict[str, Any]]:
    """The projects' documents of record (the retrospective reports), with their full Markdown content."""
    if not project_ids:
        return []
    documents = session.scalars(
        select(Document)
        .where(Document.project_id.in_(project_ids))
        .order_by(Document.project_id, Document.created_at, Document.id)
    )
    return [
        {
            "team_id": document.team_id,
            "project": keys[document.project_id],
            "kind": document.kind,
            "title": document.title,
            "created_by": document.created_by,
            "created_at": _iso(document.created_at),
            "file_id": document.file_id,
            "permalink": document.permalink,
            "content": document.content,
        }
        for document in documents
    ]


def export_data(
    session: Session, *, team_id: str | None = None, project_key: str | None = None
) -> dict[str, Any]:
    projects = queries.projects(session, team_id=team_id, key=project_key)
    ids = [p.id for p in projects]
    keys = {p.id: p.key for p in projects}
    members = queries.members(session, project_ids=ids)
    channels: dict[int, list[str]] = {}
    if ids:
        for project_id, channel_id in session.execute(
            select(ProjectChannel.project_id, ProjectChannel.channel_id)
            .where(ProjectChannel.project_id.in_(ids))
            .order_by(ProjectChannel.linked_at, ProjectChannel.id)
        ):
            channels.setdefault(project_id, []).append(channel_id)
    out: dict[str, Any] = {section: [] for section in SECTIONS}
    for project in projects:
        mine = [m for m in members if m.project_id == project.id]
        out["projects"].append(
            {
                "key": project.key,
                "name": project.name,
                "team_id": project.team_id,
                "enterprise_id": project.enterprise_id,
                "channel_id": project.channel_id,
                "report_channel_id": project.report_channel_id,
                "status": project.status,
                "timezone": project.timezone,
                "locale": project.locale,
                "owners": [m.user_id for m in mine if m.role == MemberRole.OWNER],
                "customer_contacts": [m.user_id for m in mine if m.role == MemberRole.CUSTOMER_CONTACT],
                "created_by": project.created_by,
                "created_at": _iso(project.created_at),
                "closed_at": _iso(project.closed_at),
                "last_seq": project.last_seq,
                # Every linked channel (``channel_id`` is the main one), the settings and the closing texts.
                "channels": channels.get(project.id, []),
                **{name: getattr(project, name) for name in PROJECT_SETTINGS},
                "closing_summary": project.closing_summary,
                "lessons_learned": project.lessons_learned,
            }
        )
    record_keys: dict[int, str] = {}
    for record in queries.records(session, project_ids=ids):
        out[KIND_SECTIONS[Kind(record.kind)]].append(_record(record, keys[record.project_id]))
        record_keys[record.id] = record.key
    out["meetings"] = _meetings(session, project_ids=ids, keys=keys)
    out["surveys"] = _surveys(session, project_ids=ids, keys=keys, record_keys=record_keys)
    out["documents"] = _documents(session, project_ids=ids, keys=keys)
    for entry in queries.history(session, project_ids=ids):
        out["history"].append(
            {
                "team_id": entry.team_id,
                "record": entry.record_key,
                "field": entry.field,
                "old": entry.old,
                "new": entry.new,
                "by": entry.by,
                "at": _iso(entry.at),
                "scope_change": entry.scope_change,
            }
        )
    return out


def write_json(data: dict[str, Any]) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2)


def write_csv(data: dict[str, Any], directory: Path) -> list[Path]:
    """One CSV per kind; list and object fields as JSON in the cell."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for section in SECTIONS:
        rows = data[section]
        columns: list[str] = []
        for row in rows:
            columns += [c for c in row if c not in columns]
        path = directory / f"{section}.csv"
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=columns)
            writer.writeheader()
            for row in rows:
                writer.writerow(
                    {
                        k: json.dumps(v, ensure_ascii=False) if isinstance(v, list | dict) else v
                        for k, v in row.items()
                    }
                )
        written.append(path)
    return written
