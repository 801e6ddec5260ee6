"""The import document checked: its shape (pydantic models of the public export format) and its references.

:func:`validate_document` checks the shape, :func:`check_document` that every record, meeting, survey,
document and history entry belongs to a project of the file. Nothing here writes; :mod:`bot.ops.importer`
writes what passed, in one transaction.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
)

from bot.domain.service_levels import TARGETS
from bot.domain.statuses import LIFECYCLES
from bot.i18n import LOCALES
from bot.ops.export import KIND_SECTIONS
from storage.models import (
    Kind,
    Priority,
)

PROJECT_KEY = re.compile(r"^[A-Z][A-Z0-9]{1,9}$")
RECORD_KEY = re.compile(r"^([A-Z][A-Z0-9]{1,9})-([1-9][0-9]{0,8})$")
SECTION_KINDS = {section: kind for kind, section in KIND_SECTIONS.items()}


class InvalidImport(ValueError):
    """The document cannot be imported; the message names the section, index and field. Nothing was written."""


Str = Annotated[str, StringConstraints(strict=True)]
Str8 = Annotated[str, StringConstraints(strict=True, max_length=8)]
Str10 = Annotated[str, StringConstraints(strict=True, max_length=10)]
Str16 = Annotated[str, StringConstraints(strict=True, max_length=16)]
Str24 = Annotated[str, StringConstraints(strict=True, max_length=24)]
Str32 = Annotated[str, StringConstraints(strict=True, max_length=32)]
Str64 = Annotated[str, StringConstraints(strict=True, max_length=64)]
Str200 = Annotated[str, StringConstraints(strict=True, max_length=200)]
Str255 = Annotated[str, StringConstraints(strict=True, max_length=255)]
UserId = Str32
TeamId = Str32
Key = Str24
Url = Annotated[str, StringConstraints(strict=True, max_length=500)]
Count = Annotated[int, Field(strict=True, ge=0)]
Weekday = Annotated[int, Field(strict=True, ge=0, le=6)]
OneToFive = Annotated[int, Field(strict=True, ge=1, le=5)]
Time = Annotated[str, StringConstraints(strict=True, pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")]
Bool = Annotated[bool, Field(strict=True)]


def _target(value: str) -> str:
    if value not in TARGETS:
        raise ValueError(f"must be one of {', '.join(TARGETS)}")
    return value


# A service-level target: ``first_response`` or ``resolution``.
Target = Annotated[str, StringConstraints(strict=True), AfterValidator(_target)]


class _In(BaseModel):
    # Fields this version does not know (``score``, ``recipients`` …) are ignored.
    model_config = ConfigDict(extra="ignore", frozen=True)


class ProjectIn(_In):
    key: Str10
    name: Str200
    team_id: TeamId
    # Enterprise Grid organisation (exports before it existed have none).
    enterprise_id: TeamId | None = None
    channel_id: UserId | None
    report_channel_id: UserId | None
    status: Literal["active", "closed"]
    timezone: Str64
    locale: Str8
    owners: list[UserId]
    customer_contacts: list[UserId]
    created_by: UserId | None = None
    created_at: AwareDatetime | None = None
    closed_at: AwareDatetime | None = None
    last_seq: Count = 0
    channels: list[UserId] | None = None
    digest_weekday: Weekday = 0
    digest_time: Time = "09:00"
    review_weekday: Weekday = 3
    review_time: Time = "10:00"
    review_every_weeks: Annotated[int, Field(strict=True, ge=1, le=52)] = 1
    nudges_enabled: Bool = True
    escalate_after_days: Annotated[int, Field(strict=True, ge=0, le=365)] = 3
    survey_pulse_days: Annotated[int, Field(strict=True, ge=0, le=3650)] = 0
    survey_open_days: Annotated[int, Field(strict=True, ge=1, le=365)] = 7
    survey_include_team: Bool = False
    intake: Literal["off", "suggest", "auto"] = "suggest"
    intake_emoji: Annotated[str, StringConstraints(strict=True, pattern=r"^[a-z0-9_+'-]{1,64}$")] = "ticket"
    thread_updates: Bool = True
    customer_report: Bool = True
    issue_csat: Bool = True
    business_hours: Str200 = "Mon-Fri 09:00-18:00"
    holidays: list[date] = Field(default_factory=list)
    sla: dict[str, dict[str, Annotated[float, Field(ge=0)]]] = Field(default_factory=dict)
    removed_contacts: list[UserId] = Field(default_factory=list)
    closing_summary: Str | None = None
    lessons_learned: Str | None = None


class RecordIn(_In):
    key: Key
    team_id: TeamId
    project: Str10
    title: Str255
    description: Str
    status: Str16
    created_by: UserId
    created_at: AwareDatetime
    updated_at: AwareDatetime | None = None
    assignee_id: UserId | None = None
    due_date: date | None = None
    priority: Priority = Priority.MEDIUM
    estimate_hours: Annotated[float, Field(strict=True, ge=0)] | None = None
    source_url: Url | None = None
    requester_id: UserId | None = None
    probability: OneToFive | None = None
    impact: OneToFive | None = None
    mitigation: Str | None = None
    deleted_at: AwareDatetime | None = None
    closed_at: AwareDatetime | None = None
    snoozed_until: date | None = None
    escalated_for_due: date | None = None
    last_reviewed_at: AwareDatetime | None = None
    # Issues: the customer message and the service levels, stored as they happened.
    source_ts: Str32 | None = None
    source_channel_id: UserId | None = None
    requester_external: Bool | None = None
    sla_start: AwareDatetime | None = None
    first_response_at: AwareDatetime | None = None
    first_response_due: AwareDatetime | None = None
    resolved_at: AwareDatetime | None = None
    resolution_due: AwareDatetime | None = None
    sla_paused_minutes: Count = 0
    sla_breached: list[Target] = Field(default_factory=list)
    sla_warned: list[Target] = Field(default_factory=list)


class MeetingIn(_In):
    key: Key
    team_id: TeamId
    project: Str10
    title: Str255
    held_on: date
    attendees: list[UserId]
    notes: Str
    decisions: Str
    action_items: list[Key]
    created_by: UserId = ""
    created_at: AwareDatetime | None = None
    source_url: Url | None = None


class ResponseIn(_In):
    score: OneToFive | None
    recommend: Annotated[int, Field(strict=True, ge=0, le=10)] | None
    comment: Str | None
    user_id: UserId | None
    created_at: AwareDatetime | None = None
    updated_at: AwareDatetime | None = None
    secret_hash: Str64 | None = None


class ParticipantIn(_In):
    user_id: UserId
    role: Literal["customer", "team"] = "customer"
    responded: Bool = False
    invited_at: AwareDatetime | None = None
    reminded_at: AwareDatetime | None = None
    secret_check: Str64 = ""


class SurveyIn(_In):
    id: Annotated[int, Field(strict=True, ge=1)] | None = None
    team_id: TeamId
    project: Str10
    status: Literal["open", "closed"]
    recipients: list[UserId]
    responses: list[ResponseIn]
    participants: list[ParticipantIn] | None = None
    kind: Literal["closing", "on_demand", "pulse", "issue"] = "on_demand"
    # ``issue`` surveys: the issue's key and which resolution of it.
    record: Key | None = None
    resolution: Annotated[int, Field(strict=True, ge=1)] | None = None
    include_team: Bool = False
    created_by: UserId | None = None
    created_at: AwareDatetime | None = None
    closes_at: AwareDatetime | None = None
    closed_at: AwareDatetime | None = None


class HistoryIn(_In):
    team_id: TeamId
    record: Key
    field: Str32
    old: Str | None
    new: Str | None
    by: UserId
    at: AwareDatetime
    scope_change: Bool = False


class DocumentIn(_In):
    team_id: TeamId
    project: Str10
    kind: Str24
    title: Str255
    content: Str
    created_by: UserId | None = None
    created_at: AwareDatetime
    file_id: UserId | None = None
    permalink: Url | None = None


class ExportIn(_In):
    projects: list[ProjectIn]
    requirements: list[RecordIn]
    issues: list[RecordIn]
    tasks: list[RecordIn]
    risks: list[RecordIn]
    meetings: list[MeetingIn]
    surveys: list[SurveyIn]
    history: list[HistoryIn]
    documents: list[DocumentIn] = Field(default_factory=list)


# -- validation ---------------------------------------------------------------------------------------


def _where(loc: Sequence[int | str], data: Any) -> str:
    """``issues[3] (ACME-7).title`` from a pydantic location."""
    out = ""
    node = data
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
            node = node[part] if isinstance(node, list) and part < len(node) else None
            if isinstance(node, dict) and isinstance(node.get("key"), str):
                out += f" ({node['key']})"
        else:
            out += f".{part}" if out else str(part)
            node = node.get(part) if isinstance(node, dict) else None
    return out or "the document"


def problem(where: str, message: str) -> InvalidImport:
    return InvalidImport(f"{where}: {message}")


def project_channels(p: ProjectIn) -> list[str]:
    """The project's linked channels, in order, once each (``channels``, or the older ``channel_id``)."""
    linked = list(p.channels) if p.channels is not None else [p.channel_id] if p.channel_id else []
    return list(dict.fromkeys(linked))


