"""Work that follows an ack: a bounded queue no acknowledgement ever waits for.

A listener acknowledges Slack first and leaves the rest here (the record's transaction, the card,
DMs, App Home redraws), so the listener thread is free for the next request at once. Four lanes,
drained by at most ``workers`` drainers running on an executor:

* **work** — what a person asked for (a record, its card, a DM). Never dropped. When ``capacity``
  items are already waiting, the item runs on the caller's ``overflow`` executor (the listener pool), or in
  the caller's thread — back-pressure reaches the listeners, and so the acks, only then;
* **batches** — small writes gathered under a name (a card's ``ts``) and written together, in one
  transaction, by one flush instead of one commit each: when no work waits, or as soon as ``batch_limit``
  items wait (a long burst does not keep its cards' timestamps in memory until it ends);
* **gatherings** — writes that the items themselves wait for (a record, whose card needs its key), gathered
  from the items running at once into one transaction (:meth:`AfterAck.gather`: group commit). The first item
  to arrive leads: it writes what has gathered by then (at most ``gather_limit`` items), in its own thread and
  compute slot; the others lend their slots while they wait (so that more items start and join), and the
  first of those left waiting leads the next gathering. A burst costs one transaction per gathering instead
  of one per record. A gathering's write is long stretches of Python with few calls that let the interpreter
  lock go, so it stays small and yields between items (:func:`let_acks_in`): measured, unbounded gatherings
  doubled the ack's p99 under load; of at most 8, yielding, they cost the acks little (bench/README.md);
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
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Hashable, Iterator, Sequence
from concurrent.futures import Executor
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from typing import Any, TypeVar, cast

log = logging.getLogger("aftercare.after_ack")

Task = Callable[[], Any]
# The compute slot this thread holds, if any (see the module doc).
_held = threading.local()


def let_acks_in() -> None:
    """Give the interpreter lock to any thread waiting for it (a listener acknowledging Slack), between the
    items of a long computation that would otherwise keep it until the interpreter's switch interval."""
    time.sleep(0)


@contextmanager
def _slot_lent() -> Iterator[None]:
    """This thread waits for others (a gathering): its compute slot, if any, is free meanwhile and taken back
    after. It holds nothing else while it waits for the slot again, so the slots cannot deadlock."""
    slot: threading.Semaphore | None = getattr(_held, "slot", None)
    if slot is None:
        yield
        return
    _held.slot = None
    slot.release()
    try:
        yield
    finally:
        slot.acquire()
        _held.slot = slot


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
    gathered: int = 0  # items written through gatherings
    gatherings: int = 0  # the transactions that wrote them


@dataclass
class _Batch:
    flush: Callable[[list[Any]], None]
    items: list[Any] = field(default_factory=list)


# A gathering's items, and what its write gives each: a result, or the exception to raise in its caller.
Item = TypeVar("Item")
Result = TypeVar("Result")
Write = Callable[[list[Item]], Sequence[Result | BaseException]]


@dataclass(eq=False)
class _Waiter:
    item: Any
    ready: threading.Event = field(default_factory=threading.Event)
    leads: bool = False
    done: bool = False
    outcome: Any = None  # the item's result, or its exception


@dataclass
class _Gathering:
    waiting: list[_Waiter] = field(default_factory=list)
    led: bool = False  # a leader is writing (or about to)


def write_gathered(write: Write[Item, Result], items: list[Item]) -> list[Result | BaseException]:
    """``write(items)``; when it fails as a whole (a database error), each item is written again alone, so one
    bad item costs the others nothing and gets its own error."""
    try:
        outcomes = write(items)
    except Exception as error:
        if len(items) == 1:
            return [error]
        log.warning("a gathered write of %s items failed (%s): writing each alone", len(items), error)
        return [write_gathered(write, [item])[0] for item in items]
    if len(outcomes) != len(items):
        raise RuntimeError(f"a gathered write gave {len(outcomes)} outcomes for {len(items)} items")
    return list(outcomes)


