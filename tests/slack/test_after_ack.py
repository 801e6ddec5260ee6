"""Post-ack work: acks never wait for it, App Home redraws coalesce per person, nothing is lost."""

from __future__ import annotations

import io
import json
import threading
from collections.abc import Callable
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from dataclasses import replace
from functools import partial
from typing import Any

import pytest
from sqlalchemy import select

from bot.demo.simulator import FakeSlack, command_body, sign
from bot.demo.simulator_requests import payload_body
from bot.slack import ids
from bot.slack.after_ack import AfterAck, waiting_on_slack, write_gathered
from storage.models import Record
from tests.harness import SIGNING_SECRET, TEAM, SlackHarness, find_button


class _Gate:
    """The stand-in answers ``method`` only when released (at the latest after 2 s)."""

    def __init__(
        self, slack: SlackHarness, monkeypatch: pytest.MonkeyPatch, method: str = "chat.postMessage"
    ) -> None:
        self.open = threading.Event()
        self.answered = 0
        self._lock = threading.Lock()
        original = slack.fake.answer
        gated = method

        def answer(method: str, args: dict[str, Any], *, token: str = "") -> Any:
            if method == gated:
                self.open.wait(timeout=2.0)
                with self._lock:
                    self.answered += 1
            return original(method, args, token=token)

        monkeypatch.setattr(slack.fake, "answer", answer)


def _acked_at_once(slack: SlackHarness, text: str, *, number: int) -> tuple[int, str]:
    """Send ``/issue <text>`` through the WSGI app without waiting for what follows the ack."""
    slack.acting("UALICE", TEAM, "CPROJ", mentioned=text)
    body = command_body(
        command="/issue", text=text, user_id="UALICE", channel_id="CPROJ", team_id=TEAM,
        response_url=slack.fake.response_url(f"burst{number}"), channel_name="general",
    )  # fmt: skip
    return _answered(slack, body)


def _answered(slack: SlackHarness, body: str) -> tuple[int, str]:
    """Post a signed request body through the WSGI app: its HTTP answer, without waiting for the work after."""
    raw = body.encode()
    environ: dict[str, Any] = {
        "REQUEST_METHOD": "POST", "PATH_INFO": "/slack/events", "QUERY_STRING": "", "SERVER_NAME": "localhost",
        "SERVER_PORT": "3000", "SERVER_PROTOCOL": "HTTP/1.1", "wsgi.url_scheme": "http",
        "CONTENT_TYPE": "application/x-www-form-urlencoded", "CONTENT_LENGTH": str(len(raw)),
    }  # fmt: skip
    environ["wsgi.input"] = io.BytesIO(raw)
    for key, value in sign(SIGNING_SECRET, body).items():
        environ["HTTP_" + key.upper().replace("-", "_")] = value
    status: list[str] = []
    chunks = slack.wsgi(environ, lambda s, _h, _e=None: status.append(s))
    return int(status[0].split()[0]), b"".join(chunks).decode()