def validate_document(data: Any) -> ExportIn:
    """The document's shape, or :class:`InvalidImport` naming the first wrong field."""
    if not isinstance(data, dict):
        raise InvalidImport(
            f"expected a JSON object with projects, requirements, issues, … (an export), not {type(data).__name__}"
        )
    try:
        return ExportIn.model_validate(data)
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
        first = errors[0]
        more = f" (and {len(errors) - 1} more problems)" if len(errors) > 1 else ""
        raise problem(_where(first["loc"], data), f"{first['msg']}{more}") from None


@dataclass
class Plan:
    doc: ExportIn
    # (team_id, key) → index in doc.projects
    projects: dict[tuple[str, str], int]
    # per project index: highest seq of its records and meetings
    top_seq: dict[int, int]
    # (team_id, task key) → meeting (team_id, key)
    meeting_of: dict[tuple[str, str], tuple[str, str]]


def _project_index(plan_projects: dict[tuple[str, str], int], where: str, team_id: str, key: str) -> int:
    index = plan_projects.get((team_id, key))
    if index is None:
        raise problem(where, f"project {key} of workspace {team_id} is not among the file's projects")
    return index


def _seq(where: str, key: str, project: str) -> int:
    match = RECORD_KEY.match(key)
    if match is None or match.group(1) != project:
        raise problem(f"{where}.key", f"{key!r} is not a key of project {project} (like {project}-12)")
    return int(match.group(2))


