"""Scheduled jobs: one table of named planners with stable ids, driven by one short tick.

APScheduler only drives the tick; what is due is worked out from each project's
and person's own schedule at that instant, and the delivery ledger decides what
is still to send (docs/DESIGN.md).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot.delivery.base import DeliveryKind, JobContext, Planner

if TYPE_CHECKING:
    from bot.delivery.runner import ClientFor
    from bot.slack.services import Services


@dataclass(frozen=True)
class Job:
    name: str
    id: str
    # Ledger kinds this job sends (its retries are picked up with it).
    kinds: tuple[str, ...]
    planner: str
    # Run before planning, outside any transaction: ``module:function(services, client_for, ctx)``.
    prepare: str | None = None
    # Its planner reads only the projects in ``ctx.projects`` and plans each message from one project's
    # rows, under the key a whole run gives it: scheduler replicas split its planning, a chunk of projects
    # each (bot.delivery.planning). Not for a message gathering several projects (the nudges).
    chunked: bool = False

    def load_prepare(self) -> Callable[[Services, ClientFor, JobContext], None] | None:
        if self.prepare is None:
            return None
        module_name, _, attribute = self.prepare.partition(":")
        prepare: Callable[[Services, ClientFor, JobContext], None] = getattr(
            importlib.import_module(module_name), attribute
        )
        return prepare

    def load(self) -> Planner | None:
        """The planner, or None while this job is not part of this version."""
        module_name, _, attribute = self.planner.partition(":")
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name == module_name:
                return None
            raise
        planner: Planner = getattr(module, attribute)
        return planner


JOBS: dict[str, Job] = {
    # The digest job also retries closing reports and triage cards that could not be sent at once.
    "digest": Job(
        "digest",
        "aftercare.digest",
        (
            DeliveryKind.DIGEST,
            DeliveryKind.RETROSPECTIVE,
            DeliveryKind.RETROSPECTIVE_FILE,
            DeliveryKind.CUSTOMER_REPORT,
            DeliveryKind.CLOSING_SUMMARY,
            DeliveryKind.CHANNEL_SHARED,
            DeliveryKind.TRIAGE,
        ),
        "bot.jobs.customer_report:digest_job",
        chunked=True,
    ),
    # Planned whole: a person's nudge gathers their items of every project (bot.jobs.nudges says why).
    "nudges": Job(
        "nudges", "aftercare.nudges", (DeliveryKind.NUDGE, DeliveryKind.ESCALATION), "bot.jobs.nudges:plan"
    ),
    "risk-review": Job(
        "risk-review",
        "aftercare.risk_review",
        (DeliveryKind.REVIEW,),
        "bot.jobs.risk_review:plan",
        chunked=True,
    ),
    "surveys": Job(
        "surveys",
        "aftercare.surveys",
        (DeliveryKind.SURVEY, DeliveryKind.SURVEY_REMINDER, DeliveryKind.SURVEY_RESULTS),
        "bot.jobs.surveys:plan",
        "bot.jobs.surveys:prepare",  # pulse participants looked up with users.info
        chunked=True,
    ),
    "sla": Job(
        "sla",
        "aftercare.sla",
        (DeliveryKind.SLA_WARNING, DeliveryKind.SLA_BREACH),
        "bot.jobs.sla:plan",
        chunked=True,
    ),
}
