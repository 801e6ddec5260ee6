"""Time that moves only when told, and a listener pool one can wait on: the demo's and the tests' one copy.

:class:`Clock` is the bot's (``Services.clock``: call it), the jobs' (``JobContext(now=clock.now)``), the
runner's (``sleep``/``monotonic`` advance and read it instead of sleeping) and the stand-in Slack's
(``fake.clock = clock.monotonic``). :class:`DrainableExecutor` is the app's listener pool; after each request
the caller waits for the work listeners do after ``ack()`` before it looks at what Slack saw.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import Any


class Clock:
    """A settable clock: ``now`` is read by calling it, moved by :meth:`at`, :meth:`advance` or :meth:`sleep`.

    ``sleeps`` keeps every pause the runner asked for (it slept none of them: the clock moved instead).
    """

    def __init__(self, now: datetime) -> None:
        if now.tzinfo is None:
            raise ValueError("the clock's time must be aware (with a tzinfo)")
        self.now = now
        self.sleeps: list[float] = []
        self._lock = threading.Lock()  # several runner workers may pause at once

    def __call__(self) -> datetime:
        return self.now

    def at(self, when: datetime) -> None:
        """Set the clock to ``when``."""
        with self._lock:
            self.now = when

    def advance(self, **delta: float) -> None:
        """Move the clock on by ``timedelta(**delta)``, e.g. ``clock.advance(minutes=5)``."""
        with self._lock:
            self.now += timedelta(**delta)

    def sleep(self, seconds: float) -> None:
        """What a sleeper does, in no time: the clock moves on by ``seconds``."""
        with self._lock:
            self.sleeps.append(seconds)
            self.now += timedelta(seconds=seconds)

    def monotonic(self) -> float:
        """Seconds since the epoch by this clock (what ``time.monotonic`` and Slack's clock stand in for)."""
        return self.now.timestamp()


class DrainableExecutor(ThreadPoolExecutor):
    """A listener pool that remembers what it was given, so :meth:`drain` can wait until all of it is done."""

    def __init__(self, name: str = "listener", max_workers: int = 8) -> None:
        super().__init__(max_workers=max_workers, thread_name_prefix=name)
        self.name = name
        self._futures: list[Future[Any]] = []
        self._lock = threading.Lock()

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        future = super().submit(fn, *args, **kwargs)
        with self._lock:
            self._futures.append(future)
        return future

    def drain(self, timeout: float = 10.0) -> None:
        """Wait for everything submitted so far (and what it submitted in turn); TimeoutError after ``timeout``."""
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                self._futures = [f for f in self._futures if not f.done()]
                pending = len(self._futures)
            if not pending:
                return
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"{pending} task(s) of the {self.name} pool did not finish in {timeout:g} s"
                )
            time.sleep(0.002)