def check_document(doc: ExportIn) -> Plan:
    """Every reference inside the document; :class:`InvalidImport` on the first that fails."""
    projects: dict[tuple[str, str], int] = {}
    channels: dict[tuple[str, str], str] = {}
    for i, p in enumerate(doc.projects):
        where = f"projects[{i}] ({p.key})"
        if not PROJECT_KEY.match(p.key):
            raise problem(f"projects[{i}].key", f"{p.key!r} is not a project key (A-Z then 1-9 of A-Z 0-9)")
        if (p.team_id, p.key) in projects:
            raise problem(f"{where}.key", f"project {p.key} of workspace {p.team_id} is in the file twice")
        projects[(p.team_id, p.key)] = i
        try:
            ZoneInfo(p.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise problem(f"{where}.timezone", f"{p.timezone!r} is not an IANA time zone") from None
        if p.locale not in LOCALES:
            raise problem(f"{where}.locale", f"{p.locale!r} is not one of {', '.join(LOCALES)}")
        linked = project_channels(p)
        if p.channel_id is not None and p.channel_id not in linked:
            raise problem(f"{where}.channel_id", f"{p.channel_id} is not among the project's channels")
        for channel in linked:
            other = channels.setdefault((p.team_id, channel), p.key)
            if other != p.key:
                raise problem(f"{where}.channels", f"channel {channel} is linked to project {other} too")

    top_seq: dict[int, int] = {}
    seen: dict[tuple[int, int], str] = {}
    tasks: set[tuple[str, str]] = set()
    issues: set[tuple[str, str]] = set()
    for section, kind in SECTION_KINDS.items():
        for i, r in enumerate(getattr(doc, section)):
            where = f"{section}[{i}] ({r.key})"
            index = _project_index(projects, f"{where}.project", r.team_id, r.project)
            seq = _seq(where, r.key, r.project)
            if (index, seq) in seen:
                raise problem(f"{where}.key", f"{r.key} is in the file twice (also in {seen[(index, seq)]})")
            seen[(index, seq)] = section
            top_seq[index] = max(top_seq.get(index, 0), seq)
            lifecycle = LIFECYCLES[kind]
            statuses = (*lifecycle.open, *lifecycle.terminal)
            if r.status not in statuses:
                raise problem(
                    f"{where}.status", f"{r.status!r} is not a status of {section} ({', '.join(statuses)})"
                )
            if kind == Kind.TASK:
                tasks.add((r.team_id, r.key))
            if kind == Kind.ISSUE:
                issues.add((r.team_id, r.key))

    meeting_of: dict[tuple[str, str], tuple[str, str]] = {}
    for i, m in enumerate(doc.meetings):
        where = f"meetings[{i}] ({m.key})"
        index = _project_index(projects, f"{where}.project", m.team_id, m.project)
        seq = _seq(where, m.key, m.project)
        if (index, seq) in seen:
            raise problem(f"{where}.key", f"{m.key} is in the file twice (also in {seen[(index, seq)]})")
        seen[(index, seq)] = "meetings"
        top_seq[index] = max(top_seq.get(index, 0), seq)
        for n, item in enumerate(m.action_items):
            if (m.team_id, item) not in tasks or not item.startswith(f"{m.project}-"):
                raise problem(f"{where}.action_items[{n}]", f"{item} is not a task of project {m.project}")
            if (m.team_id, item) in meeting_of:
                raise problem(f"{where}.action_items[{n}]", f"{item} is an action item of another meeting")
            meeting_of[(m.team_id, item)] = (m.team_id, m.key)

    survey_ids: set[int] = set()
    for i, s in enumerate(doc.surveys):
        where = f"surveys[{i}]"
        _project_index(projects, f"{where}.project", s.team_id, s.project)
        if s.id is not None:
            if s.id in survey_ids:
                raise problem(f"{where}.id", f"survey {s.id} is in the file twice")
            survey_ids.add(s.id)
        if s.participants is not None and sorted(p.user_id for p in s.participants) != sorted(s.recipients):
            raise problem(f"{where}.recipients", "the recipients are not the participants")
        if len(set(s.recipients)) != len(s.recipients):
            raise problem(f"{where}.recipients", "a recipient is listed twice")
        if s.kind == "issue" and (s.record is None or (s.team_id, s.record) not in issues):
            raise problem(f"{where}.record", f"{s.record} is not an issue of project {s.project}")
    for i, h in enumerate(doc.history):
        _project_index(projects, f"history[{i}].record", h.team_id, h.record.partition("-")[0])
    for i, d in enumerate(doc.documents):
        _project_index(projects, f"documents[{i}].project", d.team_id, d.project)
    return Plan(doc=doc, projects=projects, top_seq=top_seq, meeting_of=meeting_of)
