"""A run sends in parallel across channels, each channel at Slack's pace, each workspace's 429 honoured by all.

The stand-in paces ``chat.postMessage`` as Slack does (:meth:`bot.demo.simulator.FakeSlack.pace`) on the test's
clock, and records when each post was accepted; nothing here reads the wall clock.
"""

from __future__ import annotations

import itertools
import threading
from typing import Any

import pytest

from bot.delivery.fanout import Sender
from bot.delivery.runner import Runner
from bot.demo.clock import Clock
from bot.demo.simulator import FakeSlack
from bot.demo.workspace import SlackHttpError
from tests.delivery.test_delivery_ledger import START, ctx, planner, rows
from tests.harness import SlackHarness, answer_first_two_together, job_runner, joined

CHANNELS = ("CFAN1", "CFAN2", "CFAN3")


@pytest.fixture(autouse=True)
def fan_channels(fake_slack: FakeSlack) -> None:
    joined(fake_slack, *CHANNELS)


def _runner(slack: SlackHarness, clock: Clock, workers: int) -> Runner:
    return job_runner(slack, clock, workers=workers)


def _three_a_channel() -> list[tuple[str, str]]:
    return [(f"digest:T0001:{c}:{n}", c) for n in range(3) for c in CHANNELS]


def _posted_keys(fake: FakeSlack, channel: str) -> list[str]:
    return [m["metadata"]["event_payload"]["key"] for m in fake.posted(channel)]


def test_channels_are_sent_in_parallel_each_at_one_post_a_second(
    slack: SlackHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = Clock(START)
    pace = slack.fake.pace(channel_interval=1.0, workspace_rate=50)
    # Slack holds the first two posts until both have arrived: two channels' posts are in flight at once.
    overlapped = answer_first_two_together(slack, monkeypatch)
    keys = _three_a_channel()
    report = _runner(slack, clock, workers=3).run([planner(*keys)], ctx(clock))

    assert report.sent == 9 and report.pending == 0
    assert overlapped == [True, True]  # the first two posts (two channels) were answered together
    assert pace.refused == {}  # Slack never had to refuse one: no 429 at all
    for channel in CHANNELS:
        assert _posted_keys(slack.fake, channel) == [k for k, c in keys if c == channel]  # in order
        instants = [p.at for p in pace.posted if p.channel == channel]
        assert len(instants) == 3
        assert all(later - earlier >= 1.0 for earlier, later in itertools.pairwise(instants))
    assert len(slack.fake.calls_to("chat.postMessage")) == 9  # each once
    assert {r.status for r in rows(slack.db)} == {"sent"}


def test_one_worker_sends_in_plan_order(slack: SlackHarness) -> None:
    clock = Clock(START)
    pace = slack.fake.pace()
    keys = _three_a_channel()
    _runner(slack, clock, workers=1).run([planner(*keys)], ctx(clock))
    order = [(p.channel) for p in pace.posted]
    assert order == [c for _k, c in keys]


def test_a_long_retry_after_pauses_every_channel_of_the_workspace(slack: SlackHarness) -> None:
    """Slack's 429 says wait 20 s: the run sends nothing more to that workspace, in any channel; the
    messages stay pending for a later run (nothing retried in a loop)."""
    clock = Clock(START)
    slack.fake.fail("chat.postMessage", status=429, retry_after=20)
    keys = [("digest:T0001:A:1", "CFAN1"), ("digest:T0001:B:1", "CFAN2"), ("digest:T0001:C:1", "CFAN3")]
    report = _runner(slack, clock, workers=1).run([planner(*keys)], ctx(clock))

    assert len(slack.fake.calls_to("chat.postMessage")) == 1  # the other channels waited with it
    assert (report.sent, report.pending) == (0, 3)
    assert {(r.status, r.error) for r in rows(slack.db)} == {("pending", "ratelimited")}
    assert clock.sleeps == []  # not waited out inside the run
    clock.advance(seconds=21)
    again = _runner(slack, clock, workers=3).run([planner(*keys)], ctx(clock))
    assert again.sent == 3 and len(slack.fake.calls_to("chat.postMessage")) == 4


def test_a_short_retry_after_pauses_the_other_workers_too(
    slack: SlackHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """CFAN1's first post meets a 429 (Retry-After 3) while CFAN2's first is in flight: CFAN2's next post,
    on another worker, waits out the same pause — then everything is sent, each once."""
    clock = Clock(START)
    pace = slack.fake.pace()
    paused = threading.Event()
    refused: list[float] = []
    original = slack.fake.answer

    def answer(method: str, args: dict[str, Any], *, token: str = "") -> Any:
        if method == "chat.postMessage" and args.get("channel") == "CFAN1" and not refused:
            refused.append(clock.monotonic())
            raise SlackHttpError(429, {"ok": False, "error": "ratelimited"}, {"Retry-After": "3"})
        if method == "chat.postMessage" and args.get("channel") == "CFAN2" and not paused.is_set():
            paused.wait(5)  # answered once CFAN1's worker has taken the pause in
        return original(method, args, token=token)

    def sleep(seconds: float) -> None:
        clock.sleep(seconds)
        paused.set()

    monkeypatch.setattr(slack.fake, "answer", answer)
    runner = _runner(slack, clock, workers=2)
    runner.sender = Sender(clock.monotonic, sleep)
    keys = [("digest:T0001:A:1", "CFAN1"), ("digest:T0001:B:1", "CFAN2"), ("digest:T0001:B:2", "CFAN2")]
    report = runner.run([planner(*keys)], ctx(clock))

    assert report.sent == 3 and len(slack.fake.calls_to("chat.postMessage")) == 4  # one 429, each once
    [second_in_cfan2] = [p.at for p in pace.posted if p.channel == "CFAN2"][1:]
    assert second_in_cfan2 >= refused[0] + 3.0  # not just its channel's second: the workspace's pause
