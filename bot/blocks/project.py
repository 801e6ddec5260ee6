"""Builders for ``/project``: the settings modal (and reading it back), the status snapshot text.

Pure: plain data in, Slack JSON or text out. Ids come from :mod:`bot.slack.ids`:
one input block per setting, block id = the setting's name, action id = block id + ``_input``.
"""

from __future__ import annotations

import json
from typing import Any

from babel.dates import get_day_names

from bot.blocks.basics import Block, context, plain
from bot.blocks.rendering import render
from bot.domain.customer_settings import INTAKE_MODES
from bot.domain.errors import N_
from bot.domain.project_settings import (
    FORM_FIELD,
    REVIEW_EVERY_WEEKS,
    SURVEY_PULSE_DAYS,
    WEEKDAYS,
    ProjectSettings,
    SettingsChange,
)
from bot.domain.service_levels import format_sla
from bot.domain.status import StatusSnapshot
from bot.domain.views import ProjectView
from bot.domain.workload import OVERLOAD_HOURS, OVERLOAD_ITEMS
from bot.i18n import LOCALES, language_name, t
from bot.i18n.labels import KIND_PLURALS, status_name
from bot.slack import ids

# The label of each setting, by form field (block id).
SETTINGS_LABELS: dict[str, str] = {
    "owners": N_("Owners"),
    "customer_contacts": N_("Customer contacts"),
    "report_channel": N_("Report channel"),
    "timezone": N_("Time zone"),
    "locale": N_("Language"),
    "digest_weekday": N_("Weekly digest day"),
    "digest_time": N_("Weekly digest time"),
    "nudges_enabled": N_("Overdue nudges"),
    "escalate_after_days": N_("Escalate to owners after (days overdue)"),
    "review_weekday": N_("Risk review day"),
    "review_time": N_("Risk review time"),
    "review_every_weeks": N_("Risk review every"),
    "survey_pulse_days": N_("Pulse survey of customer contacts"),
    "survey_open_days": N_("Surveys stay open for (days)"),
    "survey_include_team": N_("Retrospective survey"),
    "intake": N_("Customer messages"),
    "intake_emoji": N_("Intake emoji"),
    "thread_updates": N_("Thread updates"),
    "customer_report": N_("Weekly customer report"),
    "issue_csat": N_("Issue satisfaction"),
    "business_hours": N_("Business hours"),
    "holidays": N_("Holidays"),
    "sla": N_("Service-level targets (first response / resolution)"),
}
SETTINGS_HINTS: dict[str, str] = {
    "report_channel": N_(
        "Digests, risk reviews and survey results go here. It can't be a channel shared with another "
        "organisation. Leave it empty to send them to the owners by DM."
    ),
    "timezone": N_("An IANA name, such as Asia/Shanghai, Europe/Berlin or UTC."),
    "customer_contacts": N_("The customer's people: they get satisfaction surveys."),
    "intake_emoji": N_("Someone of your team reacts with it on a message to log it as an issue."),
    "business_hours": N_("Day[-Day] HH:MM-HH:MM, several separated by commas, in the project's time zone."),
    "holidays": N_("ISO dates separated by commas, such as 2026-12-25, 2027-01-01."),
    "sla": N_(
        "Business hours per priority, such as: critical 1h/8h, high 4h/16h, medium 8h/40h, low 16h/80h"
    ),
}
INTAKE_LABELS = {
    "off": N_("Off: log them by hand"),
    "suggest": N_("Suggest: a triage card for the team"),
    "auto": N_("Auto: log each one as an issue"),
}
ON = "on"
MAX_PEOPLE = 30


def action_id(field: str) -> str:
    """The action id of a settings field, as :data:`bot.slack.ids.SETTINGS_FIELDS` documents it."""
    if field not in ids.SETTINGS_FIELDS:
        raise KeyError(field)
    return f"{field}_input"


def _option(text: str, value: str) -> dict[str, Any]:
    return {"text": plain(text[:75]), "value": value}


def _input(field: str, locale: str, element: dict[str, Any], *, optional: bool = False) -> Block:
    block: Block = {
        "type": "input",
        "block_id": field,
        "label": plain(t(locale, SETTINGS_LABELS[field])),
        "element": {**element, "action_id": action_id(field)},
        "optional": optional,
    }
    if field in SETTINGS_HINTS:
        block["hint"] = plain(t(locale, SETTINGS_HINTS[field]))
    return block


