"""Sending at Slack's pace, in parallel across channels.

- A bounded pool of workers (``AFTERCARE_SEND_WORKERS``) drains the run's deliveries; each channel's
  deliveries stay in order on one worker at a time, so a channel never gets two posts at once.
- :class:`Pacer`: at most one message a second per channel (Slack's pace for ``chat.postMessage``).
- :class:`WorkspaceGate`: a 429's ``Retry-After`` pauses that workspace's posts for every worker (then
  holds them to the rate Slack let through); a pause longer than :data:`MAX_INLINE_WAIT` is not waited
  out — the message stays pending for a later run.

A 429 is waited out at most :data:`SEND_ATTEMPTS` - 1 times per message: never a retry loop.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from slack_sdk import WebClient

from bot.delivery.outcomes import Outcome, post
from storage.models import Delivery

# Slack allows about one message per second per channel.
CHANNEL_INTERVAL = 1.0
# Waiting this long for Retry-After inside a run is fine; longer waits are left to a later run.
MAX_INLINE_WAIT = 10.0
# Tries of one message within a run (the first, and one after each 429 waited out).
SEND_ATTEMPTS = 3
# Waits for a free slot in a workspace's learned rate before one try (each under a second).
GATE_WAITS = 10
# How long a rate learned from a 429 holds (seconds without another 429).
LEARNED_FOR = 60.0


class Pacer:
    """At most one message per second per channel, through an injectable clock and sleeper (thread-safe)."""

    def __init__(self, monotonic: Callable[[], float], sleep: Callable[[float], None]) -> None:
        self.monotonic = monotonic
        self.sleep = sleep
        self.last: dict[str, float] = {}
        self._lock = threading.Lock()

    def wait(self, channel: str) -> None:
        """Sleep until a second has passed since the channel's last post was answered."""
        with self._lock:  # a channel is drained by one worker at a time: only the bookkeeping is shared
            last = self.last.get(channel)
        if last is not None:
            remaining = CHANNEL_INTERVAL - (self.monotonic() - last)
            if remaining > 0:
                self.sleep(remaining)

    def done(self, channel: str) -> None:
        """The channel's post was answered: Slack received it before now, so the next waits from here."""
        with self._lock:
            self.last[channel] = self.monotonic()


class WorkspaceGate:
    """A workspace's posts, for every worker of the process: paused by Slack (429 + ``Retry-After``), then
    held to the rate Slack let through in the second before its 429 (learned, forgotten after
    :data:`LEARNED_FOR` seconds without another), so the workers do not run into the next 429 together."""

    def __init__(self, monotonic: Callable[[], float], sleep: Callable[[float], None]) -> None:
        self.monotonic = monotonic
        self.sleep = sleep
        self._until: dict[str, float] = {}
        self._recent: dict[str, deque[float]] = {}
        self._learned: dict[str, tuple[int, float]] = {}
        self._lock = threading.Lock()

    def pause(self, team_id: str, seconds: float) -> None:
        with self._lock:
            now = self.monotonic()
            self._until[team_id] = max(self._until.get(team_id, 0.0), now + seconds)
            self._learned[team_id] = (max(len(self._window(team_id, now)), 1), now)

    def _window(self, team_id: str, now: float) -> deque[float]:
        recent = self._recent.setdefault(team_id, deque())
        while recent and now - recent[0] >= 1.0:
            recent.popleft()
        return recent

    def _slot(self, team_id: str) -> float:
        """0: a post may go now (its slot in the learned rate is taken); otherwise how long until one frees."""
        with self._lock:
            now = self.monotonic()
            recent = self._window(team_id, now)
            rate, learned_at = self._learned.get(team_id, (0, 0.0))
            if rate and now - learned_at < LEARNED_FOR and len(recent) >= rate:
                return max(recent[0] + 1.0 - now, 0.001)
            recent.append(now)
            return 0.0

    def remaining(self, team_id: str) -> float:
        with self._lock:
            return max(self._until.get(team_id, 0.0) - self.monotonic(), 0.0)

    def wait(self, team_id: str) -> float | None:
        """Wait out a short pause; a long one (or one extended again and again) is returned, not waited."""
        for _ in range(SEND_ATTEMPTS):
            remaining = self.remaining(team_id)
            if remaining <= 0:
                return None
            if remaining > MAX_INLINE_WAIT:
                return remaining
            self.sleep(remaining)
        return self.remaining(team_id) or None

    def slot(self, team_id: str) -> None:
        """Wait (under a second at a time, a bounded number of times) for a slot in the learned rate."""
        for _ in range(GATE_WAITS):
            wait = self._slot(team_id)
            if wait <= 0:
                return
            self.sleep(wait)


class Sender:
    """One message's ``chat.postMessage`` within both budgets (the channel's pace, the workspace's pause)."""

    def __init__(self, monotonic: Callable[[], float], sleep: Callable[[float], None]) -> None:
        self.pacer = Pacer(monotonic, sleep)
        self.gate = WorkspaceGate(monotonic, sleep)

    def send(self, client: WebClient, delivery: Delivery, extra: Sequence[dict[str, Any]] = ()) -> Outcome:
        outcome = Outcome(error="ratelimited")
        for _ in range(SEND_ATTEMPTS):
            held = self.gate.wait(delivery.team_id)
            if held is not None:  # Slack said wait longer than a run waits: a later run sends it
                return Outcome(error="ratelimited", retry_after=held)
            self.pacer.wait(delivery.channel)
            self.gate.slot(delivery.team_id)
            outcome = post(client, delivery, extra)
            self.pacer.done(delivery.channel)
            if outcome.retry_after is None or outcome.in_doubt:  # in doubt: never resent without looking
                return outcome
            self.gate.pause(delivery.team_id, outcome.retry_after)  # every worker of the workspace waits
            if outcome.retry_after > MAX_INLINE_WAIT:
                return outcome
        return outcome


def fan_out(deliveries: Sequence[Delivery], deliver: Callable[[Delivery], None], workers: int) -> None:
    """``deliver`` each delivery: channels in parallel on up to ``workers`` threads, each channel in order.

    One worker (or one channel) runs everything here, in order, as a plain loop. The first error a
    worker meets is raised once every channel is done.
    """
    queues: dict[str, list[Delivery]] = {}
    for delivery in deliveries:
        queues.setdefault(delivery.channel, []).append(delivery)
    if workers <= 1 or len(queues) <= 1:
        for delivery in deliveries:
            deliver(delivery)
        return

    def drain(queue: list[Delivery]) -> None:
        for delivery in queue:
            deliver(delivery)

    with ThreadPoolExecutor(
        max_workers=min(workers, len(queues)), thread_name_prefix="aftercare-send"
    ) as pool:
        futures = [pool.submit(drain, queue) for queue in queues.values()]
    for future in futures:
        future.result()
