"""Jobs at scale: building every weekly digest (dry run) for many projects, and the day's nudges for many people.

Fixtures are built with bulk inserts (projects, owners, channels, people, records, a week of history).
For each job: wall time (untraced run), peak Python memory (a second run under tracemalloc), and the
SQL statements issued (a ``before_cursor_execute`` listener) — at a small and a large number of
records per project, to show the count does not grow with the records (no N+1).
SQLite, and PostgreSQL when 127.0.0.1:5432 answers.

``--fixture PATH`` builds the large fixture (SQLite) into ``PATH`` once and measures against it on every
later run (nothing else is built). ``--end-to-end`` also runs ``aftercare jobs run <job> --dry-run`` as its own process (start-up, migration
check, planning, printing: what a person waits for) and reports its wall time and max RSS beside a floor
measured in the same run: the same interpreter starting, importing the CLI and printing ``--help``.

    python bench/jobs_at_scale.py [--quick] [--only sqlite] [--end-to-end] [--fixture /tmp/jobs.db]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from _common import ROOT, databases, machine, migrated
from sqlalchemy import event, insert

assert str(ROOT) in sys.path  # _common puts the repository on the path for the imports below

from bot.delivery.base import JobContext, Planner  # noqa: E402
from bot.delivery.runner import Runner, RunReport  # noqa: E402
from bot.jobs import nudges  # noqa: E402
from bot.jobs.customer_report import digest_job  # noqa: E402
from bot.ops.settings import Settings  # noqa: E402
from bot.slack.services import Services  # noqa: E402
from storage.db import Database  # noqa: E402
from storage.models import HistoryEntry, Person, Project, ProjectChannel, ProjectMember, Record  # noqa: E402

NOW = datetime(2026, 12, 7, 9, 30, tzinfo=UTC)  # a Monday: digests (Mon 09:00) and nudges (09:00) are due
TEAMS = 10
STATUSES = {
    "requirement": ("proposed", "accepted", "in_progress", "delivered"),
    "issue": ("open", "in_progress", "resolved", "closed"),
    "task": ("open", "in_progress", "done"),
    "risk": ("open", "mitigating", "closed"),
}
KINDS = tuple(STATUSES)
CHUNK = 5000


def _chunks(rows: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    return [rows[i : i + CHUNK] for i in range(0, len(rows), CHUNK)]


def build(db: Database, *, projects: int, records: int, people: int) -> float:
    """Bulk-insert the fixture; returns the seconds it took."""
    started = time.monotonic()
    created = NOW - timedelta(days=30)
    with db.write() as session:
        session.execute(
            insert(Person),
            [
                {
                    "team_id": f"T{n % TEAMS:04d}",
                    "user_id": f"U{n:06d}",
                    "name": f"Person {n}",
                    "timezone": "UTC",
                    "locale": "en",
                    "updated_at": created,
                }
                for n in range(people)
            ],
        )
        session.execute(
            insert(Project),
            [
                {
                    "id": p + 1,
                    "team_id": f"T{p % TEAMS:04d}",
                    "key": f"P{p:04d}",
                    "name": f"Project {p}",
                    "channel_id": f"C{p:06d}",
                    "report_channel_id": None,
                    "status": "active",
                    "timezone": "UTC",
                    "locale": "en",
                    "created_by": "UOWNER",
                    "created_at": created,
                    "last_seq": records,
                }
                for p in range(projects)
            ],
        )
        session.execute(
            insert(ProjectChannel),
            [
                {
                    "team_id": f"T{p % TEAMS:04d}",
                    "channel_id": f"C{p:06d}",
                    "project_id": p + 1,
                    "linked_by": "UOWNER",
                    "linked_at": created,
                }
                for p in range(projects)
            ],
        )
        session.execute(
            insert(ProjectMember),
            [
                {
                    "team_id": f"T{p % TEAMS:04d}",
                    "project_id": p + 1,
                    "user_id": f"UOWNER{p % 50}",
                    "role": "owner",
                }
                for p in range(projects)
            ],
        )
    for p in range(projects):
        team = f"T{p % TEAMS:04d}"
        rows: list[dict[str, Any]] = []
        history: list[dict[str, Any]] = []
        for seq in range(1, records + 1):
            kind = KINDS[seq % len(KINDS)]
            statuses = STATUSES[kind]
            status = statuses[(seq // len(KINDS)) % len(statuses)]
            # Assignees among the people of the project's workspace.
            person = (p + seq * TEAMS) % max(people, 1)
            person -= person % TEAMS
            person += p % TEAMS
            due = NOW.date() + timedelta(days=(seq % 21) - 10) if seq % 5 else None
            key = f"P{p:04d}-{seq}"
            rows.append(
                {
                    "team_id": team,
                    "project_id": p + 1,
                    "kind": kind,
                    "seq": seq,
                    "key": key,
                    "title": f"Item {seq} of project {p}",
                    "description": "",
                    "status": status,
                    "priority": ("low", "medium", "high", "critical")[seq % 4],
                    "assignee_id": f"U{person:06d}" if people and seq % 7 else None,
                    "due_date": due,
                    "probability": 3 if kind == "risk" else None,
                    "impact": 4 if kind == "risk" else None,
                    "created_by": "UOWNER",
                    "created_at": created + timedelta(hours=seq % 700),
                    "updated_at": NOW - timedelta(days=seq % 10),
                    "closed_at": None,
                    "version": 2,
                }
            )
            if seq % 4 == 0:
                history.append(
                    {
                        "team_id": team,
                        "project_id": p + 1,
                        "record_key": key,
                        "field": "status",
                        "old": statuses[0],
                        "new": status,
                        "by": "UOWNER",
                        "at": NOW - timedelta(days=seq % 9),
                        "scope_change": False,
                    }
                )
        with db.write() as session:
            for chunk in _chunks(rows):
                session.execute(insert(Record), chunk)
            for chunk in _chunks(history):
                session.execute(insert(HistoryEntry), chunk)
    return time.monotonic() - started


class StatementCounter:
    def __init__(self, db: Database) -> None:
        self.count = 0
        self.engine = db.engine
        event.listen(self.engine, "before_cursor_execute", self._seen)

    def _seen(self, *_args: Any) -> None:
        self.count += 1

    def close(self) -> None:
        event.remove(self.engine, "before_cursor_execute", self._seen)


def dry_run(url: str, planner: Planner) -> tuple[Callable[[], RunReport], Database]:
    """A dry run of ``planner`` against ``url``, to call again and again, and its database (to dispose of)."""
    settings = Settings(database_url=url, _env_file=None)  # type: ignore[call-arg]
    db = Database(url)
    runner = Runner(Services(settings=settings, db=db), lambda _team: None)
    ctx = JobContext(now=NOW)

    def go() -> RunReport:
        return runner.dry_run([planner], ctx)

    return go, db


def measure(url: str, planner: Planner) -> tuple[int, float, int, float]:
    """(messages, seconds, statements, peak MiB) of one dry run of ``planner``."""
    go, db = dry_run(url, planner)
    try:
        go()  # warm: imports, connections, caches
        counter = StatementCounter(db)
        started = time.monotonic()
        report = go()
        seconds = time.monotonic() - started
        counter.close()
        tracemalloc.start()
        go()
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        return report.planned, seconds, counter.count, peak / 2**20
    finally:
        db.dispose()


# Runs a command in a child process; prints its wall seconds and the child's max RSS (KiB on Linux).
_TIMED = (
    "import resource, subprocess, sys, time\n"
    "started = time.monotonic()\n"
    "subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL)\n"
    "print(time.monotonic() - started, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
)


def timed_process(argv: Sequence[str], url: str) -> tuple[float, float]:
    """(wall seconds, max RSS MiB) of one process running ``argv`` against ``url``."""
    env = {**os.environ, "DATABASE_URL": url}
    out = subprocess.run(
        [sys.executable, "-c", _TIMED, *argv], check=True, capture_output=True, text=True, env=env, cwd=ROOT
    ).stdout.split()
    return float(out[0]), float(out[1]) / 1024


def end_to_end(url: str, job: str) -> None:
    """``aftercare jobs run <job> --dry-run`` as a person runs it, beside the start-up floor."""
    cli = [sys.executable, "-m", "bot"]
    floor, floor_rss = timed_process([*cli, "--help"], url)
    seconds, rss = timed_process([*cli, "jobs", "run", job, "--dry-run", "--now", NOW.isoformat()], url)
    print(
        f"  {job:<7} end to end {seconds:7.2f} s  max RSS {rss:6.1f} MiB  "
        f"(floor: `aftercare --help` {floor:.2f} s, {floor_rss:.1f} MiB; ×{seconds / floor:.1f} the floor)"
    )


def scenario(
    label: str,
    url: str,
    *,
    projects: int,
    records: int,
    people: int,
    jobs: Sequence[str],
    whole_process: bool = False,
    prebuilt: bool = False,
) -> None:
    if prebuilt:
        print(f"{label}: {projects} projects × {records} records, {people} people (built before)")
    else:
        migrated(url)
        db = Database(url)
        try:
            built = build(db, projects=projects, records=records, people=people)
        finally:
            db.dispose()
        print(f"{label}: {projects} projects × {records} records, {people} people (built in {built:.1f} s)")
    for name in jobs:
        # The digest job plans the digests and the customer reports of the same slots.
        planner = digest_job if name == "digest" else nudges.plan
        messages, seconds, statements, peak = measure(url, planner)
        print(
            f"  {name:<7} {messages:>6} messages  {seconds:7.2f} s  peak {peak:7.1f} MiB  "
            f"{statements:>5} SQL statements ({statements / projects:.3f} per project)"
        )
        if whole_process:
            end_to_end(url, name)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--quick", action="store_true", help="200 projects and 1,000 people instead of 1,000 / 5,000"
    )
    parser.add_argument("--only", choices=("sqlite", "postgresql"), help="one database only")
    parser.add_argument(
        "--end-to-end",
        action="store_true",
        help="also time `aftercare jobs run <job> --dry-run` as a process, beside the start-up floor",
    )
    parser.add_argument(
        "--fixture",
        type=Path,
        metavar="PATH",
        help="the large fixture in this SQLite file: built when it does not exist, then only measured",
    )
    args = parser.parse_args()
    big = 200 if args.quick else 1000
    people = 1000 if args.quick else 5000
    print(f"machine: {machine()}")
    print(f"job instant {NOW.isoformat()} (a Monday: every digest and nudge is due); dry runs, nothing sent")
    if args.fixture is not None:
        prebuilt = args.fixture.exists()
        url = f"sqlite:///{args.fixture.resolve()}"
        scenario(
            "SQLite (file)", url, projects=big, records=200, people=people, jobs=("digest", "nudges"),
            whole_process=args.end_to_end, prebuilt=prebuilt,
        )  # fmt: skip
        return
    with tempfile.TemporaryDirectory(prefix="aftercare-bench-") as tmp:
        workdir = Path(tmp)
        # Same projects and people, 10× the records: the statement count must not move.
        for projects, records, who in ((100, 20, people), (100, 200, people), (big, 200, people)):
            with databases(workdir, "aftercare_bench_jobs", only=args.only) as each:
                for label, url in each:
                    scenario(
                        label,
                        url,
                        projects=projects,
                        records=records,
                        people=who,
                        jobs=("digest", "nudges"),
                        whole_process=args.end_to_end,
                    )


if __name__ == "__main__":
    main()
