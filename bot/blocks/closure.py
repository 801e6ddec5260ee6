"""Closing a project at the Slack edge: the confirmation modal, the retrospective report, the document index.

Pure functions, no I/O. Text comes from ``templates/retro_*.j2``. The report exists in
two forms from the same figures (``retro_figures.j2``): Slack ``mrkdwn`` for the post
(user text escaped for Slack), and the Markdown document of record uploaded as a file
and stored (user text as typed: a file is not Slack markup).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from functools import lru_cache
from importlib import resources
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from bot.blocks.basics import Block, _input, context, fit_lines, plain, section, split_text
from bot.blocks.kpi_text import duration, issue_satisfaction_text, on_time_text, score_text
from bot.blocks.rendering import punctuation, render, safe
from bot.domain.documents import DocsIndex
from bot.domain.kpis import OnTime
from bot.domain.retrospective import MAX_CLOSING_TEXT, RecordLine, Retrospective, ScopeChangeLine
from bot.domain.views import ProjectView
from bot.i18n import format_date, t, translations
from bot.i18n.labels import describe_change, status_name
from bot.slack import ids, limits
from bot.slack.text import escape

MODAL_TITLE_LIMIT = 24
HEADER_LIMIT = limits.HEADER
MAX_MESSAGE_BLOCKS = 50
# Error fields of the closing form → its blocks.
CLOSE_FIELDS = {"summary": ids.BLOCK_CLOSE_SUMMARY, "lessons": ids.BLOCK_CLOSE_LESSONS}


# -- the confirmation modal ---------------------------------------------------------------------------


def close_modal(
    *, project: ProjectView, locale: str, metadata: dict[str, Any], preview: Retrospective | None = None
) -> dict[str, Any]:
    """Asks for the closing summary and the lessons learned, with the report's figures as they stand."""
    blocks: list[Block] = [
        section(
            render(
                "retro_close_intro.j2",
                locale,
                retro={"key": project.key, "name": project.name, "figures": preview is not None},
            )
        ),
    ]
    if preview is not None:
        blocks.append(context(_figures(preview, bullet="•")))
    blocks += [
        _input(
            ids.BLOCK_CLOSE_SUMMARY,
            t(locale, "Closing summary"),
            {
                "type": "plain_text_input",
                "action_id": ids.ACTION_CLOSE_SUMMARY,
                "multiline": True,
                "max_length": MAX_CLOSING_TEXT,
                "placeholder": plain(t(locale, "What was delivered, and how the project ends.")),
            },
        ),
        _input(
            ids.BLOCK_CLOSE_LESSONS,
            t(locale, "Lessons learned"),
            {
                "type": "plain_text_input",
                "action_id": ids.ACTION_CLOSE_LESSONS,
                "multiline": True,
                "max_length": MAX_CLOSING_TEXT,
                "placeholder": plain(t(locale, "What to keep doing, and what to do differently.")),
            },
            optional=True,
        ),
    ]
    return {
        "type": "modal",
        "callback_id": ids.VIEW_CLOSE_PROJECT,
        "title": plain(t(locale, "Close project")[:MODAL_TITLE_LIMIT]),
        "submit": plain(t(locale, "Close project")[:MODAL_TITLE_LIMIT]),
        "close": plain(t(locale, "Cancel")),
        "private_metadata": json.dumps(metadata, separators=(",", ":")),
        "blocks": blocks,
    }


def parse_close_form(view: dict[str, Any]) -> tuple[str, str]:
    """The closing summary and lessons learned as typed (checked by the domain)."""
    values = view.get("state", {}).get("values", {}) or {}

    def value(block: str, action: str) -> str:
        element = (values.get(block) or {}).get(action) or {}
        return str(element.get("value") or "") if isinstance(element, dict) else ""

    return (
        value(ids.BLOCK_CLOSE_SUMMARY, ids.ACTION_CLOSE_SUMMARY),
        value(ids.BLOCK_CLOSE_LESSONS, ids.ACTION_CLOSE_LESSONS),
    )


# -- the figures, for both forms ----------------------------------------------------------------------


def satisfaction(report: Retrospective, locale: str) -> str | None:
    result = report.satisfaction
    if result is None:
        return None
    text = score_text(result.score)
    if result.responses is not None:
        text += " " + t(locale, "(%(count)s responses)", count=result.responses)
    return text


def _figures_context(report: Retrospective, *, bullet: str) -> dict[str, Any]:
    locale = report.project.locale
    return {
        "bullet": bullet,
        "key": report.project.key,
        "name": report.project.name,
        "opened_on": report.opened_on,
        "closed_on": report.closed_on,
        "days": report.days,
        "requested": len(report.requirements),
        "delivered": len(report.delivered),
        "rejected": len(report.rejected),
        "open_requirements": len(report.open_requirements),
        "scope_changes": len(report.scope_changes),
        "issues_raised": report.issues_raised,
        "issues_resolved": report.issues_resolved,
        "issues_open": report.issues_open,
        "resolution": duration(report.median_resolution, locale),
        "tasks_total": report.tasks_total,
        "tasks_done": report.tasks_done,
        "tasks_open": len(report.open_tasks),
        "on_time": on_time_text(OnTime(report.tasks_on_time, report.tasks_with_due_date), locale),
        "risks_logged": report.risks_logged,
        "materialized": len(report.materialized),
        "materialized_keys": ", ".join(r.key for r in report.materialized),
        "meetings": len(report.meetings),
        "satisfaction": satisfaction(report, locale),
        "issue_satisfaction": issue_satisfaction_text(
            report.issue_satisfaction, report.issue_answers, locale
        ),
    }


