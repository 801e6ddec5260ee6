"""Drafts: modal state kept server-side between opening a form and submitting it."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete
from sqlalchemy.orm import Session

from bot.domain.errors import N_, UserError
from storage.models import Draft

DRAFT_LIFETIME = timedelta(days=2)


def save_draft(session: Session, *, team_id: str, data: dict[str, Any], now: datetime) -> str:
    draft_id = str(uuid.uuid4())
    session.add(Draft(id=draft_id, team_id=team_id, data=data, created_at=now))
    # Forms people abandoned are forgotten after a while.
    session.execute(delete(Draft).where(Draft.created_at < now - DRAFT_LIFETIME))
    return draft_id


def update_draft(session: Session, *, team_id: str, draft_id: str, changes: dict[str, Any]) -> None:
    draft = session.get(Draft, draft_id)
    if draft is not None and draft.team_id == team_id:
        draft.data = {**draft.data, **changes}


def take_draft(session: Session, *, team_id: str, draft_id: str) -> dict[str, Any] | None:
    """Read and delete a draft (a form is submitted once)."""
    draft = session.get(Draft, draft_id)
    if draft is None or draft.team_id != team_id:
        return None
    data = dict(draft.data)
    session.delete(draft)
    return data


def submitted_draft(session: Session, *, team_id: str, draft_id: str, field: str) -> dict[str, Any]:
    """:func:`take_draft` for a form being submitted: gone (used, or swept) is the person's to fix, shown at
    ``field``."""
    draft = take_draft(session, team_id=team_id, draft_id=draft_id)
    if draft is None:
        raise UserError(N_("This form has expired. Please start again."), field=field)
    return draft
