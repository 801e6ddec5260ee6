"""``aftercare import``: load an export back (backup and restore).

The whole document is checked first — its shape with pydantic, then its references
(every record, meeting, survey, document and history entry belongs to a project of the
file; keys are ``<PROJECT>-<n>``; action items are tasks of the meeting's project) —
and then written in the caller's one write transaction: all of it or nothing.

A project that already exists (same workspace and key) is refused unless ``overwrite``;
then its rows (members, channel links, records, meetings, surveys, history, documents)
are deleted and replaced, and the project row itself is kept (its id, and so the
delivery ledger of what was already sent for it). Each project's key counter continues
after the highest key it has ever handed out, imported or not.

Slack message references (the cards' ``ts``) are not part of an export and stay empty.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints, ValidationError
from sqlalchemy import delete, insert, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.domain.statuses import LIFECYCLES
from bot.export import KIND_SECTIONS, PROJECT_SETTINGS
from bot.i18n import LOCALES
from storage.models import (
    Document,
    HistoryEntry,
    Kind,
    Meeting,
    MemberRole,
    Priority,
    Project,
    ProjectChannel,
    ProjectMember,
    Record,
    Survey,
    SurveyParticipant,
    SurveyResponse,
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
    sla_breached: list[Literal["first_response", "resolution"]] = Field(default_factory=list)


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


@dataclass
class ImportReport:
    projects: int = 0
    records: int = 0
    meetings: int = 0
    surveys: int = 0
    history: int = 0
    documents: int = 0
    # ``(team_id, key)`` of the projects that replaced existing ones (``overwrite``).
    replaced: list[tuple[str, str]] = field(default_factory=list)
    # False when the surveys' ids were taken in this database, so they got new ones.
    kept_survey_ids: bool = True

    def summary(self) -> str:
        line = (
            f"imported {self.projects} projects, {self.records} records, {self.meetings} meetings, "
            f"{self.surveys} surveys, {self.history} history entries, {self.documents} documents"
        )
        if self.replaced:
            line += f" (replaced {', '.join(key for _team, key in self.replaced)})"
        return line


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


def _problem(where: str, message: str) -> InvalidImport:
    return InvalidImport(f"{where}: {message}")


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
        raise _problem(_where(first["loc"], data), f"{first['msg']}{more}") from None


@dataclass
class _Plan:
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
        raise _problem(where, f"project {key} of workspace {team_id} is not among the file's projects")
    return index


def _seq(where: str, key: str, project: str) -> int:
    match = RECORD_KEY.match(key)
    if match is None or match.group(1) != project:
        raise _problem(f"{where}.key", f"{key!r} is not a key of project {project} (like {project}-12)")
    return int(match.group(2))


def check_document(doc: ExportIn) -> _Plan:
    """Every reference inside the document; :class:`InvalidImport` on the first that fails."""
    projects: dict[tuple[str, str], int] = {}
    channels: dict[tuple[str, str], str] = {}
    for i, p in enumerate(doc.projects):
        where = f"projects[{i}] ({p.key})"
        if not PROJECT_KEY.match(p.key):
            raise _problem(f"projects[{i}].key", f"{p.key!r} is not a project key (A-Z then 1-9 of A-Z 0-9)")
        if (p.team_id, p.key) in projects:
            raise _problem(f"{where}.key", f"project {p.key} of workspace {p.team_id} is in the file twice")
        projects[(p.team_id, p.key)] = i
        try:
            ZoneInfo(p.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise _problem(f"{where}.timezone", f"{p.timezone!r} is not an IANA time zone") from None
        if p.locale not in LOCALES:
            raise _problem(f"{where}.locale", f"{p.locale!r} is not one of {', '.join(LOCALES)}")
        linked = _channels(p)
        if p.channel_id is not None and p.channel_id not in linked:
            raise _problem(f"{where}.channel_id", f"{p.channel_id} is not among the project's channels")
        for channel in linked:
            other = channels.setdefault((p.team_id, channel), p.key)
            if other != p.key:
                raise _problem(f"{where}.channels", f"channel {channel} is linked to project {other} too")

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
                raise _problem(f"{where}.key", f"{r.key} is in the file twice (also in {seen[(index, seq)]})")
            seen[(index, seq)] = section
            top_seq[index] = max(top_seq.get(index, 0), seq)
            lifecycle = LIFECYCLES[kind]
            statuses = (*lifecycle.open, *lifecycle.terminal)
            if r.status not in statuses:
                raise _problem(
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
            raise _problem(f"{where}.key", f"{m.key} is in the file twice (also in {seen[(index, seq)]})")
        seen[(index, seq)] = "meetings"
        top_seq[index] = max(top_seq.get(index, 0), seq)
        for n, item in enumerate(m.action_items):
            if (m.team_id, item) not in tasks or not item.startswith(f"{m.project}-"):
                raise _problem(f"{where}.action_items[{n}]", f"{item} is not a task of project {m.project}")
            if (m.team_id, item) in meeting_of:
                raise _problem(f"{where}.action_items[{n}]", f"{item} is an action item of another meeting")
            meeting_of[(m.team_id, item)] = (m.team_id, m.key)

    survey_ids: set[int] = set()
    for i, s in enumerate(doc.surveys):
        where = f"surveys[{i}]"
        _project_index(projects, f"{where}.project", s.team_id, s.project)
        if s.id is not None:
            if s.id in survey_ids:
                raise _problem(f"{where}.id", f"survey {s.id} is in the file twice")
            survey_ids.add(s.id)
        if s.participants is not None and sorted(p.user_id for p in s.participants) != sorted(s.recipients):
            raise _problem(f"{where}.recipients", "the recipients are not the participants")
        if len(set(s.recipients)) != len(s.recipients):
            raise _problem(f"{where}.recipients", "a recipient is listed twice")
        if s.kind == "issue" and (s.record is None or (s.team_id, s.record) not in issues):
            raise _problem(f"{where}.record", f"{s.record} is not an issue of project {s.project}")
    for i, h in enumerate(doc.history):
        _project_index(projects, f"history[{i}].record", h.team_id, h.record.partition("-")[0])
    for i, d in enumerate(doc.documents):
        _project_index(projects, f"documents[{i}].project", d.team_id, d.project)
    return _Plan(doc=doc, projects=projects, top_seq=top_seq, meeting_of=meeting_of)


def _channels(p: ProjectIn) -> list[str]:
    linked = list(p.channels) if p.channels is not None else [p.channel_id] if p.channel_id else []
    return list(dict.fromkeys(linked))


# -- writing ------------------------------------------------------------------------------------------


def _existing(session: Session, keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], Project]:
    found: dict[tuple[str, str], Project] = {}
    for team_id, key in keys:
        # Locked (PostgreSQL): no key is handed out for it while it is being replaced.
        project = session.scalar(
            select(Project).where(Project.team_id == team_id, Project.key == key).with_for_update()
        )
        if project is not None:
            found[(team_id, key)] = project
    return found


def _clear(session: Session, project_id: int) -> None:
    """Delete every row of the project but the project itself (kept: its id and delivery ledger)."""
    survey_ids = select(Survey.id).where(Survey.project_id == project_id).scalar_subquery()
    for statement in (
        delete(SurveyResponse).where(SurveyResponse.survey_id.in_(survey_ids)),
        delete(SurveyParticipant).where(SurveyParticipant.survey_id.in_(survey_ids)),
        delete(Survey).where(Survey.project_id == project_id),
        delete(Document).where(Document.project_id == project_id),
        delete(HistoryEntry).where(HistoryEntry.project_id == project_id),
        delete(Record).where(Record.project_id == project_id),
        delete(Meeting).where(Meeting.project_id == project_id),
        delete(ProjectMember).where(ProjectMember.project_id == project_id),
        delete(ProjectChannel).where(ProjectChannel.project_id == project_id),
    ):
        session.execute(statement.execution_options(synchronize_session=False))


def _project_values(p: ProjectIn, *, now: datetime, last_seq: int) -> dict[str, Any]:
    return {
        "team_id": p.team_id,
        "enterprise_id": p.enterprise_id,
        "key": p.key,
        "name": p.name,
        "channel_id": p.channel_id,
        "report_channel_id": p.report_channel_id,
        "status": p.status,
        "timezone": p.timezone,
        "locale": p.locale,
        "created_by": p.created_by if p.created_by is not None else (p.owners[0] if p.owners else ""),
        "created_at": p.created_at or now,
        "closed_at": p.closed_at,
        "last_seq": last_seq,
        **{name: getattr(p, name) for name in PROJECT_SETTINGS},
        "holidays": [day.isoformat() for day in p.holidays],
        "closing_summary": p.closing_summary,
        "lessons_learned": p.lessons_learned,
    }


def _random_hash() -> str:
    return hashlib.sha256(secrets.token_bytes(32)).hexdigest()


def import_data(
    session: Session, data: dict[str, Any], *, overwrite: bool, now: datetime | None = None
) -> ImportReport:
    """Import an export into the caller's write transaction; :class:`InvalidImport` when it cannot be.

    On :class:`InvalidImport` nothing has been written that the caller's rollback does not undo
    (every check is made before the first write; the database's own refusals come last).
    """
    now = now or datetime.now(UTC)
    plan = check_document(validate_document(data))
    doc = plan.doc
    report = ImportReport()

    # -- checks against the database (still nothing written) --
    existing = _existing(session, plan.projects)
    if existing and not overwrite:
        team_id, key = next(iter(existing))
        i = plan.projects[(team_id, key)]
        raise _problem(
            f"projects[{i}] ({key})",
            f"project {key} already exists in workspace {team_id}; nothing was imported "
            "(--overwrite replaces it)",
        )
    replaced_ids = {project.id for project in existing.values()}
    for (team_id, key), i in plan.projects.items():
        for channel in _channels(doc.projects[i]):
            link = session.scalar(
                select(ProjectChannel).where(
                    ProjectChannel.team_id == team_id, ProjectChannel.channel_id == channel
                )
            )
            if link is not None and link.project_id not in replaced_ids:
                other = session.get(Project, link.project_id)
                raise _problem(
                    f"projects[{i}] ({key}).channels",
                    f"channel {channel} is already linked to project {other.key if other else '?'} "
                    f"in workspace {team_id}",
                )
    wanted_ids = [s.id for s in doc.surveys if s.id is not None]
    keep_ids = len(wanted_ids) == len(doc.surveys)
    if keep_ids and wanted_ids:
        taken = session.execute(select(Survey.id, Survey.project_id).where(Survey.id.in_(wanted_ids))).all()
        keep_ids = all(project_id in replaced_ids for _id, project_id in taken)
    report.kept_survey_ids = keep_ids

    try:
        _write(session, plan, existing, report, keep_survey_ids=keep_ids, now=now)
    except IntegrityError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        raise InvalidImport(f"the database refused the import ({reason}); nothing was imported") from None
    return report


def _write(
    session: Session,
    plan: _Plan,
    existing: dict[tuple[str, str], Project],
    report: ImportReport,
    *,
    keep_survey_ids: bool,
    now: datetime,
) -> None:
    doc = plan.doc
    for project in existing.values():
        _clear(session, project.id)
    session.flush()

    # Projects, in the order they were created, so that their ids (and the export's order) follow.
    project_ids: dict[tuple[str, str], int] = {}
    order = sorted(range(len(doc.projects)), key=lambda i: (doc.projects[i].created_at or now, i))
    members: list[dict[str, Any]] = []
    links: list[dict[str, Any]] = []
    for i in order:
        p = doc.projects[i]
        last_seq = max(p.last_seq, plan.top_seq.get(i, 0))
        values = _project_values(p, now=now, last_seq=last_seq)
        found = existing.get((p.team_id, p.key))
        if found is not None:
            values["last_seq"] = max(last_seq, found.last_seq)
            for name, value in values.items():
                setattr(found, name, value)
            session.flush()
            project_id = found.id
            report.replaced.append((p.team_id, p.key))
        else:
            project_id = session.execute(insert(Project).values(**values).returning(Project.id)).scalar_one()
        project_ids[(p.team_id, p.key)] = project_id
        for role, users in ((MemberRole.OWNER, p.owners), (MemberRole.CUSTOMER_CONTACT, p.customer_contacts)):
            members += [
                {"team_id": p.team_id, "project_id": project_id, "user_id": user, "role": role.value}
                for user in dict.fromkeys(users)
            ]
        links += [
            {
                "team_id": p.team_id,
                "channel_id": channel,
                "project_id": project_id,
                "linked_by": values["created_by"],
                "linked_at": values["created_at"],
            }
            for channel in _channels(p)
        ]
    if members:
        session.execute(insert(ProjectMember), members)
    if links:
        session.execute(insert(ProjectChannel), links)
    report.projects = len(doc.projects)

    # Meetings first: the action items point at them.
    meeting_ids: dict[tuple[str, str], int] = {}
    if doc.meetings:
        rows = [
            {
                "team_id": m.team_id,
                "project_id": project_ids[(m.team_id, m.project)],
                "seq": int(m.key.rpartition("-")[2]),
                "key": m.key,
                "title": m.title,
                "held_on": m.held_on,
                "attendees": list(m.attendees),
                "notes": m.notes,
                "decisions": m.decisions,
                "created_by": m.created_by,
                "created_at": m.created_at or now,
                "source_url": m.source_url,
            }
            for m in doc.meetings
        ]
        ids = session.scalars(insert(Meeting).returning(Meeting.id, sort_by_parameter_order=True), rows).all()
        meeting_ids = {(m.team_id, m.key): id_ for m, id_ in zip(doc.meetings, ids, strict=True)}
    report.meetings = len(doc.meetings)

    records: list[dict[str, Any]] = []
    for section, kind in SECTION_KINDS.items():
        for r in getattr(doc, section):
            meeting = plan.meeting_of.get((r.team_id, r.key))
            records.append(
                {
                    "team_id": r.team_id,
                    "project_id": project_ids[(r.team_id, r.project)],
                    "kind": kind.value,
                    "seq": int(r.key.rpartition("-")[2]),
                    "key": r.key,
                    "title": r.title,
                    "description": r.description,
                    "status": r.status,
                    "priority": r.priority.value,
                    "assignee_id": r.assignee_id,
                    "due_date": r.due_date,
                    "estimate_hours": r.estimate_hours if kind == Kind.TASK else None,
                    "probability": r.probability if kind == Kind.RISK else None,
                    "impact": r.impact if kind == Kind.RISK else None,
                    "mitigation": r.mitigation if kind == Kind.RISK else None,
                    "created_by": r.created_by,
                    "requester_id": r.requester_id,
                    "created_at": r.created_at,
                    "updated_at": r.updated_at or r.created_at,
                    "closed_at": r.closed_at,
                    "deleted_at": r.deleted_at,
                    "source_url": r.source_url,
                    "version": 1,
                    "meeting_id": meeting_ids[meeting] if meeting else None,
                    "snoozed_until": r.snoozed_until,
                    "last_reviewed_at": r.last_reviewed_at if kind == Kind.RISK else None,
                    "escalated_for_due": r.escalated_for_due,
                    "source_ts": r.source_ts if kind == Kind.ISSUE else None,
                    "source_channel_id": r.source_channel_id if kind == Kind.ISSUE else None,
                    "requester_external": r.requester_external,
                    "sla_start": r.sla_start,
                    "first_response_at": r.first_response_at,
                    "first_response_due": r.first_response_due,
                    "resolved_at": r.resolved_at,
                    "resolution_due": r.resolution_due,
                    "sla_paused_minutes": r.sla_paused_minutes,
                    "sla_breached": list(r.sla_breached),
                }
            )
    if records:
        session.execute(insert(Record), records)
    report.records = len(records)

    if doc.history:
        session.execute(
            insert(HistoryEntry),
            [
                {
                    "team_id": h.team_id,
                    "project_id": project_ids[(h.team_id, h.record.partition("-")[0])],
                    "record_key": h.record,
                    "field": h.field,
                    "old": h.old,
                    "new": h.new,
                    "by": h.by,
                    "at": h.at,
                    "scope_change": h.scope_change,
                }
                for h in doc.history
            ],
        )
    report.history = len(doc.history)

    _write_surveys(session, doc, project_ids, keep_ids=keep_survey_ids, now=now)
    report.surveys = len(doc.surveys)

    if doc.documents:
        session.execute(
            insert(Document),
            [
                {
                    "team_id": d.team_id,
                    "project_id": project_ids[(d.team_id, d.project)],
                    "kind": d.kind,
                    "title": d.title,
                    "content": d.content,
                    "created_by": d.created_by,
                    "created_at": d.created_at,
                    "file_id": d.file_id,
                    "permalink": d.permalink,
                }
                for d in doc.documents
            ],
        )
    report.documents = len(doc.documents)
    session.flush()


def _record_ids(session: Session, keys: list[tuple[str, str]]) -> dict[tuple[str, str], int]:
    """The ids of records just written, by (workspace, key)."""
    if not keys:
        return {}
    teams = {team for team, _ in keys}
    wanted = set(keys)
    rows = session.execute(
        select(Record.team_id, Record.key, Record.id).where(
            Record.team_id.in_(teams), Record.key.in_({key for _, key in keys})
        )
    )
    return {(team, key): id_ for team, key, id_ in rows if (team, key) in wanted}


def _write_surveys(
    session: Session, doc: ExportIn, project_ids: dict[tuple[str, str], int], *, keep_ids: bool, now: datetime
) -> None:
    if not doc.surveys:
        return
    # Kept ids keep every survey secret valid (they are derived from the survey's id).
    order = sorted(range(len(doc.surveys)), key=lambda i: (doc.surveys[i].id or 0, i) if keep_ids else (0, i))
    issue_ids = _record_ids(session, [(s.team_id, s.record) for s in doc.surveys if s.record is not None])
    rows = []
    for i in order:
        s = doc.surveys[i]
        created_at = s.created_at or now
        row: dict[str, Any] = {
            "team_id": s.team_id,
            "project_id": project_ids[(s.team_id, s.project)],
            "kind": s.kind,
            "status": s.status,
            "include_team": s.include_team,
            "created_by": s.created_by,
            "created_at": created_at,
            "closes_at": s.closes_at or created_at + timedelta(days=7),
            "closed_at": s.closed_at,
            "record_id": issue_ids[(s.team_id, s.record)] if s.kind == "issue" and s.record else None,
            "resolution": s.resolution if s.kind == "issue" else None,
        }
        if keep_ids:
            row["id"] = s.id
        rows.append(row)
    ids = session.scalars(insert(Survey).returning(Survey.id, sort_by_parameter_order=True), rows).all()
    if keep_ids and session.get_bind().dialect.name == "postgresql":
        session.execute(
            text("SELECT setval(pg_get_serial_sequence('surveys', 'id'), (SELECT MAX(id) FROM surveys))")
        )
    participants: list[dict[str, Any]] = []
    responses: list[dict[str, Any]] = []
    for i, survey_id in zip(order, ids, strict=True):
        s = doc.surveys[i]
        people = (
            s.participants
            if s.participants is not None
            else [ParticipantIn(user_id=user) for user in s.recipients]
        )
        participants += [
            {
                "survey_id": survey_id,
                "team_id": s.team_id,
                "user_id": p.user_id,
                "role": p.role,
                "secret_check": p.secret_check,
                "responded": p.responded,
                "invited_at": p.invited_at,
                "reminded_at": p.reminded_at,
            }
            for p in people
        ]
        for r in s.responses:
            created_at = r.created_at or s.created_at or now
            responses.append(
                {
                    "survey_id": survey_id,
                    "team_id": s.team_id,
                    "secret_hash": r.secret_hash or _random_hash(),
                    "score": r.score,
                    "recommend": r.recommend,
                    "comment": r.comment,
                    "user_id": r.user_id,
                    "created_at": created_at,
                    "updated_at": r.updated_at or created_at,
                }
            )
    # Responses in the export's order (their ids order them there), participants by user.
    if participants:
        session.execute(insert(SurveyParticipant), participants)
    if responses:
        session.execute(insert(SurveyResponse), responses)
