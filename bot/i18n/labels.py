"""Translatable names of kinds, statuses and priorities."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from bot.domain.errors import N_
from bot.i18n import format_date, t
from storage.models import Kind, Priority

KIND_NAMES = {
    Kind.REQUIREMENT: N_("requirement"),
    Kind.ISSUE: N_("issue"),
    Kind.TASK: N_("task"),
    Kind.RISK: N_("risk"),
}
KIND_PLURALS = {
    Kind.REQUIREMENT: N_("requirements"),
    Kind.ISSUE: N_("issues"),
    Kind.TASK: N_("tasks"),
    Kind.RISK: N_("risks"),
}
MODAL_TITLES = {
    Kind.REQUIREMENT: N_("New requirement"),
    Kind.ISSUE: N_("New issue"),
    Kind.TASK: N_("New task"),
    Kind.RISK: N_("New risk"),
}
STATUS_NAMES = {
    "proposed": N_("proposed"),
    "accepted": N_("accepted"),
    "in_progress": N_("in progress"),
    "delivered": N_("delivered"),
    "rejected": N_("rejected"),
    "open": N_("open"),
    "resolved": N_("resolved"),
    "closed": N_("closed"),
    "done": N_("done"),
    "mitigating": N_("mitigating"),
    "active": N_("active"),
}
PRIORITY_NAMES = {
    Priority.LOW: N_("low"),
    Priority.MEDIUM: N_("medium"),
    Priority.HIGH: N_("high"),
    Priority.CRITICAL: N_("critical"),
}


def kind_name(kind: Kind, locale: str) -> str:
    return t(locale, KIND_NAMES[kind])


def status_name(status: str, locale: str) -> str:
    return t(locale, STATUS_NAMES[status]) if status in STATUS_NAMES else status


def priority_name(priority: str, locale: str) -> str:
    return t(locale, PRIORITY_NAMES[Priority(priority)]) if priority in PRIORITY_NAMES else priority


LIST_SCOPES = {
    "open": N_("open"),
    "mine": N_("mine"),
    "overdue": N_("overdue"),
    "all": N_("all"),
    "breaching": N_("at risk or breached"),
}


# Fields of a record whose changes people read in digests, reports and history.
CHANGE_FIELDS = {
    "title": N_("title"),
    "description": N_("description changed"),
    "due_date": N_("due date"),
    "priority": N_("priority"),
    "estimate_hours": N_("estimate"),
    "status": N_("status"),
}


@dataclass(frozen=True)
class ChangeText:
    """A change of a field as people read it: what changed, and (when it means something) from what to what."""

    label: str
    show_values: bool
    old: str | None
    new: str | None


def change_value(field: str, value: str | None, locale: str) -> str | None:
    """A stored history value in people's words: dates in the locale's format, statuses and priorities named."""
    if value is None:
        return None
    if field == "due_date":
        try:
            return format_date(date.fromisoformat(value), locale)
        except ValueError:
            return value
    if field == "status":
        return status_name(value, locale)
    if field == "priority":
        return priority_name(value, locale)
    if field == "estimate_hours":
        return f"{value}h"
    return value


def describe_change(field: str, old: str | None, new: str | None, locale: str) -> ChangeText:
    if field == "deleted_at":
        return ChangeText(t(locale, N_("removed") if new else N_("restored")), False, None, None)
    label = t(locale, CHANGE_FIELDS[field]) if field in CHANGE_FIELDS else field
    return ChangeText(
        label, field != "description", change_value(field, old, locale), change_value(field, new, locale)
    )
