"""The risk review, service levels and surveys are planned a chunk of projects at a time, like the digest.

For each of them: planned chunk by chunk (the chunks every replica walks, :mod:`bot.delivery.planning`), it
plans exactly what it plans whole — the same keys, texts and blocks, closed projects' surveys included — and
two scheduler replicas, each on its own engine, split its chunks and send every message once. The nudges
stay whole (a person's nudge gathers every project: :mod:`bot.jobs.nudges`). SQLite and PostgreSQL.
"""

from __future__ import annotations

import contextlib
import threading
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bot.delivery import planning
from bot.delivery.base import JobContext, Outgoing, Planner
from bot.delivery.runner import RunReport
from bot.demo.clock import Clock
from bot.domain.records import NewRecord, create_record
from bot.domain.surveys import KIND_CLOSING, KIND_ON_DEMAND, start_survey
from bot.jobs import JOBS
from storage.db import Database
from storage.models import (
    ApiBudget,
    Delivery,
    Kind,
    MemberRole,
    Priority,
    Project,
    ProjectMember,
    ProjectStatus,
    Survey,
)
from tests.harness import TEAM, SlackHarness, job_runner, joined

# Thursday 12 November 2026, 10:00 UTC: every UTC project's risk review slot (ISO week 46), in working hours.
NOW = datetime(2026, 11, 12, 10, 0, tzinfo=UTC)
ACTIVE = 5
CLOSED = 2
CHUNKED_JOBS = ("risk-review", "sla", "surveys")


def _portfolio(slack: SlackHarness) -> list[int]:
    """Five active projects and two closed ones, each reporting to its own internal channel ``R<n>``.

    Each active project has an open risk never reviewed (its review is due), a customer's issue whose first
    response is overdue since yesterday (breach post and, every other project, the assignee's DM), and a
    survey just started (invitations due; UCUSTX is asked by every project). Project 1's earlier survey has
    closed (results due). The closed projects have their closing survey open (invitations due)."""
    for contact in ("UCUSTA", "UCUSTB", "UCUSTX"):  # the customers, not members of the report channels
        slack.fake.add_user(contact)
    ids: list[int] = []
    with slack.db.write() as session:
        for n in range(ACTIVE + CLOSED):
            project = Project(
                team_id=TEAM, key=f"P{n:02d}", name=f"Project {n}", report_channel_id=f"R{n:02d}",
                timezone="UTC", locale="en", created_by="UALICE", created_at=NOW - timedelta(days=60),
            )  # fmt: skip
            session.add(project)
            session.flush()
            ids.append(project.id)
            contact = "UCUSTA" if n % 2 else "UCUSTB"
            for user, role in (("UALICE", MemberRole.OWNER), (contact, MemberRole.CUSTOMER_CONTACT),
                               ("UCUSTX", MemberRole.CUSTOMER_CONTACT)):  # fmt: skip
                session.add(ProjectMember(team_id=TEAM, project_id=project.id, user_id=user, role=role))
            session.flush()
            if n >= ACTIVE:
                start_survey(session, team_id=TEAM, project_id=project.id, kind=KIND_CLOSING, created_by=None,
                             now=NOW - timedelta(hours=1))  # fmt: skip
                project.status = ProjectStatus.CLOSED
                continue
            _record(session, project.id, NewRecord(kind=Kind.RISK, title=f"Vendor delay {n}", probability=4,
                                                   impact=5, assignee_id="UBOB"))  # fmt: skip
            wednesday = NOW - timedelta(hours=23)  # Wednesday 11:00: first response due at 15:00
            issue = NewRecord(
                kind=Kind.ISSUE, title=f"Printer {n} down", priority=Priority.HIGH,
                assignee_id="UBOB" if n % 2 == 0 else None, requester_id="UCHEN", requester_external=True,
                requested_at=wednesday, source_url=f"https://acme.slack.com/archives/C{n}/p1790000000000100",
            )  # fmt: skip
            _record(session, project.id, issue, now=wednesday)
            if n == 1:
                earlier = start_survey(session, team_id=TEAM, project_id=project.id, kind=KIND_ON_DEMAND,
                                       created_by="UALICE", now=NOW - timedelta(days=20))  # fmt: skip
                session.execute(
                    update(Survey).where(Survey.id == earlier).values(closes_at=NOW - timedelta(hours=2))
                )
            start_survey(session, team_id=TEAM, project_id=project.id, kind=KIND_ON_DEMAND, created_by="UALICE",
                         now=NOW - timedelta(hours=1))  # fmt: skip
    joined(slack.fake, *(f"R{n:02d}" for n in range(ACTIVE + CLOSED)))
    return ids


def _record(
    session: Session, project_id: int, new: NewRecord, *, now: datetime = NOW - timedelta(days=30)
) -> None:
    create_record(session, team_id=TEAM, project_id=project_id, user_id="UALICE", new=new, now=now)


def _job_over_the_portfolio(slack: SlackHarness, job: str) -> tuple[list[int], Planner]:
    """The portfolio's project ids, and the job's planner."""
    project_ids = _portfolio(slack)
    plan = JOBS[job].load()
    assert plan is not None
    return project_ids, plan