def _select(options: list[dict[str, Any]], selected: str) -> dict[str, Any]:
    element: dict[str, Any] = {"type": "static_select", "options": options}
    for option in options:
        if option["value"] == selected:
            element["initial_option"] = option
    return element


def _checkbox(text: str, checked: bool) -> dict[str, Any]:
    option = _option(text, ON)
    element: dict[str, Any] = {"type": "checkboxes", "options": [option]}
    if checked:
        element["initial_options"] = [option]
    return element


def _people(users: tuple[str, ...]) -> dict[str, Any]:
    element: dict[str, Any] = {"type": "multi_users_select", "max_selected_items": MAX_PEOPLE}
    if users:
        element["initial_users"] = list(users[:MAX_PEOPLE])
    return element


def _days(value: int) -> dict[str, Any]:
    return {
        "type": "number_input",
        "is_decimal_allowed": False,
        "min_value": "1",
        "max_value": "30",
        "initial_value": str(value),
    }


def weekday_names(locale: str) -> dict[int, str]:
    """Monday = 0, as the settings store weekdays; names from the locale's CLDR data."""
    names = get_day_names("wide", locale=locale.replace("-", "_"))
    return {day: str(names[day]) for day in WEEKDAYS}


def settings_modal(
    *, project: ProjectView, settings: ProjectSettings, locale: str, metadata: dict[str, Any]
) -> dict[str, Any]:
    """Every setting of ``project``, prefilled with its current values."""
    days = weekday_names(locale)
    weekdays = [_option(days[day], str(day)) for day in WEEKDAYS]
    every = [
        _option(t(locale, "Every week") if n == 1 else t(locale, "Every %(weeks)s weeks", weeks=n), str(n))
        for n in REVIEW_EVERY_WEEKS
    ]
    pulse = [
        _option(t(locale, "Off") if n == 0 else t(locale, "Every %(days)s days", days=n), str(n))
        for n in SURVEY_PULSE_DAYS
    ]
    languages = [_option(language_name(code), code) for code in LOCALES]
    report: dict[str, Any] = {
        "type": "conversations_select",
        "filter": {
            "include": ["public", "private"],
            "exclude_external_shared_channels": True,
            "exclude_bot_users": True,
        },
    }
    if settings.report_channel_id:
        report["initial_conversation"] = settings.report_channel_id
    blocks: list[Block] = [
        context(render("project_settings_intro.j2", locale, key=project.key, name=project.name)),
        _input("owners", locale, _people(settings.owners)),
        _input("customer_contacts", locale, _people(settings.customer_contacts), optional=True),
        _input("report_channel", locale, report, optional=True),
        _input(
            "timezone",
            locale,
            {"type": "plain_text_input", "max_length": 64, "initial_value": settings.timezone},
        ),
        _input("locale", locale, _select(languages, settings.locale)),
        _input("digest_weekday", locale, _select(weekdays, str(settings.digest_weekday))),
        _input("digest_time", locale, {"type": "timepicker", "initial_time": settings.digest_time}),
        _input(
            "nudges_enabled",
            locale,
            _checkbox(
                t(locale, "Remind assignees of overdue work and escalate to the owners"),
                settings.nudges_enabled,
            ),
            optional=True,
        ),
        _input("escalate_after_days", locale, _days(settings.escalate_after_days)),
        _input("review_weekday", locale, _select(weekdays, str(settings.review_weekday))),
        _input("review_time", locale, {"type": "timepicker", "initial_time": settings.review_time}),
        _input("review_every_weeks", locale, _select(every, str(settings.review_every_weeks))),
        _input("survey_pulse_days", locale, _select(pulse, str(settings.survey_pulse_days))),
        _input("survey_open_days", locale, _days(settings.survey_open_days)),
        _input(
            "survey_include_team",
            locale,
            _checkbox(
                t(locale, "Ask the project team too, not only the customer contacts"),
                settings.survey_include_team,
            ),
            optional=True,
        ),
        *_customer_inputs(settings, locale),
    ]
    return {
        "type": "modal",
        "callback_id": ids.VIEW_PROJECT_SETTINGS,
        "title": plain(t(locale, "Project settings")[:24]),
        "submit": plain(t(locale, "Save")),
        "close": plain(t(locale, "Cancel")),
        "private_metadata": json.dumps(metadata, separators=(",", ":")),
        "blocks": blocks,
    }


