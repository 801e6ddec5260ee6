"""Closing a project, and its retrospective report delivered through the ledger like every job post.

The report is an internal post — it goes where the audience policy sends internal posts
(:mod:`bot.delivery.audience`) — and its Markdown file, uploaded in the same conversation after it
(:mod:`bot.delivery.uploads`). Both are claimed under deterministic keys
(``retrospective:<team>:<project>:<document>:post`` and ``:file``; ``:<owner>`` for each DM copy) and
sent by the runner at once. What could not be sent stays pending and the ``digest`` job retries it,
never twice. When the report channel refuses the post for good, the owners get the report by DM.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from bot.blocks.closure import (
    customer_summary_message,
    document_filename,
    document_title,
    file_comment,
    report_markdown,
    report_message,
)
from bot.delivery.base import DeliveryKind, JobContext, Outgoing
from bot.delivery.charts import chart_spec
from bot.delivery.runner import ClientFor, Runner, job_client_factory
from bot.domain.digest import weekly_digest
from bot.domain.retrospective import Closing, close_with_retrospective
from bot.slack.services import Services
from storage import ledger
from storage.models import Delivery, DeliveryStatus, Project

KINDS = (DeliveryKind.RETROSPECTIVE, DeliveryKind.RETROSPECTIVE_FILE)


@dataclass(frozen=True)
class ReportOutcome:
    """Where the report went, as the person who closed the project is told."""

    channel: str | None = None  # the internal channel it is in; None: the owners by DM, or nowhere yet
    shared: bool = False  # the report channel counts as shared, so it was passed over
    refused: tuple[str, str] | None = None  # (channel, Slack's error): the owners got it by DM instead
    failed: str | None = None  # not posted (yet): why
    file_failed: str | None = None  # posted, but its file is not (yet) uploaded: why
    summary_channel: str | None = None  # the closing summary for the customer is in this (project) channel
    # (project channel, why, retried by the digest job): the summary is not posted (yet)
    summary_failed: tuple[str, str, bool] | None = None


def close_project(
    services: Services, *, team_id: str, project_id: int, user_id: str, summary: str, lessons: str
) -> Closing:
    """Close the project with its report stored (one transaction); the report is delivered separately."""
    with services.db.write() as session:
        return close_with_retrospective(
            session, team_id=team_id, project_id=project_id, user_id=user_id, summary=summary, lessons=lessons,
            now=services.now(), document_title=document_title, render_document=report_markdown,
        )  # fmt: skip


def report_key(closing: Closing) -> str:
    project = closing.project
    return f"{DeliveryKind.RETROSPECTIVE}:{project.team_id}:{project.key}:{closing.document.id}"


def summary_key(closing: Closing) -> str:
    project = closing.project
    return f"{DeliveryKind.CLOSING_SUMMARY}:{project.team_id}:{project.key}:{closing.document.id}"


def customer_summary(closing: Closing) -> list[Outgoing]:
    """The closing summary for the customer, in the project channel whether it is shared or not
    (INTERFACE.md "Where posts go"); none when the project has no channel."""
    project = closing.project
    if not project.channel_id:
        return []
    # Hook for the survey card: the "surveys" part posts its own card; the summary says one is coming.
    text, blocks = customer_summary_message(closing.report, survey=closing.survey_started)
    return [
        Outgoing(
            key=summary_key(closing), team_id=project.team_id, kind=DeliveryKind.CLOSING_SUMMARY, text=text,
            blocks=blocks, channel=project.channel_id, project_id=project.id,
        )
    ]  # fmt: skip


def _chart(session: Session, closing: Closing, now: datetime) -> dict[str, Any] | None:
    """The project's last weeks up to its closing, as the digest counts them (None: under two weeks old)."""
    project = session.get(Project, closing.project.id)
    if project is None:
        return None
    series = weekly_digest(session, project=project, slot=now, now=now).chart
    if series is None:
        return None
    filename = f"{project.key}-{closing.report.closed_on.isoformat()}.png"
    return chart_spec(series, locale=project.locale, filename=filename)