def _by_key(items: list[Outgoing]) -> list[Outgoing]:
    return sorted(items, key=lambda item: item.key)


@pytest.fixture
def one_project_a_chunk(monkeypatch: pytest.MonkeyPatch) -> None:
    """Chunks of one project: every project planned on its own, the closed ones in chunks of their own."""
    monkeypatch.setattr(planning, "PLAN_CHUNK", 1)


def test_the_chunked_jobs_are_the_ones_planned_per_project() -> None:
    assert sorted(name for name, job in JOBS.items() if job.chunked) == ["digest", *CHUNKED_JOBS]


@pytest.mark.usefixtures("one_project_a_chunk")
@pytest.mark.parametrize("job", CHUNKED_JOBS)
def test_a_job_planned_chunk_by_chunk_plans_what_it_plans_whole(slack: SlackHarness, job: str) -> None:
    project_ids, plan = _job_over_the_portfolio(slack, job)
    chunks = planning.PlanningTurns(slack.services, job).chunks()
    assert [chunk.projects for chunk in chunks] == [(i, i) for i in project_ids]  # the closed ones too
    with slack.db.read() as session:
        whole = plan(session, JobContext(now=NOW))
        by_chunk = [plan(session, JobContext(now=NOW, projects=chunk.projects)) for chunk in chunks]
    assert _by_key([item for items in by_chunk for item in items]) == _by_key(whole)  # keys, texts, blocks
    assert len({item.key for item in whole}) == len(whole)  # so each message is planned by one chunk only
    # Every active project's chunk plans something; the closed ones' only their closing surveys.
    busy = ACTIVE + CLOSED if job == "surveys" else ACTIVE
    assert [bool(items) for items in by_chunk] == [True] * busy + [False] * (ACTIVE + CLOSED - busy)
    kinds = Counter(item.kind for item in whole)
    expected = {
        "risk-review": {"review": ACTIVE},
        "sla": {"sla_breach": ACTIVE + (ACTIVE + 1) // 2},  # the internal posts, the assignees' DMs
        # Two contacts each (UCUSTX in every project), the closed projects' closing surveys included; the
        # results of project 1's earlier survey (the report channel and UALICE's copy).
        "surveys": {"survey": 2 * (ACTIVE + CLOSED), "survey_results": 2},
    }[job]
    assert dict(kinds) == expected


def _watched(
    plan: Planner, planned: list[tuple[str, tuple[int, int] | None]], meet: threading.Barrier
) -> Planner:
    """The job's planner, noting who planned which chunk; the first two chunks planned wait for each other,
    so both replicas are known to be planning at the same time."""

    def watched(session: Session, ctx: JobContext) -> list[Outgoing]:
        planned.append((threading.current_thread().name, ctx.projects))
        if len(planned) <= 2:
            with contextlib.suppress(threading.BrokenBarrierError):
                meet.wait()
        return plan(session, ctx)

    return watched


@pytest.mark.usefixtures("one_project_a_chunk")
@pytest.mark.parametrize("job", CHUNKED_JOBS)
def test_two_replicas_split_a_jobs_chunks_and_send_each_message_once(slack: SlackHarness, job: str) -> None:
    project_ids, plan = _job_over_the_portfolio(slack, job)
    with slack.db.read() as session:
        expected = sorted(item.key for item in plan(session, JobContext(now=NOW)))
    clock = slack.use_clock(Clock(NOW))
    planned: list[tuple[str, tuple[int, int] | None]] = []
    watched = _watched(plan, planned, threading.Barrier(2, timeout=5))
    other_db = Database(slack.db.url.render_as_string(hide_password=False))
    runners = [job_runner(slack, clock), job_runner(slack, clock, db=other_db)]
    start = threading.Barrier(2)
    reports: dict[int, RunReport] = {}

    def go(number: int) -> None:
        start.wait()
        reports[number] = runners[number].run(
            [watched], JobContext(now=NOW), kinds=JOBS[job].kinds, chunked=job
        )

    threads = [threading.Thread(target=go, args=(n,), name=f"replica-{n}") for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    other_db.dispose()

    assert sorted(chunk for _who, chunk in planned if chunk) == [(i, i) for i in project_ids]  # each once
    assert None not in [chunk for _who, chunk in planned]  # never planned whole
    assert {who for who, _chunk in planned} == {"replica-0", "replica-1"}  # both planned some
    posted = sorted(m["metadata"]["event_payload"]["key"] for m in slack.fake.posted() if m.get("metadata"))
    assert posted == expected  # every message, none twice, under the key a whole run gives it
    assert reports[0].sent + reports[1].sent == len(expected)
    with slack.db.read() as session:
        assert set(session.scalars(select(Delivery.status))) == {"sent"}
        turns = list(session.scalars(select(ApiBudget.method).where(ApiBudget.method.startswith("plan:"))))
    assert sorted(turns) == sorted(f"plan:{job}:{i - 1}" for i in project_ids)  # one row per chunk
