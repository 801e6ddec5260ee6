"""Scheduler replicas share the work: each sends different messages, and no message goes twice.

Two runners, each on its own engine (as two ``aftercare scheduler`` processes would be), run the same
plan against one database (SQLite, and PostgreSQL when reachable). Slack holds the first two posts
until both have arrived, so each runner is known to be sending at the same time as the other.
"""

from __future__ import annotations

import contextlib
import threading
from typing import Any

import pytest

from bot.jobs.runner import Runner, RunReport
from storage.db import Database
from tests.harness import SlackHarness
from tests.test_delivery_ledger import Clock, ctx, make_runner, planner, rows


def _hold_first_posts_until_both_arrive(slack: SlackHarness, monkeypatch: pytest.MonkeyPatch) -> None:
    both = threading.Barrier(2, timeout=5)
    seen: list[int] = []
    lock = threading.Lock()
    original = slack.fake.answer

    def answer(method: str, args: dict[str, Any], *, token: str = "") -> Any:
        if method == "chat.postMessage":
            with lock:
                seen.append(1)
                first_two = len(seen) <= 2
            if first_two:  # a broken barrier: only one runner ever posted (the asserts say so)
                with contextlib.suppress(threading.BrokenBarrierError):
                    both.wait()
        return original(method, args, token=token)

    monkeypatch.setattr(slack.fake, "answer", answer)


def test_two_scheduler_replicas_split_the_messages_and_never_double(
    slack: SlackHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = Clock()
    keys = [(f"nudge:T0001:U{n}:2026-12-07", f"U{n}") for n in range(20)]
    for n in range(20):
        slack.fake.add_user(f"U{n}")
    plan = planner(*keys)
    other_db = Database(slack.db.url.render_as_string(hide_password=False))
    runners = [make_runner(slack, clock), make_runner(slack, clock, other_db)]
    reports: dict[int, RunReport] = {}
    start = threading.Barrier(2)
    _hold_first_posts_until_both_arrive(slack, monkeypatch)

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