def _figures(report: Retrospective, *, bullet: str) -> str:
    return render("retro_figures.j2", report.project.locale, retro=_figures_context(report, bullet=bullet))


# -- the report as a Slack message --------------------------------------------------------------------


def report_header(report: Retrospective) -> str:
    locale = report.project.locale
    return t(locale, "Retrospective: %(key)s — %(name)s", key=report.project.key, name=report.project.name)


def report_message(report: Retrospective, *, file_name: str) -> tuple[str, list[Block]]:
    """The retrospective report as a post: fallback text and blocks (the full report follows as a file)."""
    locale = report.project.locale
    retro = {
        **_figures_context(report, bullet="•"),
        "closed_by": safe(f"<@{report.closed_by}>") if report.closed_by else "—",
        "summary": report.summary,
        "lessons": report.lessons,
    }
    body = render("retro_report.j2", locale, retro=retro)
    notes = render("retro_notes.j2", locale, retro=retro)
    header = report_header(report)
    blocks: list[Block] = [{"type": "header", "text": plain(_short(header, HEADER_LIMIT))}]
    blocks += [section(piece) for piece in split_text(body)]
    blocks.append({"type": "divider"})
    blocks += [section(piece) for piece in split_text(notes)]
    blocks.append(context(t(locale, "The full report follows as a file: %(file)s", file=file_name)))
    # The header block is plain text; the fallback text is parsed like mrkdwn, so the name is escaped there.
    return escape(header), blocks[:MAX_MESSAGE_BLOCKS]


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


# -- the report as a Markdown document ----------------------------------------------------------------


def _markdown_gettext(locale: str) -> Callable[..., str]:
    def gettext(message: str, **params: Any) -> str:
        text = translations(locale).gettext(message)
        return text % params if params else text

    return gettext


@lru_cache(maxsize=8)
def _markdown_environment(locale: str) -> Environment:
    """The report templates for a file: the same catalogue, values as typed (no Slack escaping)."""
    env = Environment(
        loader=FileSystemLoader(str(resources.files("aftercare_templates"))),
        extensions=["jinja2.ext.i18n"],
        autoescape=False,
        finalize=lambda value: "" if value is None else value,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
    )
    env.install_gettext_translations(translations(locale), newstyle=True)  # type: ignore[attr-defined]
    env.globals["_"] = env.globals["gettext"] = _markdown_gettext(locale)
    env.filters["date"] = lambda value: format_date(value, locale) if value else ""
    env.globals["mention"] = lambda user_id: str(user_id or "")
    env.globals["channel"] = lambda channel_id: f"#{channel_id}" if channel_id else ""
    env.globals["p"] = punctuation(locale)
    return env


def _line(item: RecordLine, report: Retrospective) -> dict[str, Any]:
    locale = report.project.locale
    return {
        "key": item.key,
        "title": item.title,
        "status_label": status_name(item.status, locale),
        "due_date": item.due_date,
        "closed_on": item.closed_on,
        "assignee": report.name(item.assignee_id),
        "score": item.score,
    }


def _scope_line(change: ScopeChangeLine, report: Retrospective) -> dict[str, Any]:
    locale = report.project.locale
    zone_date = change.at.astimezone(ZoneInfo(report.project.timezone)).date()
    text = describe_change(change.field, change.old, change.new, locale)
    return {
        "key": change.key,
        "title": change.title,
        "label": text.label,
        "show_values": text.show_values,
        "old": text.old,
        "new": text.new,
        "by": report.name(change.by),
        "at": zone_date,
    }


def report_markdown(report: Retrospective) -> str:
    """The full retrospective report: the project's document of record."""
    locale = report.project.locale
    retro = {
        **_figures_context(report, bullet="-"),
        "closed_by": report.name(report.closed_by) or "—",
        "owners": ", ".join(report.name(o) for o in report.owners),
        "summary": report.summary,
        "lessons": report.lessons,
        "requirement_groups": [
            {"label": t(locale, "Delivered"), "records": [_line(r, report) for r in report.delivered]},
            {"label": t(locale, "Rejected"), "records": [_line(r, report) for r in report.rejected]},
            {
                "label": t(locale, "Still open"),
                "records": [_line(r, report) for r in report.open_requirements],
            },
        ],
        "scope_list": [_scope_line(c, report) for c in report.scope_changes],
        "open_issues": [_line(r, report) for r in report.open_issues],
        "late_tasks": [_line(r, report) for r in report.late_tasks],
        "open_tasks": [_line(r, report) for r in report.open_tasks],
        "materialized_list": [_line(r, report) for r in report.materialized],
        "meeting_list": [{"key": m.key, "title": m.title, "held_on": m.held_on} for m in report.meetings],
    }
    text = _markdown_environment(locale).get_template("retro_report_md.j2").render(locale=locale, retro=retro)
    return text.strip() + "\n"


