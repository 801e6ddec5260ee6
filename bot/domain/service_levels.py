"""Service levels of customer issues (docs/INTERFACE.md "Customers and service levels").

The one place that starts, pauses, resumes and settles an issue's service-level clocks. Other features
call these functions and never touch the ``sla_*`` / ``*_due`` columns themselves:

- ``start_clocks`` when an issue with an external requester is logged (from ``create_record``);
- ``note_first_response`` when an internal person answers in the issue's thread (intake / conversation);
- ``on_priority_change`` / ``on_status_change`` from :mod:`bot.domain.lifecycle`.

Targets are business hours (:mod:`bot.domain.business_hours`) counted from ``sla_start``. The resolution
clock stops while the issue is ``resolved`` or ``closed``; on ``reopen`` the business minutes it spent
stopped are added to ``sla_paused_minutes``, which moves ``resolution_due`` later. A breach, once stored
in ``sla_breached``, stands whatever changes later.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from bot.domain.business_hours import (
    Calendar,
    add_business_minutes,
    business_minutes_between,
    calendar_of,
)
from bot.domain.errors import N_, UserError
from bot.domain.resolution import CLOSED, RESOLVED
from storage.models import Kind, Priority, Project, Record

FIRST_RESPONSE = "first_response"
RESOLUTION = "resolution"
TARGETS = (FIRST_RESPONSE, RESOLUTION)
PRIORITIES = ("critical", "high", "medium", "low")
DEFAULT_HOURS: dict[str, dict[str, float]] = {
    FIRST_RESPONSE: {"critical": 1, "high": 4, "medium": 8, "low": 16},
    RESOLUTION: {"critical": 8, "high": 16, "medium": 40, "low": 80},
}
STOPPED = (RESOLVED, CLOSED)  # the resolution clock stands still in these statuses
WARN_AT = 0.8  # a warning at 80 % of a target
MAX_TARGET_HOURS = 10_000

# States of one target.
MET, ON_TRACK, AT_RISK, BREACHED = "met", "on_track", "at_risk", "breached"
BAD_SLA = N_(
    "%(value)s is not a service-level target. Write one per priority as "
    "'priority first-response/resolution' in hours, separated by commas, such as: "
    "critical 1h/8h, high 4h/16h, medium 8h/40h, low 16h/80h"
)


# -- targets -------------------------------------------------------------------------------


def target_hours(overrides: Mapping[str, Any] | None) -> dict[str, dict[str, float]]:
    """The defaults with a project's overrides (``projects.sla``) laid over them."""
    hours = {target: dict(values) for target, values in DEFAULT_HOURS.items()}
    for target in TARGETS:
        for priority, value in dict((overrides or {}).get(target) or {}).items():
            if priority in PRIORITIES and isinstance(value, int | float) and 0 < value <= MAX_TARGET_HOURS:
                hours[target][priority] = float(value)
    return hours


def target_minutes(project: Project, target: str, priority: str) -> float:
    hours = target_hours(project.sla)[target]
    return hours.get(priority, hours[Priority.MEDIUM.value]) * 60


def _hours(text: str) -> float:
    value = text.strip().lower().removesuffix("h").strip()
    number = float(value)
    if not 0 < number <= MAX_TARGET_HOURS:
        raise ValueError(text)
    return number


def parse_sla(text: str | None) -> dict[str, dict[str, float]]:
    """Overrides from ``critical 1h/8h, high 4h/16h`` (only what differs from the defaults is kept)."""
    overrides: dict[str, dict[str, float]] = {}
    for part in (text or "").split(","):
        piece = " ".join(part.split()).lower()
        if not piece:
            continue
        try:
            priority, times = piece.split(" ", 1)
            first, resolution = (_hours(v) for v in times.replace(" ", "").split("/"))
        except ValueError:
            raise UserError(BAD_SLA, value=part.strip(), field="sla") from None
        if priority not in PRIORITIES:
            raise UserError(BAD_SLA, value=part.strip(), field="sla")
        for target, value in ((FIRST_RESPONSE, first), (RESOLUTION, resolution)):
            if value != DEFAULT_HOURS[target][priority]:
                overrides.setdefault(target, {})[priority] = value
    return overrides


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def format_sla(overrides: Mapping[str, Any] | None) -> str:
    """Every priority's targets as the settings form shows them (``critical 1h/8h, …``)."""
    hours = target_hours(overrides)
    return ", ".join(
        f"{p} {_number(hours[FIRST_RESPONSE][p])}h/{_number(hours[RESOLUTION][p])}h" for p in PRIORITIES
    )


# -- clocks --------------------------------------------------------------------------------


def calendar(project: Project) -> Calendar:
    return calendar_of(project.business_hours, project.holidays, project.timezone)


