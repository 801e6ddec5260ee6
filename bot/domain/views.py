"""Plain, immutable snapshots of stored rows: what the domain hands to the Slack edge."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from bot.domain.kpis import risk_score
from bot.domain.service_levels import TargetState, current_state
from bot.domain.statuses import LIFECYCLES
from storage.models import Kind, Project, Record


@dataclass(frozen=True)
class ProjectView:
    id: int
    team_id: str
    key: str
    name: str
    channel_id: str | None
    report_channel_id: str | None
    status: str
    timezone: str
    locale: str
    created_by: str

    @classmethod
    def of(cls, project: Project) -> ProjectView:
        return cls(
            id=project.id,
            team_id=project.team_id,
            key=project.key,
            name=project.name,
            channel_id=project.channel_id,
            report_channel_id=project.report_channel_id,
            status=project.status,
            timezone=project.timezone,
            locale=project.locale,
            created_by=project.created_by,
        )


@dataclass(frozen=True)
class RecordView:
    id: int
    team_id: str
    project_key: str
    project_channel_id: str | None
    locale: str
    key: str
    kind: Kind
    title: str
    description: str
    status: str
    priority: str
    assignee_id: str | None
    due_date: date | None
    estimate_hours: float | None
    probability: int | None
    impact: int | None
    created_by: str
    requester_id: str | None
    created_at: datetime
    source_url: str | None
    version: int
    project_id: int = 0
    mitigation: str | None = None
    deleted_at: datetime | None = None
    card_channel_id: str | None = None
    card_ts: str | None = None
    meeting_id: int | None = None
    project_status: str = "active"
    # Where the service level stands at the instant the view was taken (internal places only).
    sla: TargetState | None = None

    @property
    def score(self) -> int | None:
        return risk_score(self.probability, self.impact)

    @property
    def is_open(self) -> bool:
        return self.deleted_at is None and self.status in LIFECYCLES[self.kind].open

    @classmethod
    def of(cls, record: Record, project: Project, *, now: datetime | None = None) -> RecordView:
        """``now``: also take the service-level state at that instant (for private and internal views)."""
        return cls(
            id=record.id,
            team_id=record.team_id,
            project_key=project.key,
            project_channel_id=project.channel_id,
            locale=project.locale,
            key=record.key,
            kind=Kind(record.kind),
            title=record.title,
            description=record.description,
            status=record.status,
            priority=record.priority,
            assignee_id=record.assignee_id,
            due_date=record.due_date,
            estimate_hours=record.estimate_hours,
            probability=record.probability,
            impact=record.impact,
            created_by=record.created_by,
            requester_id=record.requester_id,
            created_at=record.created_at,
            source_url=record.source_url,
            version=record.version,
            project_id=project.id,
            mitigation=record.mitigation,
            deleted_at=record.deleted_at,
            card_channel_id=record.card_channel_id,
            card_ts=record.card_ts,
            meeting_id=record.meeting_id,
            project_status=project.status,
            sla=current_state(record, project, now=now) if now is not None else None,
        )
