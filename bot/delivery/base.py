"""What a job hands to the delivery ledger: messages with deterministic keys, planned for one instant.

A job is a planner: ``plan(session, ctx) -> list[Outgoing]``. It reads only; the
ledger claims, sends and records. Planning the same instant twice gives the same
keys, so nothing is ever posted twice.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy.orm import Session


class DeliveryKind(StrEnum):
    """What a ledger row is; each job picks up its own kinds' retries, so they are spelled only here."""

    DIGEST = "digest"
    REVIEW = "review"
    NUDGE = "nudge"
    ESCALATION = "escalation"
    SURVEY = "survey"
    SURVEY_REMINDER = "survey_reminder"
    SURVEY_RESULTS = "survey_results"
    # A closed project's retrospective report, and its Markdown file (uploaded after it).
    RETROSPECTIVE = "retrospective"
    RETROSPECTIVE_FILE = "retrospective_file"
    DELIVERY_FAILED = "delivery_failed"
    # Service levels: the 80 % warning DM; the breach (internal post and the assignee's DM).
    SLA_WARNING = "sla_warning"
    SLA_BREACH = "sla_breach"
    # Posts for the customer in the project channel (bot.delivery.customer): the weekly customer report, the
    # closing summary; and the owners' notices about the customer loop (a channel became shared).
    CUSTOMER_REPORT = "customer_report"
    CLOSING_SUMMARY = "closing_summary"
    CHANNEL_SHARED = "channel_shared"
    # A customer's message suggested for intake (the triage card), an internal post.
    TRIAGE = "triage"


@dataclass(frozen=True)
class JobContext:
    """The job's clock and scope (``jobs run --now --team --project``)."""

    now: datetime
    team_id: str | None = None
    project_key: str | None = None
    default_locale: str = "en"
    default_timezone: str = "UTC"
    # Working hours for survey invitations (AFTERCARE_SURVEY_HOURS), in each recipient's time zone.
    survey_hours: str = "Mon-Fri 09:00-17:00"
    # A planning chunk (:mod:`bot.delivery.planning`): only the projects whose id is in this range, both ends
    # included; None: every project in scope. Honoured by the planners of a job marked ``chunked`` (digest,
    # risk review, sla, surveys), each giving a message the same key and text as a whole run would.
    projects: tuple[int, int] | None = None


class JobClock:
    """The job's clock: ``--now`` (the run's instant) moving on as the run takes time.

    Everything the ledger decides — what is due, when to retry, backoff — is on it, so a run at
    ``--now T`` that meets an outage is retried by a run at ``--now T+1h``. What happens in Slack's
    time (the lease other processes honour, the history window, the shared call budget) is on the
    real clock (``services.now()``).
    """

    def __init__(self, start: datetime, monotonic: Callable[[], float]) -> None:
        self.start = start
        self.monotonic = monotonic
        self.origin = monotonic()

    def now(self) -> datetime:
        return self.start + timedelta(seconds=max(self.monotonic() - self.origin, 0.0))


@dataclass(frozen=True)
class Outgoing:
    """One message to deliver.

    Exactly one of ``channel`` (a channel id, or a user id for a DM) and
    ``report_project_id`` is set. The latter marks an internal post: it goes to the
    project's report channel, or — until one is set, or when it is shared with
    another organisation — to each owner by DM (the key then gets ``:<owner>``).
    """

    key: str
    team_id: str
    kind: str
    text: str
    blocks: list[dict[str, Any]]
    channel: str | None = None
    report_project_id: int | None = None
    project_id: int | None = None
    # A file to upload instead of a message (``RETROSPECTIVE_FILE``): document id, file name, title.
    file: dict[str, Any] | None = None
    # A chart drawn and shown in the message when it is sent (:func:`bot.delivery.charts.chart_spec`).
    chart: dict[str, Any] | None = None
    # Sent to ``channel`` only when each of these channels counts as shared (a customer post, see
    # bot.delivery.audience.customer_channel); otherwise not claimed at all. A dry run treats all as shared.
    shared_only: tuple[str, ...] = ()
    # Post as a reply in this thread of ``channel`` (an issue's source thread).
    thread_ts: str | None = None
    # Runs inside the claim's transaction (e.g. remember that items were escalated); never in a dry run.
    on_claim: Callable[[Session], None] | None = field(default=None, compare=False)


Planner = Callable[[Session, JobContext], list[Outgoing]]