def _text_input(value: str, max_length: int) -> dict[str, Any]:
    element: dict[str, Any] = {"type": "plain_text_input", "max_length": max_length}
    if value:
        element["initial_value"] = value[:max_length]
    return element


def _customer_inputs(settings: ProjectSettings, locale: str) -> list[Block]:
    """Customers and service levels: intake, thread updates, reports, business hours, targets."""
    intake = [_option(t(locale, INTAKE_LABELS[mode]), mode) for mode in INTAKE_MODES]
    return [
        _input("intake", locale, _select(intake, settings.intake)),
        _input("intake_emoji", locale, _text_input(settings.intake_emoji, 64)),
        _input("thread_updates", locale, _checkbox(
            t(locale, "Tell status changes, assignments and due dates in the customer's thread"),
            settings.thread_updates), optional=True),
        _input("customer_report", locale, _checkbox(
            t(locale, "Post a weekly report for the customer in shared channels"), settings.customer_report),
            optional=True),
        _input("issue_csat", locale, _checkbox(
            t(locale, "Ask the requester to rate each resolved issue"), settings.issue_csat), optional=True),
        _input("business_hours", locale, _text_input(settings.business_hours, 200)),
        _input("holidays", locale, _text_input(", ".join(settings.holidays), 2000), optional=True),
        _input("sla", locale, _text_input(format_sla(settings.sla), 200)),
    ]  # fmt: skip


def _state_value(element: dict[str, Any]) -> Any:
    kind = element.get("type")
    if kind == "static_select":
        return (element.get("selected_option") or {}).get("value")
    if kind == "multi_users_select":
        return list(element.get("selected_users") or [])
    if kind == "conversations_select":
        return element.get("selected_conversation")
    if kind == "timepicker":
        return element.get("selected_time")
    if kind == "checkboxes":
        return any(o.get("value") == ON for o in element.get("selected_options") or [])
    return element.get("value")


def parse_settings_form(view: dict[str, Any]) -> dict[str, Any]:
    """The submitted values by form field; the domain validates them."""
    values = view.get("state", {}).get("values", {})
    return {
        field: _state_value(values.get(field, {}).get(action_id(field), {})) for field in ids.SETTINGS_FIELDS
    }


def change_labels(changes: tuple[SettingsChange, ...], locale: str) -> list[str]:
    """The changed settings, named as the form names them."""
    return [t(locale, SETTINGS_LABELS[FORM_FIELD.get(c.field, c.field)]) for c in changes]


def _hours(value: float) -> str:
    return f"{value:g}"


def status_context(snapshot: StatusSnapshot, locale: str, *, internal: bool) -> dict[str, Any]:
    """What ``project_status.j2`` prints: labels translated, numbers formatted."""
    return {
        "closed": snapshot.project.status != "active",
        "today": snapshot.today,
        "counts": [
            {"label": t(locale, KIND_PLURALS[c.kind]).capitalize(), "open": c.open, "overdue": c.overdue}
            for c in snapshot.counts
        ],
        "internal": internal,
        "workload": [
            {
                "user_id": w.user_id,
                "tasks": w.tasks,
                "issues": w.issues,
                "hours": _hours(w.estimate_hours),
                "overloaded": w.overloaded,
            }
            for w in snapshot.workload
        ],
        "any_overloaded": any(w.overloaded for w in snapshot.workload),
        "unassigned": snapshot.unassigned,
        "overload_hours": _hours(OVERLOAD_HOURS),
        "overload_items": OVERLOAD_ITEMS,
        "risks": [
            {
                "key": r.key,
                "title": r.title,
                "score": r.score,
                "probability": r.probability,
                "impact": r.impact,
                "status_label": status_name(r.status, locale),
                "owner_id": r.owner_id,
            }
            for r in snapshot.top_risks
        ],
    }


def status_text(snapshot: StatusSnapshot, locale: str, *, internal: bool = True) -> str:
    """The snapshot as one message; ``internal=False`` leaves out workload and risks (for customers)."""
    return render(
        "project_status.j2",
        locale,
        key=snapshot.project.key,
        name=snapshot.project.name,
        status=status_context(snapshot, locale, internal=internal),
    )
