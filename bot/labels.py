"""Translatable names of kinds, statuses and priorities."""

from __future__ import annotations

from bot.domain.errors import N_
from bot.i18n import t
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
}