def _items(closing: Closing, *, to: str | None = None, chart: dict[str, Any] | None = None) -> list[Outgoing]:
    """The report (with its chart) and its file: internal posts, or (``to``) one owner's DM copies."""
    report, project = closing.report, closing.project
    base = report_key(closing)
    post, file = f"{base}:post", f"{base}:file"
    if to:
        post, file = f"{post}:{to}", f"{file}:{to}"
    file_name = document_filename(project.key, report.closed_on)
    text, blocks = report_message(report, file_name=file_name)
    spec = {"document": closing.document.id, "filename": file_name, "title": closing.document.title}
    common: dict[str, Any] = {"team_id": project.team_id, "project_id": project.id}
    if to:
        common["channel"] = to
    else:
        common["report_project_id"] = project.id
    return [
        Outgoing(key=post, kind=DeliveryKind.RETROSPECTIVE, text=text, blocks=blocks, chart=chart, **common),
        Outgoing(key=file, kind=DeliveryKind.RETROSPECTIVE_FILE, text=file_comment(report), blocks=[],
                 file=spec, **common),
    ]  # fmt: skip


def deliver_report(
    services: Services, closing: Closing, *, client_for: ClientFor | None = None
) -> ReportOutcome:
    """Claim and send the report now; what fails stays with the ledger (retried by the ``digest`` job)."""
    runner = Runner(services, client_for or job_client_factory(services), sleep=_no_wait)
    project = closing.project
    ctx = JobContext(now=services.now(), team_id=project.team_id, project_key=project.key)
    chart: list[dict[str, Any] | None] = []

    def plan(session: Session, ctx: JobContext) -> list[Outgoing]:
        chart.append(_chart(session, closing, ctx.now))
        return [*_items(closing, chart=chart[0]), *customer_summary(closing)]

    runner.run([plan], ctx, kinds=(*KINDS, DeliveryKind.CLOSING_SUMMARY))
    base = report_key(closing)
    rows = _rows(services, base)
    main = rows.get(f"{base}:post")
    refused = None
    if main is not None and main.status == DeliveryStatus.FAILED:
        # The report channel refused it for good: the owners get it by DM instead.
        refused = (main.channel, str(main.error))
        copies = [
            item for owner in closing.report.owners for item in _items(closing, to=owner, chart=chart[0])
        ]
        runner.run([lambda _session, _ctx: copies], ctx, kinds=KINDS)
        rows = _rows(services, base)
    # What a row is, is stored beside its key (its kind), not read back from the key.
    posts = [d for d in rows.values() if d.kind == DeliveryKind.RETROSPECTIVE]
    files = [d for d in rows.values() if d.kind == DeliveryKind.RETROSPECTIVE_FILE]
    sent = [d for d in posts if d.status == DeliveryStatus.SENT]
    in_channel = main.channel if main is not None and main.status == DeliveryStatus.SENT else None
    summary_channel, summary_failed = _summary_outcome(services, closing)
    return ReportOutcome(
        summary_channel=summary_channel,
        summary_failed=summary_failed,
        channel=in_channel,
        shared=main is None and bool(project.report_channel_id) and refused is None,
        refused=refused if sent else None,
        failed=None if sent else _why(posts),
        file_failed=_why(files) if sent and not any(d.status == DeliveryStatus.SENT for d in files) else None,
    )


def _summary_outcome(services: Services, closing: Closing) -> tuple[str | None, tuple[str, str, bool] | None]:
    """Where the closing summary for the customer went: (its channel, None), or (None, (channel, why, retried))
    when it is not posted: ``retried`` when the ledger still holds it for the ``digest`` job."""
    channel = closing.project.channel_id
    if not channel:
        return None, None
    key = summary_key(closing)
    with services.db.read() as session:
        rows = [d for d in ledger.with_prefix(session, prefix=key) if d.key == key]
    if any(d.status == DeliveryStatus.SENT for d in rows):
        return channel, None
    retried = any(d.status != DeliveryStatus.FAILED for d in rows)
    return None, (channel, _why(rows), retried)


def _rows(services: Services, base: str) -> dict[str, Delivery]:
    with services.db.read() as session:
        return _by_key(session, base)


def _by_key(session: Session, base: str) -> dict[str, Delivery]:
    return {d.key: d for d in ledger.with_prefix(session, prefix=f"{base}:")}


def _why(rows: list[Delivery]) -> str:
    return next((str(d.error) for d in rows if d.error), "not sent yet")


def _no_wait(_seconds: float) -> None:
    """Never sleep in a listener: a rate-limited send stays pending for the next run."""
