"""The user directory cache and each person's preferences.

Filled from paged ``users.list`` and kept fresh by ``user_change`` events, so
locales, time zones and admin flags never need a Slack call per message.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.i18n import normalise_locale
from storage.db import Database
from storage.models import Person


@dataclass(frozen=True)
class PersonView:
    user_id: str
    name: str
    timezone: str | None
    locale: str | None
    is_admin: bool
    is_bot: bool
    is_external: bool
    notify_assignments: bool


def _view(person: Person) -> PersonView:
    return PersonView(
        user_id=person.user_id,
        name=person.name,
        timezone=person.timezone,
        locale=person.locale,
        is_admin=person.is_admin,
        is_bot=person.is_bot,
        is_external=bool(person.home_team_id and person.home_team_id != person.team_id),
        notify_assignments=person.notify_assignments,
    )


def _row(session: Session, team_id: str, user_id: str) -> Person | None:
    return session.scalar(select(Person).where(Person.team_id == team_id, Person.user_id == user_id))


def get_person(session: Session, *, team_id: str, user_id: str) -> PersonView | None:
    row = _row(session, team_id, user_id)
    return _view(row) if row else None


def directory_size(session: Session, *, team_id: str) -> int:
    return int(session.scalar(select(func.count()).select_from(Person).where(Person.team_id == team_id)) or 0)


def upsert_member(session: Session, *, team_id: str, member: dict[str, Any], now: datetime) -> None:
    """Store what ``users.list`` / ``users.info`` / ``user_change`` say of a person (keeps preferences)."""
    user_id = str(member.get("id") or "")
    if not user_id:
        return
    row = _row(session, team_id, user_id)
    if row is None:
        row = Person(team_id=team_id, user_id=user_id, notify_assignments=True)
        session.add(row)
    profile = member.get("profile") or {}
    row.name = str(profile.get("display_name") or member.get("real_name") or member.get("name") or user_id)[
        :200
    ]
    row.timezone = member.get("tz") or row.timezone
    row.locale = member.get("locale") or row.locale
    row.is_admin = bool(member.get("is_admin") or member.get("is_owner"))
    row.is_bot = bool(member.get("is_bot")) or user_id == "USLACKBOT"
    row.is_deleted = bool(member.get("deleted"))
    row.home_team_id = member.get("team_id") or row.home_team_id
    enterprise = (member.get("enterprise_user") or {}).get("enterprise_id") or member.get("enterprise_id")
    row.home_enterprise_id = enterprise or row.home_enterprise_id
    if "is_restricted" in member or "is_ultra_restricted" in member:
        row.is_guest = bool(member.get("is_restricted") or member.get("is_ultra_restricted"))
    row.updated_at = now


def locale_of(session: Session, *, team_id: str, user_id: str, default: str) -> str:
    """The person's Slack locale (for DMs and App Home), else ``default``."""
    row = _row(session, team_id, user_id)
    return normalise_locale(row.locale if row else None, default)


def person_locale(db: Database, *, team_id: str, user_id: str, default: str) -> str:
    """:func:`locale_of` in a read of its own: the language a listener answers a person in."""
    with db.read() as session:
        return locale_of(session, team_id=team_id, user_id=user_id, default=default)


def is_workspace_admin(session: Session, *, team_id: str, user_id: str) -> bool:
    row = _row(session, team_id, user_id)
    return bool(row and row.is_admin)


def set_notify_assignments(session: Session, *, team_id: str, user_id: str, enabled: bool) -> None:
    row = _row(session, team_id, user_id)
    if row is None:
        row = Person(team_id=team_id, user_id=user_id, name=user_id)
        session.add(row)
    row.notify_assignments = enabled


def wants_assignment_dms(session: Session, *, team_id: str, user_id: str) -> bool:
    row = _row(session, team_id, user_id)
    return row.notify_assignments if row else True


def bots_and_leavers(session: Session, *, team_id: str, user_ids: list[str]) -> set[str]:
    """Those of ``user_ids`` the directory knows as bots or deactivated accounts: they get no App Home."""
    return set(
        session.scalars(
            select(Person.user_id).where(
                Person.team_id == team_id,
                Person.user_id.in_(user_ids),
                Person.is_bot | Person.is_deleted,
            )
        )
    )
