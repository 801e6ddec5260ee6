"""A project's settings (schedule, people, channels, customer-facing choices): shown, checked and saved."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.domain.customer_settings import CUSTOMER_COLUMNS, check_customer_settings, column_value, stored
from bot.domain.errors import N_, UserError
from bot.domain.projects import joined, managed_project, record_change
from bot.domain.views import ProjectView
from bot.i18n import LOCALES
from storage import queries
from storage.models import (
    MemberRole,
    Person,
    Project,
    ProjectMember,
)

WEEKDAYS = range(7)  # Monday = 0
REVIEW_EVERY_WEEKS = (1, 2, 4)
SURVEY_PULSE_DAYS = (0, 30, 90)  # 0 = no pulse survey
ESCALATE_DAYS = range(1, 31)
SURVEY_OPEN_DAYS = range(1, 31)
MAX_MEMBERS = 30
_TIME = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


@dataclass(frozen=True)
class ProjectSettings:
    """Everything ``/project settings`` edits, as plain values."""

    owners: tuple[str, ...]
    customer_contacts: tuple[str, ...]
    report_channel_id: str | None
    timezone: str
    locale: str
    digest_weekday: int
    digest_time: str
    nudges_enabled: bool
    escalate_after_days: int
    review_weekday: int
    review_time: str
    review_every_weeks: int
    survey_pulse_days: int
    survey_open_days: int
    survey_include_team: bool
    # Customers and service levels (:mod:`bot.domain.customer_settings`).
    intake: str = "suggest"
    intake_emoji: str = "ticket"
    thread_updates: bool = True
    customer_report: bool = True
    issue_csat: bool = True
    business_hours: str = "Mon-Fri 09:00-18:00"
    holidays: tuple[str, ...] = ()
    sla: dict[str, Any] = field(default_factory=dict)


# Settings stored as columns of ``projects`` (owners and contacts are memberships).
_COLUMNS = (
    "report_channel_id", "timezone", "locale", "digest_weekday", "digest_time", "nudges_enabled",
    "escalate_after_days", "review_weekday", "review_time", "review_every_weeks", "survey_pulse_days",
    "survey_open_days", "survey_include_team", *CUSTOMER_COLUMNS,
)  # fmt: skip
# The form's field (block) for each setting, where the names differ.
FORM_FIELD = {"report_channel_id": "report_channel"}


class InvalidSettings(Exception):
    """One error per bad field (``UserError.field`` names the form field)."""

    def __init__(self, errors: list[UserError]) -> None:
        super().__init__("; ".join(str(e) for e in errors))
        self.errors = errors


@dataclass(frozen=True)
class SettingsChange:
    field: str
    old: str | None
    new: str | None


@dataclass(frozen=True)
class SavedSettings:
    project: ProjectView
    changes: tuple[SettingsChange, ...]


def project_settings(session: Session, *, team_id: str, project_id: int) -> ProjectSettings:
    project = session.get(Project, project_id)
    if project is None or project.team_id != team_id:
        raise UserError(N_("That project no longer exists."))
    members = queries.members(session, project_ids=[project.id])
    return ProjectSettings(
        owners=tuple(m.user_id for m in members if m.role == MemberRole.OWNER),
        customer_contacts=tuple(m.user_id for m in members if m.role == MemberRole.CUSTOMER_CONTACT),
        **{name: getattr(project, name) for name in _COLUMNS if name not in CUSTOMER_COLUMNS},
        **stored(project),
    )


@lru_cache(maxsize=1)
def _zone_names() -> dict[str, str]:
    names = {name.lower(): name for name in available_timezones()}
    names.setdefault("utc", "UTC")
    return names


def check_timezone(value: str | None) -> str:
    """An IANA time zone name, spelt as the tz database spells it (``asia/shanghai`` → ``Asia/Shanghai``)."""
    text = (value or "").strip()
    name = _zone_names().get(text.lower())
    if name is None:
        raise UserError(
            N_(
                "%(value)s is not a time zone I know. Use a name such as Asia/Shanghai, Europe/Berlin or UTC."
            ),
            value=text or "''",
            field="timezone",
        )
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise UserError(
            N_(
                "%(value)s is not a time zone I know. Use a name such as Asia/Shanghai, Europe/Berlin or UTC."
            ),
            value=text,
            field="timezone",
        ) from None
    return name


def _choice(value: Any, allowed: Sequence[int], field: str) -> int:
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        number = None
    if number is None or number not in allowed:
        raise UserError(N_("Choose one of the offered values."), field=field)
    return number


def _days(value: Any, allowed: range, field: str) -> int:
    text = str(value if value is not None else "").strip()
    if not text.isdigit() or int(text) not in allowed:
        raise UserError(
            N_("Give a whole number of days from %(low)s to %(high)s."),
            low=allowed.start,
            high=allowed.stop - 1,
            field=field,
        )
    return int(text)


def _time(value: Any, field: str) -> str:
    text = str(value or "").strip()
    if not _TIME.match(text):
        raise UserError(N_("Give a time as HH:MM, such as 09:00."), field=field)
    return text


def _people(value: Any, field: str) -> tuple[str, ...]:
    people = tuple(dict.fromkeys(str(v) for v in (value or []) if v))
    if len(people) > MAX_MEMBERS:
        raise UserError(N_("Choose at most %(limit)s people."), limit=MAX_MEMBERS, field=field)
    return people


def check_settings(values: Mapping[str, Any]) -> ProjectSettings:
    """Validate the form's raw values (keyed by form field); every bad field is reported at once."""
    errors: list[UserError] = []
    checked: dict[str, Any] = {}

    def take(name: str, check: Callable[[], Any]) -> None:
        try:
            checked[name] = check()
        except UserError as error:
            errors.append(error)

    def owners() -> tuple[str, ...]:
        people = _people(values.get("owners"), "owners")
        if not people:
            raise UserError(N_("A project needs at least one owner."), field="owners")
        return people

    def locale() -> str:
        value = values.get("locale")
        if value not in LOCALES:
            raise UserError(N_("Choose one of the offered values."), field="locale")
        return str(value)

    take("owners", owners)
    take("customer_contacts", lambda: _people(values.get("customer_contacts"), "customer_contacts"))
    take("report_channel_id", lambda: values.get("report_channel") or None)
    take("timezone", lambda: check_timezone(values.get("timezone")))
    take("locale", locale)
    take("digest_weekday", lambda: _choice(values.get("digest_weekday"), WEEKDAYS, "digest_weekday"))
    take("digest_time", lambda: _time(values.get("digest_time"), "digest_time"))
    take("nudges_enabled", lambda: bool(values.get("nudges_enabled")))
    take(
        "escalate_after_days",
        lambda: _days(values.get("escalate_after_days"), ESCALATE_DAYS, "escalate_after_days"),
    )
    take("review_weekday", lambda: _choice(values.get("review_weekday"), WEEKDAYS, "review_weekday"))
    take("review_time", lambda: _time(values.get("review_time"), "review_time"))
    take(
        "review_every_weeks",
        lambda: _choice(values.get("review_every_weeks"), REVIEW_EVERY_WEEKS, "review_every_weeks"),
    )
    take(
        "survey_pulse_days",
        lambda: _choice(values.get("survey_pulse_days"), SURVEY_PULSE_DAYS, "survey_pulse_days"),
    )
    take(
        "survey_open_days",
        lambda: _days(values.get("survey_open_days"), SURVEY_OPEN_DAYS, "survey_open_days"),
    )
    take("survey_include_team", lambda: bool(values.get("survey_include_team")))
    check_customer_settings(values, take)
    if errors:
        raise InvalidSettings(errors)
    return ProjectSettings(**checked)


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, tuple | list):
        return joined([str(v) for v in value])
    if isinstance(value, dict):
        return json.dumps(value, sort_keys=True)
    return str(value)


