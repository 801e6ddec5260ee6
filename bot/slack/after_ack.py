"""Work that follows an ack: a bounded queue no acknowledgement ever waits for.

A listener acknowledges Slack first and leaves the rest here (the record's transaction, the card,
DMs, App Home redraws), so the listener thread is free for the next request at once. Three lanes,
drained by at most ``workers`` drainers running on an executor:

* **work** — what a person asked for (a record, its card, a DM). Never dropped. When ``capacity``
  items are already waiting, the item runs in the caller's thread instead (back-pressure reaches the
  listener pool, and so the acks, only then);
* **batches** — small writes gathered under a name (a card's ``ts``) and written together, in one
  transaction, by one flush instead of one commit each;
* **redraws** — App Home redraws, coalesced per key (team, person): a redraw already waiting is not
  queued again (when it runs it reads the latest state, so it shows every change made meanwhile).
  They run only when no work is waiting, and beyond ``max_redraws`` waiting the oldest is dropped
  (that Home is stale until the person's next change or visit): redraws degrade before acks do.

Many drainers, few computing: an item spends most of its time waiting for Slack (a round trip of
100–300 ms over the internet), so ``workers`` is sized for that wait; but drainers that compute at once
take the interpreter lock from the listener threads that must ack. So at most ``computing`` items compute
at once: an item takes a slot when it starts and gives it up for good at its first Slack call
(:func:`waiting_on_slack`, which ``SlackGateway`` enters) — what follows is mostly more waiting. An item
waits for a slot only when it starts, holding nothing, so the slots cannot deadlock.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict, deque
from collections.abc import Callable, Hashable, Iterator
from concurrent.futures import Executor
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger("aftercare.after_ack")

Task = Callable[[], Any]
# The compute slot this thread holds, if any (see the module doc).
_held = threading.local()


@contextmanager
def waiting_on_slack() -> Iterator[None]:
    """This thread waits for Slack now: the post-ack item it runs gives up its compute slot for good."""
    slot: threading.Semaphore | None = getattr(_held, "slot", None)
    if slot is not None:
        _held.slot = None
        slot.release()
    yield


@dataclass
class AfterAckStats:
    """Counters (for the benchmark and the logs): what ran, what was merged, what was dropped."""

    ran: int = 0
    inline: int = 0
    redraws: int = 0
    coalesced: int = 0
    dropped_redraws: int = 0
    flushes: int = 0
    failed: int = 0
    high_water: int = 0
    slot_waits: int = 0  # items that waited for a compute slot


@dataclass
class _Batch:
    flush: Callable[[list[Any]], None]
    items: list[Any] = field(default_factory=list)


class AfterAck:
    """The post-ack queue. Thread-safe; ``submit`` never blocks on the queue (see the module doc)."""

    def __init__(
        self,
        executor: Executor,
        *,
        workers: int = 4,
        computing: int | None = None,
        capacity: int = 2000,
        max_redraws: int = 1000,
        owns_executor: bool = False,
    ) -> None:
        if workers < 1:
            raise ValueError("workers must be at least 1")
        self._executor = executor
        self._workers = workers
        self._computing = threading.Semaphore(computing or workers)
        self._capacity = capacity
        self._max_redraws = max_redraws
        self._lock = threading.Lock()
        self._work: deque[Task] = deque()
        self._batches: OrderedDict[str, _Batch] = OrderedDict()
        self._redraws: OrderedDict[Hashable, Task] = OrderedDict()
        self._drainers = 0
        self._owns_executor = owns_executor
        self.stats = AfterAckStats()

    def shutdown(self) -> None:
        """Finish everything queued (the process is stopping: nothing a person asked for is lost)."""
        if self._owns_executor:
            self._executor.shutdown(wait=True)
        self._drain_here()

    # -- putting work in -----------------------------------------------------------------------------

    def submit(self, task: Task) -> None:
        """Run ``task`` soon, after every ack; in this thread only when the queue is full."""
        with self._lock:
            full = len(self._work) >= self._capacity
            if not full:
                self._work.append(task)
                self.stats.high_water = max(self.stats.high_water, len(self._work))
        if full:
            self.stats.inline += 1
            log.warning("post-ack queue full (%s waiting): running in the listener thread", self._capacity)
            self._run(task)
            return
        self._wake()

    def batch(self, name: str, item: Any, flush: Callable[[list[Any]], None]) -> None:
        """Add ``item`` to the batch ``name``; one flush writes all the items gathered by the time it runs."""
        with self._lock:
            waiting = self._batches.get(name)
            if waiting is None:
                self._batches[name] = _Batch(flush, [item])
            else:
                waiting.items.append(item)
        self._wake()

    def redraw(self, key: Hashable, task: Task) -> bool:
        """Queue a redraw unless one for ``key`` is already waiting (False: merged into that one)."""
        with self._lock:
            if key in self._redraws:
                self.stats.coalesced += 1
                return False
            self._redraws[key] = task
            while len(self._redraws) > self._max_redraws:
                dropped, _ = self._redraws.popitem(last=False)
                self.stats.dropped_redraws += 1
                log.warning("post-ack queue busy: App Home redraw for %s dropped", dropped)
        self._wake()
        return True

    def pending(self) -> int:
        with self._lock:
            return len(self._work) + sum(len(b.items) for b in self._batches.values()) + len(self._redraws)

    # -- draining ------------------------------------------------------------------------------------

    def _wake(self) -> None:
        with self._lock:
            if self._drainers >= self._workers:
                return
            self._drainers += 1
        try:
            self._executor.submit(self._drain)
        except RuntimeError:  # the pool is shutting down: finish here rather than lose anything
            log.warning("post-ack pool closed: finishing the queue in this thread")
            self._drain()

    def _next(self) -> Task | None:
        """Work first, then batches, then redraws; None (and this drainer stops) when all are empty."""
        with self._lock:
            if self._work:
                return self._work.popleft()
            if self._batches:
                _, batch = self._batches.popitem(last=False)
                self.stats.flushes += 1
                return lambda: batch.flush(batch.items)
            if self._redraws:
                _, task = self._redraws.popitem(last=False)
                self.stats.redraws += 1
                return task
            self._drainers -= 1
            return None

    def _drain_here(self) -> None:
        with self._lock:
            self._drainers += 1
        self._drain()

    def _drain(self) -> None:
        while (task := self._next()) is not None:
            self._run(task)

    def _run(self, task: Task) -> None:
        outermost = getattr(_held, "slot", None) is None  # an item run from within another runs in its slot
        if outermost:
            if not self._computing.acquire(blocking=False):
                self.stats.slot_waits += 1
                self._computing.acquire()
            _held.slot = self._computing
        try:
            task()
            self.stats.ran += 1
        except Exception:
            self.stats.failed += 1
            log.exception("post-ack work failed")
        finally:
            if outermost and _held.slot is not None:  # not given up at a Slack call
                _held.slot = None
                self._computing.release()