def test_acks_do_not_wait_for_a_slow_slack_even_beyond_the_listener_pool(
    project: SlackHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """12 /issue new while Slack takes 2 s to answer each card: all 12 are acknowledged before any card is
    answered (the listener pool has 8 threads), then every card reaches Slack and its ts is stored."""
    gate = _Gate(project, monkeypatch)
    answers = [_acked_at_once(project, f"new Burst item {n}", number=n) for n in range(12)]
    answered_when_acked = gate.answered
    gate.open.set()
    project.drain()

    assert answers == [(200, "")] * 12
    assert answered_when_acked == 0
    cards = [m for m in project.fake.posted("CPROJ") if "Burst item" in str(m.get("text"))]
    assert len(cards) == 12
    records = project.records()
    assert sorted(r.title for r in records) == sorted(f"Burst item {n}" for n in range(12))
    assert all(r.card_channel_id == "CPROJ" and r.card_ts for r in records)
    # Each record remembers its own card (the batch's rows are not mixed up).
    card_of = {str(m["ts"]): str(m["text"]) for m in cards}
    assert all(r.key in card_of[str(r.card_ts)] for r in records)
    # One transaction remembered the cards of the burst, not one each.
    assert project.services.after_ack is not None
    assert project.services.after_ack.stats.flushes < 12


def test_a_button_is_answered_at_its_ack_while_its_slack_call_still_waits(
    project: SlackHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Bolt runs a matched listener in the request's thread; a button's listener hands itself to the listener
    pool there, so the HTTP answer goes at its ack, not after the card it redraws reaches a slow Slack."""
    project.command("/issue", "new Printer jams")
    card = project.fake.posted("CPROJ")[-1]
    button = find_button(card["blocks"], ids.ACTION_CARD_ASSIGN_ME)
    gate = _Gate(project, monkeypatch, "chat.update")
    project.acting("UBOB", TEAM, "CPROJ")
    payload = {
        "type": "block_actions", "team": {"id": TEAM, "domain": "acme"},
        "user": {"id": "UBOB", "username": "ubob", "team_id": TEAM}, "api_app_id": "A0001",
        "token": "deprecated", "trigger_id": "trigger-789", "is_enterprise_install": False,
        "actions": [{**button, "block_id": "b", "type": "button", "action_ts": "1790000000.1"}],
        "container": {"type": "message", "message_ts": card["ts"], "channel_id": "CPROJ", "is_ephemeral": False},
        "channel": {"id": "CPROJ", "name": "general"}, "message": {"type": "message", "ts": card["ts"]},
        "response_url": project.next_response_url(),
    }  # fmt: skip

    answer = _answered(project, payload_body(payload))
    answered_when_acked = gate.answered
    gate.open.set()
    project.drain()

    assert answer == (200, "")
    assert answered_when_acked == 0
    assert gate.answered == 1
    [record] = project.records()
    assert record.assignee_id == "UBOB"


def test_a_full_queue_hands_work_to_the_overflow_executor_not_the_callers_thread() -> None:
    """A request thread queuing work must answer Slack: when the queue is full, the work goes to the listener
    pool it names, and runs there."""
    pool, overflow = _Manual(), _Manual()
    queue = AfterAck(pool, workers=1, capacity=1)
    done: list[str] = []
    queue.submit(lambda: done.append("a"), overflow=overflow)
    queue.submit(lambda: done.append("b"), overflow=overflow)  # full

    assert done == []
    assert len(overflow.waiting) == 1 and queue.stats.inline == 1
    overflow.run_all()
    pool.run_all()
    assert done == ["b", "a"]


def _views_for(slack: SlackHarness, user: str) -> list[dict[str, Any]]:
    views = []
    for call in slack.fake.calls_to("views.publish"):
        if call.args.get("user_id") == user:
            view = call.args["view"]
            views.append(json.loads(view) if isinstance(view, str) else view)
    return views


def test_home_redraws_within_a_burst_are_coalesced_per_person(
    project: SlackHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Six records assigned to Bob in a burst: six cards and six DMs, but Bob's and Alice's Homes drawn once
    each, from the state after the burst (all six records on Bob's)."""
    project.services.after_ack = AfterAck(project.background, workers=1)
    gate = _Gate(project, monkeypatch)
    answers = [_acked_at_once(project, f"new Thing {n} <@UBOB|bob>", number=n) for n in range(6)]
    gate.open.set()
    project.drain()

    assert answers == [(200, "")] * 6
    assert len([m for m in project.fake.posted("CPROJ") if "Thing" in str(m.get("text"))]) == 6
    dms = [c for c in project.fake.calls_to("chat.postMessage") if c.args.get("channel") == "UBOB"]
    assert len(dms) == 6
    bob = _views_for(project, "UBOB")
    assert len(bob) == 1
    assert len(_views_for(project, "UALICE")) == 1
    shown = json.dumps(bob[0])
    assert all(f"ACME-{n}" in shown for n in range(1, 7))
    assert project.services.after_ack.stats.coalesced >= 8
    with project.db.read() as session:
        assert len(list(session.scalars(select(Record.id)))) == 6


# -- the queue itself (no Slack, no threads) -----------------------------------------------------------


class _Manual(Executor):
    """An executor that runs nothing until told: the test decides when drainers run."""

    def __init__(self) -> None:
        self.waiting: list[Callable[[], Any]] = []

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        self.waiting.append(lambda: fn(*args, **kwargs))
        return Future()

    def run_all(self) -> None:
        while self.waiting:
            self.waiting.pop(0)()


def test_work_runs_before_redraws_and_redraws_merge_per_key() -> None:
    pool = _Manual()
    queue = AfterAck(pool, workers=1)
    done: list[str] = []
    assert queue.redraw(("home", "T", "U1"), lambda: done.append("home U1"))
    queue.submit(lambda: done.append("card 1"))
    assert not queue.redraw(("home", "T", "U1"), lambda: done.append("home U1 again"))
    queue.batch("ts", 1, lambda items: done.append(f"ts {items}"))
    queue.batch("ts", 2, lambda items: done.append(f"ts {items}"))
    queue.submit(lambda: done.append("card 2"))
    assert len(pool.waiting) == 1  # one drainer for all of it
    pool.run_all()
    assert done == ["card 1", "card 2", "ts [1, 2]", "home U1"]
    assert queue.stats.coalesced == 1
    assert queue.pending() == 0


def test_a_long_burst_writes_its_batch_each_time_it_reaches_the_limit_not_once_at_the_end() -> None:
    pool = _Manual()
    queue = AfterAck(pool, workers=1, batch_limit=2)
    done: list[str] = []

    def card(n: int) -> None:  # a card is posted, then its ts is remembered in the batch
        done.append(f"card {n}")
        queue.batch("ts", n, lambda items: done.append(f"ts {items}"))

    for n in range(1, 6):
        queue.submit(partial(card, n))
    pool.run_all()
    assert done == ["card 1", "card 2", "ts [1, 2]", "card 3", "card 4", "ts [3, 4]", "card 5", "ts [5]"]
    assert queue.pending() == 0


def test_back_pressure_drops_the_oldest_redraws_before_running_work_in_the_listener_thread() -> None:
    pool = _Manual()
    queue = AfterAck(pool, workers=1, capacity=2, max_redraws=2)
    done: list[str] = []
    for user in ("U1", "U2", "U3"):
        queue.redraw(("home", "T", user), partial(done.append, user))
    assert queue.stats.dropped_redraws == 1
    queue.submit(lambda: done.append("a"))
    queue.submit(lambda: done.append("b"))
    queue.submit(lambda: done.append("c"))  # the queue is full: runs here, now
    assert done == ["c"]
    assert queue.stats.inline == 1
    pool.run_all()
    assert done == ["c", "a", "b", "U2", "U3"]


def test_a_failing_item_does_not_stop_the_queue() -> None:
    pool = _Manual()
    queue = AfterAck(pool, workers=1)
    done: list[str] = []

    def boom() -> None:
        raise RuntimeError("boom")

    queue.submit(boom)
    queue.submit(lambda: done.append("after"))
    pool.run_all()
    assert done == ["after"]
    assert queue.stats.failed == 1


def _app_with_marked_listener(
    process_before_response: bool, ran: list[str], api_url: str
) -> tuple[Any, AfterAck, _Manual]:
    from slack_bolt import App, BoltContext
    from slack_sdk import WebClient

    from bot.commands.guard import after_ack, guarding
    from bot.ops.settings import Settings
    from bot.slack.services import Services

    pool = _Manual()
    queue = AfterAck(pool, workers=1)
    services = Services(settings=Settings(_env_file=None), db=None, after_ack=queue)  # type: ignore[arg-type,call-arg]
    app = App(
        signing_secret="x", client=WebClient(token="xoxb-x", base_url=api_url), token_verification_enabled=False,
        request_verification_enabled=False,
        process_before_response=process_before_response,
    )  # fmt: skip

    def inject(context: BoltContext, next: Callable[[], None]) -> None:
        context["services"] = services
        next()

    app.use(inject)

    def issue(ack: Any) -> None:
        ack()
        ran.append("body")

    guarding(app).command("/issue")(after_ack(issue))
    return app, queue, pool


@pytest.mark.parametrize("faas", [False, True])
def test_process_before_response_runs_the_body_before_answering(faas: bool, fake_slack: FakeSlack) -> None:
    """On FaaS (process_before_response) nothing may run after the response: the body is not deferred."""
    from slack_bolt import BoltRequest

    ran: list[str] = []
    app, _queue, pool = _app_with_marked_listener(faas, ran, fake_slack.url)
    body = command_body(
        command="/issue", text="new X", user_id="UALICE", channel_id="CPROJ", team_id=TEAM,
        response_url="https://hooks.example/r", channel_name="general",
    )  # fmt: skip
    response = app.dispatch(
        BoltRequest(body=body, headers={"content-type": ["application/x-www-form-urlencoded"]})
    )
    assert response.status == 200
    if faas:
        assert ran == ["body"] and pool.waiting == []
    else:
        assert ran == [] and len(pool.waiting) == 1  # queued behind the ack
        pool.run_all()
        assert ran == ["body"]


def test_shutdown_finishes_everything_queued(caplog: pytest.LogCaptureFixture) -> None:
    """A stopping process loses nothing people asked for: the queue is drained before it ends, and says what it
    did (for the operator: how much ran, and how the writes were gathered)."""
    from concurrent.futures import ThreadPoolExecutor

    started = threading.Event()
    release = threading.Event()
    done: list[int] = []
    queue = AfterAck(ThreadPoolExecutor(max_workers=1), workers=1, owns_executor=True)

    def first() -> None:
        started.set()
        release.wait(timeout=5)
        done.append(0)

    queue.submit(first)
    assert started.wait(timeout=5)
    for n in range(1, 6):
        queue.submit(partial(done.append, n))
    queue.redraw(("home", "T", "U1"), lambda: done.append(99))
    release.set()
    with caplog.at_level("INFO", logger="aftercare.after_ack"):
        queue.shutdown()
    assert done == [0, 1, 2, 3, 4, 5, 99]
    (stopped,) = [r for r in caplog.records if r.getMessage() == "post-ack queue stopped"]
    assert (stopped.fields["ran"], stopped.fields["redraws"]) == (7, 1)  # type: ignore[attr-defined]
    queue.submit(lambda: done.append(6))  # after shutdown: still done, in the caller's thread
    assert done[-1] == 6


class _WatchedSlot(threading.Semaphore):
    """A compute slot that says when a drainer found it taken (and so waits for it)."""

    def __init__(self) -> None:
        super().__init__(1)
        self.found_taken = threading.Event()

    def acquire(self, blocking: bool = True, timeout: float | None = None) -> bool:
        got = super().acquire(blocking, timeout)
        if not got:
            self.found_taken.set()
        return got


def test_drainers_compute_one_at_a_time_with_one_slot_and_a_slack_call_gives_it_up() -> None:
    """Many drainers, few computing: the second item waits while the first computes, and runs as soon as the
    first waits for Slack (it would never run if the slot were kept: the first waits for it)."""
    pool = ThreadPoolExecutor(max_workers=2)
    queue = AfterAck(pool, workers=2, computing=1)
    slot = queue._computing = _WatchedSlot()
    computing, at_slack, go_on, second_ran = (threading.Event() for _ in range(4))

    def first() -> None:
        computing.set()
        go_on.wait(timeout=5)
        with waiting_on_slack():
            at_slack.set()
            second_ran.wait(timeout=10)  # the round trip lasts until the second item has run (longer than
            # the test waits for it below)

    queue.submit(first)
    assert computing.wait(timeout=5)
    queue.submit(second_ran.set)
    assert slot.found_taken.wait(timeout=5)  # the second drainer waits for the slot
    assert not second_ran.is_set()
    go_on.set()
    assert at_slack.wait(timeout=5)
    assert second_ran.wait(timeout=5)
    pool.shutdown(wait=True)
    assert queue.stats.ran == 2
    assert queue.stats.failed == 0
    assert queue.stats.slot_waits == 1


def test_an_item_run_from_within_another_runs_in_its_slot() -> None:
    """The queue full, an item runs in the caller's thread; called from an item, it must not wait for a slot."""
    pool = _Manual()
    queue = AfterAck(pool, workers=1, computing=1, capacity=0)
    done: list[str] = []

    def outer() -> None:
        queue.submit(lambda: done.append("inner"))
        done.append("outer")

    queue.submit(outer)
    assert done == ["inner", "outer"]  # capacity 0: both inline, the inner one in the outer one's slot
    assert queue.stats.slot_waits == 0


def _until(condition: Callable[[], bool], timeout: float = 5.0) -> bool:
    deadline = threading.Event()
    for _ in range(int(timeout / 0.005)):
        if condition():
            return True
        deadline.wait(0.005)
    return condition()


def test_concurrent_writes_are_gathered_led_in_turn_and_each_caller_gets_its_own_outcome() -> None:
    """Six items each wait for a write of their own. The first leads and writes alone (it started alone); the
    five that arrive meanwhile lend their compute slots (two slots: without lending, only one could join) and
    are written together, at most four at a time, by the first of them — not by the first leader, who has
    gone back to its own work. An item's failure is raised in that item only."""
    pool = ThreadPoolExecutor(max_workers=6)
    queue = AfterAck(pool, workers=6, computing=2, gather_limit=4)
    writes: list[list[int]] = []
    returned: list[int] = []
    release_first = threading.Event()

    def write(items: list[int]) -> list[object]:
        writes.append(list(items))
        if len(writes) == 1:
            release_first.wait(timeout=10)
        elif len(writes) == 2:
            assert _until(
                lambda: 0 in returned
            )  # the first leader returned before this gathering was written
        return [ValueError(f"item {n} is wrong") if n == 3 else f"written {n}" for n in items]

    def item(number: int) -> None:
        outcome = queue.gather("records", number, write)
        assert outcome == f"written {number}"
        returned.append(number)

    queue.submit(partial(item, 0))
    assert _until(lambda: len(writes) == 1)
    for number in range(1, 6):
        queue.submit(partial(item, number))
    assert _until(lambda: len(queue._gatherings["records"].waiting) == 5)
    release_first.set()
    pool.shutdown(wait=True)

    assert [len(batch) for batch in writes] == [1, 4, 1]
    assert writes[0] == [0] and sorted(writes[1] + writes[2]) == [1, 2, 3, 4, 5]
    assert sorted(returned) == [0, 1, 2, 4, 5]  # item 3 got its own error
    assert (queue.stats.gathered, queue.stats.gatherings, queue.stats.failed) == (6, 3, 1)
    assert (queue.stats.ran, queue._computing._value) == (5, 2)  # every slot given back


def test_a_gathered_write_that_fails_as_a_whole_writes_each_item_alone() -> None:
    """A database error in a gathering costs the other items nothing: each is written again alone."""
    calls: list[list[str]] = []

    def write(items: list[str]) -> list[object]:
        calls.append(list(items))
        if "bad" in items:
            raise RuntimeError("constraint failed")
        return [item.upper() for item in items]

    outcomes = write_gathered(write, ["a", "bad", "c"])
    assert outcomes[0] == "A" and outcomes[2] == "C"
    assert isinstance(outcomes[1], RuntimeError)
    assert calls == [["a", "bad", "c"], ["a"], ["bad"], ["c"]]


def test_without_a_post_ack_queue_a_write_is_done_alone_in_the_caller(project: SlackHarness) -> None:
    services = replace(project.services, after_ack=None)
    assert services.gather("n", 2, lambda items: [n * 10 for n in items]) == 20
    with pytest.raises(ValueError, match="nope"):
        services.gather("n", 2, lambda items: [ValueError("nope") for _ in items])