def document_title(report: Retrospective) -> str:
    locale = report.project.locale
    return t(
        locale,
        "Retrospective report %(key)s (%(date)s)",
        key=report.project.key,
        date=report.closed_on.isoformat(),
    )


def document_filename(key: str, closed_on: Any) -> str:
    return f"{key}-retrospective-{closed_on.isoformat()}.md"


def file_comment(report: Retrospective) -> str:
    locale = report.project.locale
    return t(
        locale,
        "Retrospective report of %(key)s — the project's document of record.",
        key=report.project.key,
    )


# -- after closing ------------------------------------------------------------------------------------


def closed_confirmation(
    report: Retrospective,
    *,
    report_channel: str | None,
    shared: bool,
    refused: tuple[str | None, str] | None = None,
    report_failed: str | None,
    file_failed: str | None = None,
    survey_started: bool,
    survey_error: str | None,
    summary_channel: str | None = None,
    summary_failed: tuple[str, str, bool] | None = None,
) -> str:
    """What the person who closed the project is told: where the report and the closing summary for the
    customer went, and the survey."""
    return render(
        "retro_closed.j2",
        report.project.locale,
        retro={
            "key": report.project.key,
            "report_channel": report_channel,
            "shared": shared,
            "refused_channel": refused[0] if refused else None,
            "refused_error": refused[1] if refused else None,
            "report_failed": report_failed,
            "file_failed": file_failed,
            "survey_started": survey_started,
            "survey_error": survey_error,
            "summary_channel": summary_channel,
            "summary_failed_channel": summary_failed[0] if summary_failed else None,
            "summary_failed": summary_failed[1] if summary_failed else None,
            "summary_retried": summary_failed[2] if summary_failed else False,
        },
    )


# -- the document index -------------------------------------------------------------------------------


def docs_message(index: DocsIndex, links: Mapping[str, str]) -> tuple[str, list[Block]]:
    """``/project docs``: reports, meeting notes and records' source messages; ``links`` maps meeting keys
    to the permalink of their summary message."""
    project = index.project
    text = render(
        "retro_docs.j2",
        project.locale,
        docs={
            "key": project.key,
            "name": project.name,
            "internal": index.internal,
            "documents": index.documents,
            "meetings": [
                {
                    "key": m.key,
                    "title": m.title,
                    "held_on": m.held_on,
                    "link": links.get(m.key),
                    "source_url": m.source_url,
                }
                for m in index.meetings
            ],
            "more_meetings": max(index.meetings_total - len(index.meetings), 0),
            "records": index.records,
            "more_records": max(index.records_total - len(index.records), 0),
        },
    )
    blocks = [section(piece) for piece in split_text(text)][:MAX_MESSAGE_BLOCKS]
    fallback = t(project.locale, "Documents of %(key)s", key=project.key)
    return fallback, blocks


# -- the closing summary for the customer -------------------------------------------------------------

MAX_DELIVERED_LINES = 60


def customer_summary_message(report: Retrospective, *, survey: bool) -> tuple[str, list[Block]]:
    """The project channel's closing post: the owner's summary, what was delivered, the issue figures and
    thanks (and a word about the survey when one was sent) — never the lessons learned, people or risks."""
    locale = report.project.locale
    heading = _short(t(locale, "%(name)s is closed: thank you", name=report.project.name), HEADER_LIMIT)
    blocks: list[Block] = [{"type": "header", "text": plain(heading)}]
    if report.summary.strip():
        blocks += [section(piece) for piece in split_text(escape(report.summary))][:3]
    if report.delivered:
        lines = [f"• *{item.key}* {escape(_short(item.title, 120))}" for item in report.delivered]
        lines = lines[:MAX_DELIVERED_LINES]
        heading_line = t(locale, "*Delivered* (%(count)s)", count=len(report.delivered))
        shown = fit_lines(lines, limits.SECTION_TEXT - len(heading_line) - 1)
        blocks.append(section("\n".join([heading_line, *shown])))
        if len(report.delivered) > len(shown):
            blocks.append(
                context(t(locale, "…and %(count)s more.", count=len(report.delivered) - len(shown)))
            )
    figures = t(
        locale,
        "Issues: %(raised)s raised, %(resolved)s resolved, %(open)s still open.",
        raised=report.issues_raised,
        resolved=report.issues_resolved,
        open=len(report.open_issues),
    )
    blocks.append(section(figures))
    thanks = t(locale, "Thank you for working with us on this project.")
    blocks.append(section(thanks))
    if survey:
        blocks.append(
            context(t(locale, "We will ask you how we did in a short survey: your answer helps us a lot."))
        )
    return f"{escape(heading)}\n{figures}\n{thanks}", blocks
