"""Scheduler replicas share the work: each sends different messages, no message goes twice, and each
channel's audience is asked about by one replica only.

Two runners, each on its own engine (as two ``aftercare scheduler`` processes would be), run the same
plan against one database (SQLite, and PostgreSQL when reachable). Slack holds the first two posts
until both have arrived, so each runner is known to be sending at the same time as the other.
"""

from __future__ import annotations

import threading

import pytest
from slack_sdk import WebClient
from sqlalchemy.orm import Session

from bot.delivery.base import JobContext, Outgoing, Planner
from bot.delivery.runner import Runner, RunReport
from bot.demo.clock import Clock
from bot.slack.services import Services
from storage.db import Database
from storage.models import Project
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
    posted = [m["metadata"]["event_payload"]["key"] for m in slack.fake.posted()]
    assert sorted(posted) == sorted(f"digest:T0001:P{n:02d}:2026-W50" for n in range(20))  # none twice
    assert reports[0].sent + reports[1].sent == 20
