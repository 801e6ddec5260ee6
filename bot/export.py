"""``aftercare export``: every record as JSON (or one CSV per kind), in the public export format."""

from __future__ import annotations

import csv
import json
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage import queries
from storage.models import Kind, Meeting, MemberRole, Record

KIND_SECTIONS = {
    Kind.REQUIREMENT: "requirements",
    Kind.ISSUE: "issues",
    Kind.TASK: "tasks",
    Kind.RISK: "risks",
}
SECTIONS = ("projects", "requirements", "issues", "tasks", "risks", "meetings", "surveys", "history")


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
    }
    if record.kind == Kind.TASK:
        data["estimate_hours"] = record.estimate_hours
    if record.kind == Kind.RISK:
        data.update(
            probability=record.probability,
            impact=record.impact,
            score=record.score,
            mitigation=record.mitigation,
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


def export_data(
    session: Session, *, team_id: str | None = None, project_key: str | None = None
) -> dict[str, Any]:
    projects = queries.projects(session, team_id=team_id, key=project_key)
    ids = [p.id for p in projects]
    keys = {p.id: p.key for p in projects}
    members = queries.members(session, project_ids=ids)
    out: dict[str, Any] = {section: [] for section in SECTIONS}
    for project in projects:
        mine = [m for m in members if m.project_id == project.id]
        out["projects"].append(
            {
                "key": project.key,
                "name": project.name,
                "team_id": project.team_id,
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
            }
        )
    for record in queries.records(session, project_ids=ids):
        out[KIND_SECTIONS[Kind(record.kind)]].append(_record(record, keys[record.project_id]))
    out["meetings"] = _meetings(session, project_ids=ids, keys=keys)
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
