"""Who may do what.

Anyone in a project's channel can log and comment. Changing, closing or deleting
someone else's record needs its reporter, its assignee, a project owner or a
workspace admin. Project settings, links, closing and reopening need a project
owner or a workspace admin.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.domain.errors import N_, UserError
from bot.domain.people import is_workspace_admin
from storage.models import MemberRole, ProjectMember, Record


def project_owners(session: Session, *, project_id: int) -> list[str]:
    return list(
        session.scalars(
            select(ProjectMember.user_id)
            .where(ProjectMember.project_id == project_id, ProjectMember.role == MemberRole.OWNER)
            .order_by(ProjectMember.id)
        )
    )


def is_project_owner(session: Session, *, project_id: int, user_id: str) -> bool:
    return user_id in project_owners(session, project_id=project_id)


def can_manage_project(session: Session, *, team_id: str, project_id: int, user_id: str) -> bool:
    return is_project_owner(session, project_id=project_id, user_id=user_id) or is_workspace_admin(
        session, team_id=team_id, user_id=user_id
    )


def require_project_manager(
    session: Session, *, team_id: str, project_id: int, user_id: str, key: str
) -> None:
    if not can_manage_project(session, team_id=team_id, project_id=project_id, user_id=user_id):
        raise UserError(N_("Only an owner of project %(key)s or a workspace admin can do that."), key=key)


def can_change_record(session: Session, *, record: Record, user_id: str) -> bool:
    if user_id in (record.created_by, record.assignee_id, record.requester_id):
        return True
    return can_manage_project(session, team_id=record.team_id, project_id=record.project_id, user_id=user_id)


def require_record_change(session: Session, *, record: Record, user_id: str) -> None:
    if not can_change_record(session, record=record, user_id=user_id):
        raise UserError(
            N_("Only the reporter, the assignee or an owner of the project can change %(key)s."),
            key=record.key,
        )
