"""A real (not dry) weekly digest run against a stand-in paced like Slack, and the in-doubt worst case.

The stand-in answers ``chat.postMessage`` as Slack paces it (:meth:`bot.demo.simulator.FakeSlack.pace`): one
message a second per channel and a workspace-wide budget (``--workspace-rate`` a second); beyond either,
HTTP 429 with ``Retry-After``. 1,000 projects × 20 records (200 with ``--quick``), one workspace, each
project with its own internal report channel: the run claims, checks the audience of, and posts one
digest per channel through the delivery ledger, ``--workers`` sends at a time across channels, with
``--replicas`` scheduler processes (each planning the chunks of projects whose planning turn it takes, as
the scheduler does: :mod:`bot.delivery.planning`). Reports the run's duration beside its floor — the pacing floor,
every message at the workspace budget, the fastest Slack allows — the 429s met and the Slack calls
made. SQLite (the scheduler's default store), or one PostgreSQL with ``--postgresql``.

It then prints the in-doubt worst case: how long an outage that leaves every one of these sends in
doubt takes to settle, with the ``conversations.history`` budget the runner keeps (one call a minute
per workspace, shared by every process through the database; one call per in-doubt message's channel).

    python bench/digest_send.py [--quick] [--projects N] [--replicas N] [--workers N] [--no-charts]
                                [--workspace-rate N]
"""

from __future__ import annotations

import argparse
import contextlib
import multiprocessing
import tempfile
import threading
import time
from collections import Counter
from dataclasses import replace
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import jobs_at_scale
from _common import machine, migrated, scratch_postgres
from jobs_at_scale import NOW, build
from sqlalchemy import update
from sqlalchemy.orm import Session

from bot.delivery.base import JobContext, Outgoing
from bot.delivery.runner import HISTORY_INTERVAL, Runner, RunReport, job_client_factory
from bot.demo.simulator import FakeSlack
from bot.jobs import digest
from bot.ops.settings import Settings
from bot.slack.services import Services
from storage.db import Database
from storage.models import Project


def _without_charts(session: Session, ctx: JobContext) -> list[Outgoing]:
    """The digest as planned, its charts left out: the delivery path alone (drawing is CPU, one at a time)."""
    return [replace(item, chart=None) for item in digest.plan(session, ctx)]


def _replica(url: str, api_url: str, workers: int, charts: bool) -> RunReport:
    """One scheduler replica's run of the weekly digest (in its own process when there are several)."""
    settings = Settings(database_url=url, slack_bot_token="xoxb-bench", slack_api_url=api_url, _env_file=None)  # type: ignore[call-arg]
    db = Database(url)
    try:
        services = Services(settings=settings, db=db)
        runner = Runner(services, job_client_factory(services), workers=workers)
        # As the scheduler runs the digest job: a chunk of projects at a time, each in one replica's turn.
        report = runner.run(
            [digest.plan if charts else _without_charts], JobContext(now=NOW), kinds=None, chunked="digest"
        )
        return RunReport(
            planned=report.planned, sent=report.sent, pending=report.pending, failed=report.failed
        )
    finally:
        db.dispose()


class CountingFakeSlack(FakeSlack):
    """The stand-in Slack, counting the Web API calls it was asked for, by method."""

    def __init__(self) -> None:
        super().__init__()
        self.methods: Counter[str] = Counter()
        self._methods_lock = threading.Lock()

    def handle(self, handler: BaseHTTPRequestHandler, method: str, args: dict[str, Any]) -> None:
        with self._methods_lock:  # the stand-in answers on several threads
            self.methods[method] += 1
        super().handle(handler, method, args)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="200 projects instead of 1,000")
    parser.add_argument("--projects", type=int, help="this many projects (default 1,000; 200 with --quick)")
    parser.add_argument("--replicas", type=int, default=1, help="scheduler replicas (processes), default 1")
    parser.add_argument("--workers", type=int, default=8, help="sends at a time per replica (default 8)")
    parser.add_argument("--postgresql", action="store_true", help="one PostgreSQL (scratch database)")
    parser.add_argument("--no-charts", action="store_true", help="leave the digests' charts out")
    parser.add_argument("--workspace-rate", type=float, default=50.0, help="messages a second (default 50)")
    args = parser.parse_args()
    projects = args.projects or (200 if args.quick else 1000)
    jobs_at_scale.TEAMS = 1  # one workspace: its budget is what is measured
    print(f"machine: {machine()}")
    with tempfile.TemporaryDirectory(prefix="aftercare-bench-") as tmp, contextlib.ExitStack() as stack:
        url = (
            stack.enter_context(scratch_postgres("aftercare_send"))
            if args.postgresql
            else f"sqlite:///{Path(tmp) / 'send.db'}"
        )
        migrated(url)
        db = Database(url)
        build(db, projects=projects, records=20, people=1000)
        with db.write() as session:  # each project reports to its own internal channel
            for p in range(projects):
                session.execute(
                    update(Project).where(Project.id == p + 1).values(report_channel_id=f"R{p:06d}")
                )
        fake = CountingFakeSlack()
        pace = fake.pace(channel_interval=1.0, workspace_rate=args.workspace_rate)
        methods = fake.methods
        fake.state.team_id = fake.workspace.team_id = "T0000"  # the fixture's one workspace
        fake.workspace.teams = {"T0000"}
        fake.start()
        for p in range(projects):
            fake.add_channel(f"R{p:06d}", name=f"report-{p}", members=())
        try:
            db.dispose()  # each replica opens its own
            started = time.monotonic()
            if args.replicas == 1:
                reports = [_replica(url, fake.url, args.workers, not args.no_charts)]
            else:  # scheduler replicas: processes of their own, one database, one stand-in
                with multiprocessing.get_context("fork").Pool(args.replicas) as pool:
                    reports = pool.starmap(
                        _replica, [(url, fake.url, args.workers, not args.no_charts)] * args.replicas
                    )
            seconds = time.monotonic() - started
            report = RunReport(
                sent=sum(r.sent for r in reports),
                pending=sum(r.pending for r in reports),
                failed=sum(r.failed for r in reports),
            )
        finally:
            fake.stop()
            db.dispose()
    posts = methods["chat.postMessage"]
    floor = projects / args.workspace_rate
    print(
        f"digest, {projects} projects ({projects} report channels), {args.replicas} replica(s) × "
        f"{args.workers} workers, {'PostgreSQL' if args.postgresql else 'SQLite'}, "
        f"{'no charts' if args.no_charts else 'charts'}, workspace budget {args.workspace_rate:.0f}/s: "
        f"{seconds:.1f} s (pacing floor {floor:.1f} s, ×{seconds / floor:.1f}) — {report.sent} sent, "
        f"{report.pending} pending, {report.failed} failed; planned by each replica: "
        f"{' + '.join(str(r.planned) for r in reports)}; {posts} chat.postMessage "
        f"({pace.refused['channel']} refused by channel pace, {pace.refused['workspace']} by the workspace "
        "budget); other calls: "
        + ", ".join(f"{m} {n}" for m, n in methods.most_common() if m != "chat.postMessage")
    )
    minutes = projects * HISTORY_INTERVAL.total_seconds() / 60
    print(
        f"in-doubt worst case: {projects} sends in doubt in {projects} channels, one conversations.history "
        f"call a minute per workspace → about {minutes:.0f} min ({minutes / 60:.1f} h) to settle all; "
        "every one is looked for before any resend, none is posted twice"
    )


if __name__ == "__main__":
    main()
