"""The delivery ledger: never twice, never lost — across reruns, two schedulers, outages, lost answers and crashes."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.delivery.base import JobContext, Outgoing, Planner
from bot.delivery.runner import Runner
from bot.demo.clock import Clock
from bot.demo.simulator import FakeSlack
from storage import ledger
from storage.db import Database
from storage.models import Delivery
from tests.harness import SlackHarness, job_runner, joined

START = datetime(2026, 12, 7, 1, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def report_channels(fake_slack: FakeSlack) -> None:
    """The channels these deliveries go to exist, and the bot joined them when they were set up."""
    joined(fake_slack, "CREPORT", "CBETA", "C1", "C2")


def planner(*items: tuple[str, str]) -> Planner:
    def plan(session: Session, ctx: JobContext) -> list[Outgoing]:
        return [Outgoing(key=key, team_id="T0001", kind="digest", text=f"message {key}", blocks=[], channel=channel)
                for key, channel in items]  # fmt: skip

    return plan


def make_runner(slack: SlackHarness, clock: Clock, db: Database | None = None) -> Runner:
    return job_runner(slack, clock, db=db)


def rows(db: Database) -> list[Delivery]:
    with db.read() as session:
        return list(session.scalars(select(Delivery).order_by(Delivery.id)))


def ctx(clock: Clock) -> JobContext:
    return JobContext(now=clock.now)


def test_a_second_run_posts_nothing_twice(slack: SlackHarness) -> None:
    clock = Clock(START)
    runner = make_runner(slack, clock)
    plan = planner(("digest:T0001:ACME:2026-W50:1", "CREPORT"))
    first = runner.run([plan], ctx(clock))
    second = runner.run([plan], ctx(clock))
    assert (first.sent, second.sent, second.already_sent) == (1, 0, 1)
    [message] = slack.fake.posted("CREPORT")
    assert message["metadata"]["event_payload"]["key"] == "digest:T0001:ACME:2026-W50:1"
    [row] = rows(slack.db)
    assert (row.status, row.ts, row.attempts) == ("sent", message["ts"], 1)


def test_two_schedulers_at_once_post_once(slack: SlackHarness) -> None:
    clock = Clock(START)
    keys = [(f"nudge:T0001:U{n}:2026-12-07", f"U{n}") for n in range(12)]
    for n in range(12):
        slack.fake.add_user(f"U{n}")
    plan = planner(*keys)
    other_db = Database(slack.db.url.render_as_string(hide_password=False))
    runners = [make_runner(slack, clock), make_runner(slack, clock, other_db)]
    barrier = threading.Barrier(2)

    def go(runner: Runner) -> None:
        barrier.wait()
        runner.run([plan], ctx(clock))

    threads = [threading.Thread(target=go, args=(r,)) for r in runners]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    other_db.dispose()
    assert len(slack.fake.posted()) == 12
    assert len(slack.fake.calls_to("chat.postMessage")) == 12
    assert {r.status for r in rows(slack.db)} == {"sent"}


def test_slack_down_then_up_loses_nothing_and_doubles_nothing(slack: SlackHarness) -> None:
    clock = Clock(START)
    runner = make_runner(slack, clock)
    plan = planner(("digest:T0001:ACME:2026-W50:1", "CREPORT"), ("digest:T0001:BETA:2026-W50:1", "CBETA"))
    slack.fake.fail("chat.postMessage", status=500, times=2)
    down = runner.run([plan], ctx(clock))
    assert (down.sent, down.pending, down.ok) == (0, 2, False)
    assert all(r.status == "pending" and r.in_doubt for r in rows(slack.db))
    # Too early for the retry: nothing happens.
    clock.advance(seconds=5)
    assert runner.run([plan], ctx(clock)).sent == 0
    clock.advance(minutes=2)
    up = runner.run([plan], ctx(clock))
    # In doubt: each is looked for in the channel's history before being sent again, and the workspace
    # may read history about once a minute: the second check waits for the next minute.
    assert (up.sent, up.pending) == (1, 1)
    clock.advance(minutes=1)
    later = runner.run([plan], ctx(clock))
    assert later.sent == 1 and later.ok
    assert len(slack.fake.calls_to("conversations.history")) == 2
    assert len(slack.fake.posted("CREPORT")) == 1 and len(slack.fake.posted("CBETA")) == 1


def test_a_send_whose_answer_was_lost_is_not_doubled(slack: SlackHarness) -> None:
    clock = Clock(START)
    runner = make_runner(slack, clock)
    plan = planner(("review:T0001:ACME:2026-W50", "CREPORT"))
    slack.fake.fail("chat.postMessage", status=503, accept=True)  # posted, but the answer is an error
    runner.run([plan], ctx(clock))
    assert len(slack.fake.posted("CREPORT")) == 1
    clock.advance(minutes=5)
    runner.run([plan], ctx(clock))
    assert len(slack.fake.posted("CREPORT")) == 1
    [row] = rows(slack.db)
    assert row.status == "sent" and row.ts == slack.fake.posted("CREPORT")[0]["ts"]


def test_a_dm_whose_answer_timed_out_is_found_in_the_dm_history(slack: SlackHarness) -> None:
    clock = Clock(START)
    runner = make_runner(slack, clock)
    plan = planner(("nudge:T0001:UBOB:2026-12-07", "UBOB"))
    slack.fake.fail("chat.postMessage", delay=11, accept=True)  # longer than the client's 10 s timeout
    runner.run([plan], ctx(clock))
    clock.advance(minutes=5)
    runner.run([plan], ctx(clock))
    assert len(slack.fake.posted("UBOB")) == 1
    assert [c.args["users"] for c in slack.fake.calls_to("conversations.open")] == ["UBOB"]
    assert rows(slack.db)[0].status == "sent"


def test_a_crash_after_claiming_is_resolved_from_history(slack: SlackHarness) -> None:
    clock = Clock(START)
    runner = make_runner(slack, clock)
    key = "digest:T0001:ACME:2026-W50:1"
    # A process claimed and took the lease, then died (whether Slack got the message is unknown).
    with slack.db.write() as session:
        ledger.claim(session, key=key, team_id="T0001", kind="digest", channel="CREPORT", project_id=None,
                     payload={"text": "x", "blocks": []}, now=clock.now)  # fmt: skip
        [row] = session.scalars(select(Delivery))
        assert ledger.acquire(session, delivery_id=row.id, now=clock.now, real_now=clock.now)
    # Within the lease nobody touches it.
    assert runner.run([planner((key, "CREPORT"))], ctx(clock)).sent == 0
    clock.advance(minutes=3)
    runner.run([planner((key, "CREPORT"))], ctx(clock))
    assert len(slack.fake.calls_to("conversations.history")) == 1
    assert len(slack.fake.posted("CREPORT")) == 1 and rows(slack.db)[0].status == "sent"


def test_permanent_errors_are_failed_and_never_retried(slack: SlackHarness) -> None:
    clock = Clock(START)
    runner = make_runner(slack, clock)
    slack.fake.add_channel("CGONE", is_private=True, is_member=False)  # the bot was removed from it
    plan = planner(("digest:T0001:ACME:2026-W50:1", "CGONE"))
    report = runner.run([plan], ctx(clock))
    assert (report.failed, report.ok) == (1, False)
    [row] = rows(slack.db)
    assert (row.status, row.error) == ("failed", "channel_not_found")
    clock.advance(hours=3)
    runner.run([plan], ctx(clock))
    assert len(slack.fake.calls_to("chat.postMessage")) == 1
    with slack.db.read() as session:
        assert [d.key for d in ledger.failed(session)] == ["digest:T0001:ACME:2026-W50:1"]


def test_rate_limits_are_honoured_without_real_sleeping(slack: SlackHarness) -> None:
    clock = Clock(START)
    runner = make_runner(slack, clock)
    slack.fake.fail("chat.postMessage", status=429, retry_after=3)
    runner.run([planner(("a:T0001:1", "C1"))], ctx(clock))
    assert 3 in clock.sleeps and len(slack.fake.posted("C1")) == 1
    # A long Retry-After is left to a later run.
    slack.fake.fail("chat.postMessage", status=429, retry_after=120)
    report = runner.run([planner(("b:T0001:1", "C2"))], ctx(clock))
    assert report.pending == 1 and slack.fake.posted("C2") == []
    clock.advance(seconds=60)
    assert runner.run([planner(("b:T0001:1", "C2"))], ctx(clock)).sent == 0
    clock.advance(seconds=61)
    assert runner.run([planner(("b:T0001:1", "C2"))], ctx(clock)).sent == 1


def test_posting_paces_itself_per_channel(slack: SlackHarness) -> None:
    clock = Clock(START)
    runner = make_runner(slack, clock)
    runner.run(
        [planner(("p:T0001:1", "C1"), ("p:T0001:2", "C1"), ("p:T0001:3", "C2"), ("p:T0001:4", "C1"))],
        ctx(clock),
    )
    # Two waits in C1 (about a second each, as the fake clock does not move between posts); none for C2.
    assert len(clock.sleeps) == 2 and all(0.9 <= s <= 1.0 for s in clock.sleeps)


def test_internal_posts_go_to_owners_until_a_report_channel_is_set(project: SlackHarness) -> None:
    from storage.models import Project

    project.fake.add_channel("CPROJ", name="acme", is_ext_shared=True)  # shared with the customer
    clock = Clock(START)
    runner = make_runner(project, clock)
    with project.db.read() as session:
        acme = session.scalar(select(Project))
        assert acme is not None
        project_id = acme.id

    def plan(session: Session, ctx: JobContext) -> list[Outgoing]:
        return [Outgoing(key="digest:T0001:ACME:2026-W50:1", team_id="T0001", kind="digest", text="weekly", blocks=[],
                         report_project_id=project_id, project_id=project_id)]  # fmt: skip

    runner.run([plan], ctx(clock))
    assert [r.key for r in rows(project.db)] == ["digest:T0001:ACME:2026-W50:1:UALICE"]
    assert len(project.fake.posted("UALICE")) == 1
    # A report channel shared with another organisation is never used.
    project.fake.add_channel("CSHARED", is_ext_shared=True)
    with project.db.write() as session:
        session.get_one(Project, project_id).report_channel_id = "CSHARED"

    def plan2(session: Session, ctx: JobContext) -> list[Outgoing]:
        return [Outgoing(key="review:T0001:ACME:2026-W50", team_id="T0001", kind="review", text="r", blocks=[],
                         report_project_id=project_id)]  # fmt: skip

    runner.run([plan2], ctx(clock))
    assert project.fake.posted("CSHARED") == []
    project.fake.add_channel("CINTERNAL")
    with project.db.write() as session:
        session.get_one(Project, project_id).report_channel_id = "CINTERNAL"

    def plan3(session: Session, ctx: JobContext) -> list[Outgoing]:
        return [Outgoing(key="review:T0001:ACME:2026-W51", team_id="T0001", kind="review", text="r", blocks=[],
                         report_project_id=project_id)]  # fmt: skip

    runner.run([plan3], ctx(clock))
    assert len(project.fake.posted("CINTERNAL")) == 1


def test_on_claim_runs_once_with_the_claim(slack: SlackHarness) -> None:
    clock = Clock(START)
    runner = make_runner(slack, clock)
    calls: list[int] = []

    def plan(session: Session, ctx: JobContext) -> list[Outgoing]:
        return [Outgoing(key="escalation:T0001:ACME:UALICE:2026-12-07", team_id="T0001", kind="escalation",
                         text="late", blocks=[], channel="UALICE", on_claim=lambda s: calls.append(1))]  # fmt: skip

    runner.run([plan], ctx(clock))
    runner.run([plan], ctx(clock))
    assert calls == [1]


def test_dry_run_reads_only(slack: SlackHarness) -> None:
    clock = Clock(START)
    runner = make_runner(slack, clock)
    report = runner.dry_run([planner(("digest:T0001:ACME:2026-W50:1", "CREPORT"))], ctx(clock))
    assert report.planned == 1 and "message digest:T0001:ACME:2026-W50:1" in report.lines[0]
    assert rows(slack.db) == [] and slack.fake.calls == []


def test_an_uninstalled_workspace_gets_nothing(slack: SlackHarness) -> None:
    clock = Clock(START)
    runner = make_runner(slack, clock)
    slack.fake.fail("chat.postMessage", status=500)
    runner.run([planner(("d:T0001:1", "C1"))], ctx(clock))
    slack.event({"type": "app_uninstalled"})
    # Uninstalling revokes the token: auth.test of the configured one fails from now on.
    slack.fake.fail("auth.test", error="token_revoked", times=5)
    clock.advance(hours=1)
    runner.run([planner(("d:T0001:1", "C1"), ("d:T0001:2", "C1"))], ctx(clock))
    assert slack.fake.posted() == []
    assert [(r.key, r.status, r.error) for r in rows(slack.db)] == [
        ("d:T0001:1", "failed", "app_uninstalled")
    ]


def test_fake_slack_history_keeps_metadata(fake_slack: FakeSlack) -> None:
    from slack_sdk import WebClient

    client = WebClient(token="xoxb-1", base_url=fake_slack.url)
    client.chat_postMessage(
        channel="C1", text="hi", metadata={"event_type": "x", "event_payload": {"key": "k"}}
    )
    history = client.conversations_history(channel="C1", include_all_metadata=True)
    assert history["messages"][0]["metadata"]["event_payload"] == {"key": "k"}


def test_check_names_failed_deliveries(slack: SlackHarness) -> None:
    from bot.ops.check import run_check

    clock = Clock(START)
    slack.fake.add_channel("CGONE", is_private=True, is_member=False)  # the bot was removed from it
    make_runner(slack, clock).run([planner(("digest:T0001:ACME:2026-W50:1", "CGONE"))], ctx(clock))
    report = run_check(
        slack.settings,
        client=lambda token: __import__("slack_sdk").WebClient(token=token, base_url=slack.fake.url),
    )
    assert any("digest:T0001:ACME:2026-W50:1" in p and "channel_not_found" in p for p in report.problems), (
        report.problems
    )


def test_owners_hear_once_when_a_report_channel_fails_for_good(project: SlackHarness) -> None:
    from storage.models import Project

    clock = Clock(START)
    runner = make_runner(project, clock)
    project.fake.add_channel("CARCHIVED", is_archived=True)
    with project.db.write() as session:
        acme = session.scalar(select(Project))
        assert acme is not None
        acme.report_channel_id = "CARCHIVED"
        project_id = acme.id

    def plan(session: Session, ctx: JobContext) -> list[Outgoing]:
        return [Outgoing(key="digest:T0001:ACME:2026-W50:1", team_id="T0001", kind="digest", text="weekly",
                         blocks=[], report_project_id=project_id, project_id=project_id)]  # fmt: skip

    runner.run([plan], ctx(clock))
    runner.run([plan], ctx(clock))
    [notice] = project.fake.posted("UALICE")
    assert "<#CARCHIVED>" in notice["text"] and "is_archived" in notice["text"]
    assert {(r.kind, r.status) for r in rows(project.db)} == {
        ("digest", "failed"),
        ("delivery_failed", "sent"),
    }


def test_check_names_a_report_channel_shared_with_another_organisation(project: SlackHarness) -> None:
    from slack_sdk import WebClient

    from bot.ops.check import run_check
    from storage.models import Project

    project.fake.add_channel("CSHARED", is_ext_shared=True)
    with project.db.write() as session:
        acme = session.scalar(select(Project))
        assert acme is not None
        acme.report_channel_id = "CSHARED"
    report = run_check(
        project.settings, client=lambda token: WebClient(token=token, base_url=project.fake.url)
    )
    assert any("project ACME" in p and "shared with another organisation" in p for p in report.problems), (
        report
    )


def test_an_in_doubt_send_that_cannot_be_checked_fails_visibly_instead_of_doubling(
    slack: SlackHarness,
) -> None:
    clock = Clock(START)
    runner = make_runner(slack, clock)
    plan = planner(("digest:T0001:ACME:2026-W50:1", "CREPORT"))
    slack.fake.fail("chat.postMessage", status=503, accept=True)
    runner.run([plan], ctx(clock))
    slack.fake.fail("conversations.history", error="missing_scope")
    clock.advance(minutes=5)
    runner.run([plan], ctx(clock))
    assert len(slack.fake.posted("CREPORT")) == 1
    [row] = rows(slack.db)
    assert row.status == "failed" and "missing_scope" in (row.error or "")