def _set_dues(record: Record, project: Project) -> None:
    assert record.sla_start is not None
    cal = calendar(project)
    record.first_response_due = add_business_minutes(
        cal, record.sla_start, target_minutes(project, FIRST_RESPONSE, record.priority)
    )
    record.resolution_due = add_business_minutes(
        cal,
        record.sla_start,
        target_minutes(project, RESOLUTION, record.priority) + (record.sla_paused_minutes or 0),
    )


def gets_clocks(kind: str, *, requester_external: bool | None) -> bool:
    """Whether a record being logged gets service-level clocks: an issue whose requester is external. Clocks
    start only then (``start_clocks``), so a record logged without them never has a service level."""
    return kind == Kind.ISSUE and bool(requester_external)


def start_clocks(record: Record, project: Project, *, start: datetime) -> None:
    """Start the clocks of a just-logged issue whose requester is external (``gets_clocks``), from ``start``."""
    if not gets_clocks(record.kind, requester_external=record.requester_external):
        return
    record.sla_start = start
    record.sla_paused_minutes = 0
    record.sla_breached = []
    record.sla_warned = []
    _set_dues(record, project)


def on_priority_change(record: Record, project: Project) -> None:
    """New targets from the original start (a breach already recorded stands)."""
    if record.sla_start is not None:
        _set_dues(record, project)


def on_status_change(record: Record, project: Project, *, old: str, new: str, now: datetime) -> None:
    """Stop the resolution clock on entering resolved/closed; resume it (later due) on leaving them."""
    if record.sla_start is None:
        return
    if new in STOPPED and old not in STOPPED:
        record.resolved_at = now
    elif old in STOPPED and new not in STOPPED and record.resolved_at is not None:
        paused = business_minutes_between(calendar(project), record.resolved_at, now)
        record.sla_paused_minutes = (record.sla_paused_minutes or 0) + round(paused)
        _set_dues(record, project)


def note_first_response(record: Record, *, at: datetime) -> bool:
    """Remember the first response (the earliest one wins); True when this one is now the first."""
    if record.sla_start is None or at < record.sla_start:
        return False
    if record.first_response_at is not None and record.first_response_at <= at:
        return False
    record.first_response_at = at
    return True


# -- state ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class TargetState:
    """Where one target stands at an instant: ``delta`` is the wall time left (or, breached, overdue)."""

    target: str
    due: datetime
    state: str
    delta: timedelta
    warn_at: datetime
    done_at: datetime | None = None


def _done_at(record: Record, target: str) -> datetime | None:
    if target == FIRST_RESPONSE:
        return record.first_response_at
    return record.resolved_at if record.status in STOPPED else None


def _due(record: Record, target: str) -> datetime | None:
    return record.first_response_due if target == FIRST_RESPONSE else record.resolution_due


def target_state(record: Record, project: Project, target: str, *, now: datetime) -> TargetState | None:
    due = _due(record, target)
    if record.sla_start is None or due is None:
        return None
    minutes = target_minutes(project, target, record.priority)
    paused = (record.sla_paused_minutes or 0) if target == RESOLUTION else 0
    warn_at = add_business_minutes(calendar(project), record.sla_start, minutes * WARN_AT + paused)
    done = _done_at(record, target)
    recorded = target in (record.sla_breached or [])
    if done is not None:
        state = BREACHED if recorded or done > due else MET
        return TargetState(target, due, state, abs(due - done), warn_at, done)
    if recorded or now >= due:
        return TargetState(target, due, BREACHED, max(now - due, timedelta(0)), warn_at)
    return TargetState(target, due, AT_RISK if now >= warn_at else ON_TRACK, due - now, warn_at)


def current_state(record: Record, project: Project, *, now: datetime) -> TargetState | None:
    """What to show: the first response until it came, then the resolution (None: no service level)."""
    if record.kind != Kind.ISSUE or record.sla_start is None or record.deleted_at is not None:
        return None
    first = target_state(record, project, FIRST_RESPONSE, now=now)
    if first is not None and first.done_at is None:
        return first
    return target_state(record, project, RESOLUTION, now=now) or first


def service_level_now(session: Session, *, record_id: int, now: datetime) -> TargetState | None:
    """The state of one record's service level at ``now`` (None: it has none)."""
    record = session.get(Record, record_id)
    if record is None or record.sla_start is None:
        return None
    project = session.get(Project, record.project_id)
    return current_state(record, project, now=now) if project is not None else None


def severity(state: TargetState) -> tuple[int, float]:
    """Sort key, worst first: breached (longest overdue first), then at risk (least time left first)."""
    if state.state == BREACHED:
        return (0, -state.delta.total_seconds())
    if state.state == AT_RISK:
        return (1, state.delta.total_seconds())
    return (2, state.delta.total_seconds())