def _set_members(session: Session, project: Project, role: MemberRole, wanted: Sequence[str]) -> None:
    current = {
        m.user_id: m
        for m in session.scalars(
            select(ProjectMember).where(ProjectMember.project_id == project.id, ProjectMember.role == role)
        )
    }
    for user_id, member in current.items():
        if user_id not in wanted:
            session.delete(member)
    for user_id in wanted:
        if user_id not in current:
            session.add(
                ProjectMember(team_id=project.team_id, project_id=project.id, user_id=user_id, role=role)
            )


def save_settings(
    session: Session,
    *,
    team_id: str,
    project_id: int,
    user_id: str,
    settings: ProjectSettings,
    now: datetime,
) -> SavedSettings:
    """Store ``settings``; each changed value is kept in the project's history."""
    project = managed_project(session, team_id=team_id, project_id=project_id, user_id=user_id)
    bots = set(
        session.scalars(
            select(Person.user_id).where(
                Person.team_id == team_id, Person.user_id.in_(settings.owners), Person.is_bot.is_(True)
            )
        )
    )
    if bots:
        raise InvalidSettings(
            [
                UserError(
                    N_("A bot can't own a project: %(who)s."), who=", ".join(sorted(bots)), field="owners"
                )
            ]
        )
    before = project_settings(session, team_id=team_id, project_id=project.id)
    changes: list[SettingsChange] = []
    for name in ("owners", "customer_contacts", *_COLUMNS):
        old, new = getattr(before, name), getattr(settings, name)
        if old == new or (isinstance(old, tuple) and set(old) == set(new)):
            continue
        changes.append(SettingsChange(field=name, old=_text(old), new=_text(new)))
        record_change(session, project, field=name, old=_text(old), new=_text(new), by=user_id, at=now)
        if name == "owners":
            _set_members(session, project, MemberRole.OWNER, settings.owners)
        elif name == "customer_contacts":
            _set_members(session, project, MemberRole.CUSTOMER_CONTACT, settings.customer_contacts)
            # A contact an owner removed is not learned again from the channel (re-adding undoes that).
            dropped = set(old) - set(new)
            kept = [u for u in project.removed_contacts or [] if u not in set(new)]
            project.removed_contacts = kept + sorted(u for u in dropped if u not in kept)
        else:
            setattr(project, name, column_value(name, new))
    session.flush()
    return SavedSettings(project=ProjectView.of(project), changes=tuple(changes))


def set_report_channel(
    session: Session, *, team_id: str, project_id: int, user_id: str, channel_id: str, now: datetime
) -> SavedSettings:
    """Set the report channel once Slack has vouched for it (after the settings form's ack), keeping the rest."""
    latest = project_settings(session, team_id=team_id, project_id=project_id)
    return save_settings(
        session, team_id=team_id, project_id=project_id, user_id=user_id,
        settings=replace(latest, report_channel_id=channel_id), now=now,
    )  # fmt: skip