def outcome_of(outcome: Result | BaseException) -> Result:
    if isinstance(outcome, BaseException):
        raise outcome
    return outcome


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
        gather_limit: int = 8,
        batch_limit: int = 64,
        owns_executor: bool = False,
    ) -> None:
        if workers < 1 or gather_limit < 1 or batch_limit < 1:
            raise ValueError("workers, gather_limit and batch_limit must be at least 1")
        self._executor = executor
        self._workers = workers
        self._computing = threading.Semaphore(computing or workers)
        self._capacity = capacity
        self._max_redraws = max_redraws
        self._lock = threading.Lock()
        self._work: deque[Task] = deque()
        self._batches: OrderedDict[str, _Batch] = OrderedDict()
        self._redraws: OrderedDict[Hashable, Task] = OrderedDict()
        self._gatherings: dict[str, _Gathering] = {}
        self._gather_limit = gather_limit
        self._batch_limit = batch_limit
        self._drainers = 0
        self._owns_executor = owns_executor
        self.stats = AfterAckStats()

    def shutdown(self) -> None:
        """Finish everything queued (the process is stopping: nothing a person asked for is lost)."""
        if self._owns_executor:
            self._executor.shutdown(wait=True)
        self._drain_here()
        log.info("post-ack queue stopped", extra={"fields": asdict(self.stats)})

    # -- putting work in -----------------------------------------------------------------------------

    def submit(self, task: Task, *, overflow: Executor | None = None) -> None:
        """Run ``task`` soon, after every ack. When the queue is full, now: on ``overflow`` if given (a request
        thread must answer Slack, so it hands the task to the listener pool), else in this thread."""
        with self._lock:
            full = len(self._work) >= self._capacity
            if not full:
                self._work.append(task)
                self.stats.high_water = max(self.stats.high_water, len(self._work))
        if full:
            self.stats.inline += 1
            log.warning("post-ack queue full (%s waiting): running in a listener thread", self._capacity)
            if overflow is None:
                self._run(task)
            else:
                overflow.submit(self._run, task)
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

    def gather(self, name: str, item: Item, write: Write[Item, Result]) -> Result:
        """``write`` ``item`` with the items of the same ``name`` gathered from concurrent callers, in one call
        (``write(items)`` returns one outcome per item, a result or an exception); this caller's result, or its
        exception raised here. Blocks until written (see the module doc)."""
        waiter = _Waiter(item)
        with self._lock:
            gathering = self._gatherings.setdefault(name, _Gathering())
            gathering.waiting.append(waiter)
            if not gathering.led:
                gathering.led = waiter.leads = True
        if not waiter.leads:
            with _slot_lent():
                waiter.ready.wait()
        # Leading: this one, or the first left waiting when the last gathering was written.
        if not waiter.done:
            self._lead(gathering, write)
        return cast(Result, outcome_of(waiter.outcome))

    def _lead(self, gathering: _Gathering, write: Write[Any, Any]) -> None:
        with self._lock:
            batch, gathering.waiting = (
                gathering.waiting[: self._gather_limit],
                gathering.waiting[self._gather_limit :],
            )
        outcomes: list[Any]
        try:
            outcomes = write_gathered(write, [waiter.item for waiter in batch])
        except BaseException as error:  # the process is stopping: no one is left waiting
            outcomes = [error] * len(batch)
        with self._lock:
            self.stats.gathered += len(batch)
            self.stats.gatherings += 1
            successor = gathering.waiting[0] if gathering.waiting else None
            if successor is None:
                gathering.led = False
            else:
                successor.leads = True
        for waiter, outcome in zip(batch, outcomes, strict=True):
            waiter.outcome, waiter.done = outcome, True
            waiter.ready.set()
        if successor is not None:
            successor.ready.set()

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
        """Work first (but a batch of ``batch_limit`` items before it), then batches, then redraws; None (and this
        drainer stops) when all are empty."""
        with self._lock:
            full = next(
                (name for name, b in self._batches.items() if len(b.items) >= self._batch_limit), None
            )
            if self._work and full is None:
                return self._work.popleft()
            if self._batches:
                batch = self._batches.pop(full if full is not None else next(iter(self._batches)))
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
