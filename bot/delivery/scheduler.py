"""``aftercare scheduler``: APScheduler ticks every few minutes; each tick runs every job at that instant."""

from __future__ import annotations

import logging
import signal
import time
from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial
from typing import Any

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.interval import IntervalTrigger

from bot.delivery.base import JobContext
from bot.delivery.runner import ClientFor, Runner, RunReport
from bot.jobs import JOBS
from bot.slack.directory import resume_syncs
from bot.slack.services import Services

log = logging.getLogger("aftercare.scheduler")

TICK_ID = "aftercare.tick"
TICK_MINUTES = 5


def run_job(name: str, services: Services, runner: Runner, ctx: JobContext) -> RunReport | None:
    job = JOBS[name]
    planner = job.load()
    if planner is None:
        return None
    prepare = job.load_prepare()
    prepared = (
        None if prepare is None else partial(_prepare_logged, name, prepare, services, runner.client_for)
    )
    # Replicas split a chunked job's planning (bot.delivery.planning), and its preparation with it: each
    # chunk's in the chunk's planning turn; `jobs run` prepares and plans it at once.
    chunked = job.name if job.chunked else None
    return runner.run([planner], ctx, kinds=job.kinds, chunked=chunked, prepare=prepared)


def _prepare_logged(
    name: str, prepare: Callable[[Services, ClientFor, JobContext], None], services: Services,
    client_for: ClientFor, ctx: JobContext,
) -> None:  # fmt: skip
    """A job's preparation; its trouble is logged, and the job planned all the same."""
    try:
        prepare(services, client_for, ctx)
    except Exception:
        log.exception("preparing the %s job failed", name)


def tick(services: Services, runner: Runner) -> None:
    """Everything due now, job by job; one job's trouble never stops the others."""
    now = services.now()
    ctx = JobContext(
        now=now, default_locale=services.default_locale, default_timezone=services.default_timezone
    )
    try:
        resume_syncs(services, runner.client_for)  # people directories a rate limit interrupted
    except Exception:
        log.exception("resuming directory syncs failed")
    for name in JOBS:
        started = time.perf_counter()
        try:
            report = run_job(name, services, runner, ctx)
        except Exception:
            log.exception("job failed", extra={"fields": {"job": name, "at": now.isoformat()}})
            continue
        if report is None:
            continue
        log.info(
            "job",
            extra={
                "fields": {
                    "job": name,
                    "at": now.isoformat(),
                    "planned": report.planned,
                    "sent": report.sent,
                    "pending": report.pending,
                    "failed": report.failed,
                    "ms": round((time.perf_counter() - started) * 1000, 1),
                }
            },
        )


def build_scheduler(services: Services, runner: Runner, *, background: bool) -> BaseScheduler:
    scheduler_class: Any = BackgroundScheduler if background else BlockingScheduler
    scheduler: BaseScheduler = scheduler_class(
        timezone=UTC, job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 600}
    )
    scheduler.add_job(
        tick,
        IntervalTrigger(minutes=TICK_MINUTES, timezone=UTC),
        id=TICK_ID,
        args=[services, runner],
        next_run_time=datetime.now(UTC),
        replace_existing=True,
    )
    return scheduler


def stop_on_signals(scheduler: BaseScheduler) -> None:
    """SIGTERM/SIGINT stop the scheduler between jobs (the running tick finishes)."""

    def stop(signum: int, _frame: Any) -> None:
        log.info("signal %s: stopping the scheduler after the current job", signum)
        scheduler.shutdown(wait=False)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
