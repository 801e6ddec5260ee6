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
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, insert, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.ops.export import PROJECT_SETTINGS
from bot.ops.import_document import (
    SECTION_KINDS,
    ExportIn,
    InvalidImport,
    ParticipantIn,
    Plan,
    ProjectIn,
    check_document,
    problem,
    project_channels,
    validate_document,
)
from storage.models import (
    Document,
    HistoryEntry,
    Kind,
    Meeting,
    MemberRole,
    Project,
    ProjectChannel,
    ProjectMember,
    Record,
    Survey,
    SurveyParticipant,
    SurveyResponse,
)


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
        raise problem(
            f"projects[{i}] ({key})",
            f"project {key} already exists in workspace {team_id}; nothing was imported "
            "(--overwrite replaces it)",
        )
    replaced_ids = {project.id for project in existing.values()}
    for (team_id, key), i in plan.projects.items():
        for channel in project_channels(doc.projects[i]):
            link = session.scalar(
                select(ProjectChannel).where(
                    ProjectChannel.team_id == team_id, ProjectChannel.channel_id == channel
                )
            )
            if link is not None and link.project_id not in replaced_ids:
                other = session.get(Project, link.project_id)
                raise problem(
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
    plan: Plan,
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
            for channel in project_channels(p)
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
                    "sla_warned": list(r.sla_warned),
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
