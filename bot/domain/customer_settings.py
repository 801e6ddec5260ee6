"""The project settings of customers and service levels (``/project settings``): checks and stored forms.

Intake (``off`` / ``suggest`` / ``auto``) and its emoji, thread updates, the customer report, issue
satisfaction, business hours, holidays and service-level overrides. :mod:`bot.domain.projects` keeps them
with the other settings; this module only says what a valid value is.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from bot.domain.business_hours import check_business_hours, parse_holidays
from bot.domain.errors import N_, UserError
from bot.domain.service_levels import parse_sla

INTAKE_MODES = ("off", "suggest", "auto")
# Columns of ``projects`` these settings are stored in (same names as the form fields).
CUSTOMER_COLUMNS = (
    "intake", "intake_emoji", "thread_updates", "customer_report", "issue_csat", "business_hours",
    "holidays", "sla",
)  # fmt: skip
_EMOJI = re.compile(r"^[a-z0-9_+'\-]{1,64}$")
BAD_EMOJI = N_("Give an emoji name such as ticket (with or without colons).")


def check_intake(value: Any) -> str:
    if value not in INTAKE_MODES:
        raise UserError(N_("Choose one of the offered values."), field="intake")
    return str(value)


def check_emoji(value: Any) -> str:
    name = str(value or "").strip().strip(":").strip().lower()
    if not _EMOJI.match(name):
        raise UserError(BAD_EMOJI, field="intake_emoji")
    return name


def stored(project: Any) -> dict[str, Any]:
    """The settings as :class:`bot.domain.project_settings.ProjectSettings` holds them (holidays as a tuple)."""
    values = {name: getattr(project, name) for name in CUSTOMER_COLUMNS}
    values["holidays"] = tuple(values["holidays"] or ())
    values["sla"] = dict(values["sla"] or {})
    return values


def column_value(name: str, value: Any) -> Any:
    """What goes into the column (JSON lists, not tuples)."""
    return list(value) if name == "holidays" else value


def check_customer_settings(values: Mapping[str, Any], take: Any) -> None:
    """Check each field through ``take(name, check)`` (which collects the errors)."""
    take("intake", lambda: check_intake(values.get("intake")))
    take("intake_emoji", lambda: check_emoji(values.get("intake_emoji")))
    for flag in ("thread_updates", "customer_report", "issue_csat"):
        take(flag, lambda flag=flag: bool(values.get(flag)))
    take("business_hours", lambda: check_business_hours(values.get("business_hours")))
    take("holidays", lambda: tuple(parse_holidays(values.get("holidays") or "")))
    take("sla", lambda: parse_sla(values.get("sla")))
