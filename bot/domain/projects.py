"""Projects: create, link channels, find the project of a channel."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.domain.errors import N_, UserError
from bot.domain.views import ProjectView
from bot.parsing import parse_project_key
from storage import queries
from storage.models import MemberRole, Project, ProjectChannel, ProjectMember, ProjectStatus

MAX_NAME = 200


def create_project(
    session: Session,
    *,
    team_id: str,
    key: str,
    name: str,
    channel_id: str,
    user_id: str,
    timezone: str,
    locale: str,
    now: datetime,
) -> ProjectView:
    """Create a project owned by ``user_id`` and link ``channel_id`` to it."""
    key = parse_project_key(key)
    name = name.strip()
    if not name:
        raise UserError(N_("Give the project a name: /project new %(key)s Acme Corp after-sales"), key=key)
    if len(name) > MAX_NAME:
        raise UserError(N_("A project name can have at most %(limit)s characters."), limit=MAX_NAME)
    if queries.project_by_key(session, team_id=team_id, key=key):
        raise UserError(
            N_("There is already a project %(key)s in this workspace. Pick another key."), key=key
        )
    _refuse_linked_channel(session, team_id=team_id, channel_id=channel_id)
    project = Project(
        team_id=team_id,
        key=key,
        name=name,
        channel_id=channel_id,
        status=ProjectStatus.ACTIVE,
        timezone=timezone,
        locale=locale,
        created_by=user_id,
        created_at=now,
        last_seq=0,
    )
    session.add(project)
    try:
        session.flush()
        session.add(
            ProjectMember(team_id=team_id, project_id=project.id, user_id=user_id, role=MemberRole.OWNER)
        )
        session.add(
            ProjectChannel(
                team_id=team_id,
                channel_id=channel_id,
                project_id=project.id,
                linked_by=user_id,
                linked_at=now,
            )
        )
        session.flush()
    except IntegrityError:
        # Lost a race with another creator of the same key or channel link.
        raise UserError(
            N_("Project %(key)s or this channel's link was just created by someone else."), key=key
        ) from None
    return ProjectView.of(project)


def _refuse_linked_channel(session: Session, *, team_id: str, channel_id: str) -> None:
    linked = queries.project_for_channel(session, team_id=team_id, channel_id=channel_id)
    if linked:
        raise UserError(
            N_("This channel is already linked to project %(key)s. Use /project unlink first."),
            key=linked.key,
        )


def project_for_channel(session: Session, *, team_id: str, channel_id: str) -> ProjectView | None:
    project = queries.project_for_channel(session, team_id=team_id, channel_id=channel_id)
    return ProjectView.of(project) if project else None


def project_by_key(session: Session, *, team_id: str, key: str) -> ProjectView | None:
    project = queries.project_by_key(session, team_id=team_id, key=key)
    return ProjectView.of(project) if project else None


def list_projects(session: Session, *, team_id: str) -> list[ProjectView]:
    return [ProjectView.of(p) for p in queries.projects(session, team_id=team_id)]
