"""Scheduler replicas share the work: each sends different messages, no message goes twice, each
channel's audience is asked about by one replica only, and each chunk of projects is planned by one
replica only (a dead replica's planning turn is taken over once its lease lapses).

Two runners, each on its own engine (as two ``aftercare scheduler`` processes would be), run the same
plan against one database (SQLite, and PostgreSQL when reachable). Slack holds the first two posts
until both have arrived, so each runner is known to be sending at the same time as the other.
"""

from __future__ import annotations

import contextlib
import threading
from collections import Counter
from dataclasses import replace
from typing import Any

import pytest
from slack_sdk import WebClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.delivery import planning
from bot.delivery.audience import SharedChannels
from bot.delivery.base import JobContext, Outgoing, Planner
from bot.delivery.claims import Claimer
from bot.delivery.runner import Runner, RunReport
from bot.demo.clock import Clock
from bot.jobs.digest import active_projects
from bot.slack.services import Services
from storage.db import Database
from storage.models import ApiBudget, Project
from tests.delivery.test_delivery_ledger import START, ctx, make_runner, planner, rows
from tests.harness import SlackHarness, answer_first_two_together, joined


def test_two_scheduler_replicas_split_the_messages_and_never_double(
    slack: SlackHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = Clock(START)
    keys = [(f"nudge:T0001:U{n}:2026-12-07", f"U{n}") for n in range(20)]
    for n in range(20):
        slack.fake.add_user(f"U{n}")
    plan = planner(*keys)
    other_db = Database(slack.db.url.render_as_string(hide_password=False))
    runners = [make_runner(slack, clock), make_runner(slack, clock, other_db)]
    reports: dict[int, RunReport] = {}
    start = threading.Barrier(2)
    answer_first_two_together(slack, monkeypatch)

    def go(number: int, runner: Runner) -> None:
        start.wait()
        reports[number] = runner.run([plan], ctx(clock))

    threads = [threading.Thread(target=go, args=(n, r)) for n, r in enumerate(runners)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    other_db.dispose()

    posted_keys = [m["metadata"]["event_payload"]["key"] for m in slack.fake.posted()]
    assert sorted(posted_keys) == sorted(key for key, _ in keys)  # every one, none twice
    assert len(slack.fake.calls_to("chat.postMessage")) == 20
    assert reports[0].sent >= 1 and reports[1].sent >= 1  # both replicas did part of the work
    assert reports[0].sent + reports[1].sent == 20
    assert {r.status for r in rows(slack.db)} == {"sent"}


def _projects_reporting_to_their_own_channels(slack: SlackHarness, count: int) -> list[int]:
    """``count`` projects, each with its own internal report channel ``R<n>`` (the bot a member)."""
    ids: list[int] = []
    with slack.db.write() as session:
        for n in range(count):
            project = Project(
                team_id="T0001", key=f"P{n:02d}", name=f"Project {n}", report_channel_id=f"R{n:02d}",
                timezone="UTC", locale="en", created_by="UALICE", created_at=START,
            )  # fmt: skip
            session.add(project)
            session.flush()
            ids.append(project.id)
    joined(slack.fake, *(f"R{n:02d}" for n in range(count)))
    return ids


def _internal_planner(project_ids: list[int]) -> Planner:
    def plan(_session: Session, _ctx: JobContext) -> list[Outgoing]:
        return [
            Outgoing(key=f"digest:T0001:P{n:02d}:2026-W50", team_id="T0001", kind="digest",
                     text=f"digest {n}", blocks=[], report_project_id=project_id)
            for n, project_id in enumerate(project_ids)
        ]  # fmt: skip

    return plan


def test_two_replicas_split_the_audience_checks_too(
    slack: SlackHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each report channel's audience (``conversations.info``, ``conversations.members``) is asked by one
    replica only — the one that claims its message — and each replica asks about some."""
    clock = Clock(START)
    project_ids = _projects_reporting_to_their_own_channels(slack, 20)
    plan = _internal_planner(project_ids)
    other_db = Database(slack.db.url.render_as_string(hide_password=False))
    first = make_runner(slack, clock)
    second_services = Services(settings=slack.settings, db=other_db, clock=clock)
    # The second replica's token tells its calls apart in the stand-in (the same workspace's bot).
    second = Runner(
        second_services,
        lambda _team: WebClient(token="xoxb-replica-2", base_url=slack.settings.api_url, retry_handlers=[]),
        sleep=clock.sleep,
        monotonic=clock.monotonic,
    )
    # The first two checks wait for each other: both replicas at work.
    answer_first_two_together(slack, monkeypatch, "conversations.info")
    start = threading.Barrier(2)
    reports: dict[int, RunReport] = {}

    def go(number: int, runner: Runner) -> None:
        start.wait()
        reports[number] = runner.run([plan], ctx(clock))

    threads = [threading.Thread(target=go, args=(n, r)) for n, r in enumerate((first, second))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    other_db.dispose()

    infos = slack.fake.calls_to("conversations.info")
    checked = [str(c.args.get("channel")) for c in infos]
    assert sorted(checked) == [f"R{n:02d}" for n in range(20)]  # every channel asked about once, in all
    members = [str(c.args.get("channel")) for c in slack.fake.calls_to("conversations.members")]
    assert sorted(members) == sorted(checked)
    by_second = {
        str(c.args.get("channel")) for c in infos if "xoxb-replica-2" in c.headers.get("authorization", "")
    }
    assert 0 < len(by_second) < 20  # both replicas asked about some
    assert _posted_keys(slack) == _digest_keys(20)  # none twice
    assert reports[0].sent + reports[1].sent == 20


# -- planning turns: replicas split the planning too ------------------------------------------------------

Planned = list[tuple[str, tuple[int, int] | None, list[int]]]


def _chunked_planner(planned: Planned, *, meet: threading.Barrier | None = None) -> Planner:
    """A digest-like planner: one internal post per active project of ``ctx.projects`` (the digest's own
    project query). Records who planned which chunk; with ``meet``, the first two chunks planned wait for
    each other, so both replicas are known to be planning at the same time."""

    def plan(session: Session, ctx: JobContext) -> list[Outgoing]:
        projects = active_projects(session, ctx)
        planned.append((threading.current_thread().name, ctx.projects, [p.id for p in projects]))
        if meet is not None and len(planned) <= 2:
            with contextlib.suppress(threading.BrokenBarrierError):
                meet.wait()
        return [
            Outgoing(key=f"digest:T0001:{p.key}:2026-W50", team_id="T0001", kind="digest",
                     text=f"digest {p.key}", blocks=[], report_project_id=p.id, project_id=p.id)
            for p in projects
        ]  # fmt: skip

    return plan


def _turn_rows(db: Database) -> dict[str, int]:
    """How many ``api_budgets`` rows each kind of turn has (``plan:…``, ``audience:…``)."""
    with db.read() as session:
        methods = session.scalars(select(ApiBudget.method))
        return dict(Counter(method.split(":")[0] for method in methods))


def _chunks(project_ids: list[int], size: int) -> list[tuple[int, int]]:
    return sorted({((i - 1) // size * size + 1, (i - 1) // size * size + size) for i in project_ids})


def _in_chunks_of_five(
    slack: SlackHarness, monkeypatch: pytest.MonkeyPatch, count: int, *, meet: threading.Barrier | None = None
) -> tuple[Clock, list[int], Planned, Planner]:
    """``count`` projects planned five at a time: the clock, their ids, who planned what, the planner."""
    monkeypatch.setattr(planning, "PLAN_CHUNK", 5)
    project_ids = _projects_reporting_to_their_own_channels(slack, count)
    planned: Planned = []
    return Clock(START), project_ids, planned, _chunked_planner(planned, meet=meet)


def _posted_keys(slack: SlackHarness) -> list[str]:
    return sorted(m["metadata"]["event_payload"]["key"] for m in slack.fake.posted())


def _digest_keys(count: int) -> list[str]:
    return sorted(f"digest:T0001:P{n:02d}:2026-W50" for n in range(count))


def test_two_replicas_plan_different_chunks_each_chunk_once(
    slack: SlackHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock, project_ids, planned, plan = _in_chunks_of_five(
        slack, monkeypatch, 20, meet=threading.Barrier(2, timeout=5)
    )
    other_db = Database(slack.db.url.render_as_string(hide_password=False))
    runners = [make_runner(slack, clock), make_runner(slack, clock, other_db)]
    start = threading.Barrier(2)
    reports: dict[int, RunReport] = {}

    def go(number: int, runner: Runner) -> None:
        start.wait()
        reports[number] = runner.run([plan], ctx(clock), chunked="digest")

    threads = [threading.Thread(target=go, args=(n, r), name=f"replica-{n}") for n, r in enumerate(runners)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    other_db.dispose()

    chunks = _chunks(project_ids, 5)
    assert len(chunks) == 4
    planned_chunks = [chunk for _who, chunk, _ids in planned]
    assert None not in planned_chunks  # every plan was of one chunk
    # Each chunk planned once, by one replica (the filter only tells the type checker what the line above checked).
    assert sorted(c for c in planned_chunks if c is not None) == chunks
    assert {who for who, _chunk, _ids in planned} == {"replica-0", "replica-1"}  # both planned some
    assert sorted(i for _who, _chunk, ids in planned for i in ids) == sorted(project_ids)  # a chunk: its own
    assert reports[0].planned + reports[1].planned == 20
    assert _posted_keys(slack) == _digest_keys(20)  # every one, once
    assert reports[0].sent + reports[1].sent == 20
    assert {r.status for r in rows(slack.db)} == {"sent"}
    # One planning row per chunk, reused run after run; the audience turns' rows are gone.
    assert _turn_rows(slack.db) == {"plan": 4}


def test_a_dead_replicas_planning_turn_is_taken_over_and_nothing_goes_twice(
    slack: SlackHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock, project_ids, planned, plan = _in_chunks_of_five(slack, monkeypatch, 20)
    dead, alive = make_runner(slack, clock), make_runner(slack, clock)
    # The dead replica took the first chunk's turn and claimed its first project's digest, then died.
    turns = planning.PlanningTurns(dead.services, "digest")
    first = turns.chunks()[0]
    assert turns.take(first) is not None
    with slack.db.read() as session:
        [item] = [
            i
            for i in plan(session, replace(ctx(clock), projects=first.projects))
            if i.project_id == project_ids[0]
        ]
    planned.clear()
    Claimer(dead.services, SharedChannels(dead.services, dead.client_for)).claim(
        item, item.key, "R00", clock.now
    )

    report = alive.run([plan], ctx(clock), chunked="digest")
    assert [chunk for _who, chunk, _ids in planned] == _chunks(project_ids, 5)[1:]  # not the held one
    assert report.sent == 16  # its 15, and the one the dead replica had claimed (it helps send)
    assert len(slack.fake.posted("R01")) == 0

    # At once again (a replica whose tick comes a moment later): nothing left to plan, nothing to send.
    planned.clear()
    again = alive.run([plan], ctx(clock), chunked="digest")
    assert (planned, again.planned, again.sent) == ([], 0, 0)

    # The dead replica's lease lapses: the next run plans its chunk, and sends what it had left.
    clock.advance(seconds=planning.PLAN_LEASE.total_seconds() + 1)
    planned.clear()
    later = alive.run([plan], ctx(clock), chunked="digest")
    assert first.projects in [chunk for _who, chunk, _ids in planned]
    assert (later.sent, later.already_sent) == (4, 16)
    assert _posted_keys(slack) == _digest_keys(20)  # none twice
    assert _turn_rows(slack.db) == {"plan": 4}  # the same rows, reused


def test_a_chunk_reads_only_its_own_projects(slack: SlackHarness) -> None:
    project_ids = _projects_reporting_to_their_own_channels(slack, 3)
    with slack.db.read() as session:
        every = active_projects(session, JobContext(now=START))
        chunk = active_projects(session, JobContext(now=START, projects=(project_ids[1], project_ids[1])))
    assert [p.id for p in every] == project_ids
    assert [p.id for p in chunk] == [project_ids[1]]


def test_a_chunks_messages_go_out_while_the_next_chunk_is_planned(
    slack: SlackHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Slack holds the first digest until the second chunk's planning has begun: one replica sends a
    chunk while it plans the next (sent one after the other, the hold would time out)."""
    clock, project_ids, planned, digest_like = _in_chunks_of_five(slack, monkeypatch, 10)
    second_chunk_planning = threading.Event()
    first_post_saw_it: list[bool] = []
    original = slack.fake.answer

    def answer(method: str, args: dict[str, Any], *, token: str = "") -> Any:
        if method == "chat.postMessage" and not first_post_saw_it:
            first_post_saw_it.append(second_chunk_planning.wait(5))
        return original(method, args, token=token)

    monkeypatch.setattr(slack.fake, "answer", answer)

    def plan(session: Session, job: JobContext) -> list[Outgoing]:
        if planned:
            second_chunk_planning.set()
        return digest_like(session, job)

    report = make_runner(slack, clock).run([plan], ctx(clock), chunked="digest")
    assert [chunk for _who, chunk, _ids in planned] == _chunks(project_ids, 5)
    assert first_post_saw_it == [True]
    assert _posted_keys(slack) == _digest_keys(10)
    assert report.sent == 10
