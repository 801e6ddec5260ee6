"""Drive the real Bolt app with requests signed as Slack signs them, against the fake Web API."""

from __future__ import annotations

import contextlib
import io
import json
import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from threading import Lock
from typing import Any

import pytest
from slack_bolt import Ack, BoltContext
from sqlalchemy import event, select

from bot.delivery.base import JobContext
from bot.delivery.runner import Runner, RunReport, job_client_factory
from bot.demo.clock import Clock, DrainableExecutor
from bot.demo.simulator import FakeSlack, command_body, event_body, payload_body, sign
from bot.jobs import JOBS
from bot.ops.settings import Settings
from bot.slack.app import create_app
from bot.slack.server import AftercareWSGI
from bot.slack.services import Services
from storage.db import Database
from storage.models import Record

SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5".replace("y", "e").replace("z", "f")
TEAM = "T0001"


@dataclass
class Response:
    status: int
    body: str
    headers: dict[str, str] = field(default_factory=dict)

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


# The instant every harness starts at unless a test sets its own: tests never read the wall clock.
HARNESS_NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)

# People of the test workspace (T0001): the team the tests' stories are about. Anyone else who acts, or is
# mentioned, joins on the way (see SlackHarness); customers of another organisation are declared by the test.
CAST = ("UALICE", "UBOB", "UCAROL", "UCHEN", "UDAVE", "UEVE", "UADMIN", "UZHANG", "ULATE", "UNY", "UBERLIN")
_MENTION = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>")


def seed_workspace(fake: FakeSlack) -> None:
    """The workspace every test starts with: :data:`CAST`, all of them members of it."""
    for user in CAST:
        fake.ensure_user(user)


def joined(fake: FakeSlack, *channels: str) -> None:
    """Public channels of the workspace the bot joined earlier (a project linked before the test began)."""
    for channel in channels:
        fake.add_channel(channel, name=channel.lower(), members=CAST)


class SlackHarness:
    def __init__(
        self,
        fake: FakeSlack,
        db: Database,
        *,
        settings: Settings | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.fake = fake
        self.db = db
        self.settings = settings or Settings(
            slack_bot_token="xoxb-test-token",
            slack_signing_secret=SIGNING_SECRET,
            slack_api_url=fake.url,
            database_url=str(db.url),
            _env_file=None,  # type: ignore[call-arg]
        )
        # What the app's client waited out (rate limits, retries): recorded, never slept.
        self.slept: list[float] = []
        self.services = Services(
            settings=self.settings, db=db, clock=clock or (lambda: HARNESS_NOW), sleep=self.slept.append
        )
        seed_workspace(fake)
        self.executor = DrainableExecutor("test-listener")
        # The app's background pool (slow work no ack waits for), drained with the listeners.
        self.background = DrainableExecutor("test-background")
        self.app = create_app(self.services, executor=self.executor, background=self.background)
        self.wsgi = AftercareWSGI(self.app, db)
        self._responses = 0
        self._responses_lock = Lock()  # tests may send requests from several threads at once

    # -- raw requests ------------------------------------------------------------------
    def request(self, method: str, path: str, body: str = "", headers: dict[str, str] | None = None,
                content_type: str = "application/x-www-form-urlencoded", query: str = "") -> Response:  # fmt: skip
        raw = body.encode()
        environ: dict[str, Any] = {
            "REQUEST_METHOD": method,
            "PATH_INFO": path,
            "QUERY_STRING": query,
            "SERVER_NAME": "localhost",
            "SERVER_PORT": "3000",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "wsgi.url_scheme": "http",
            "wsgi.input": io.BytesIO(raw),
            "CONTENT_LENGTH": str(len(raw)),
            "CONTENT_TYPE": content_type,
        }
        for key, value in (headers or {}).items():
            environ["HTTP_" + key.upper().replace("-", "_")] = value
        status: list[str] = []
        response_headers: dict[str, str] = {}

        def start_response(s: str, headers: Any, _exc: Any = None) -> None:
            status.append(s)
            for key, value in headers:
                response_headers[key.lower()] = value

        chunks = self.wsgi(environ, start_response)
        text = b"".join(chunks).decode()
        self.drain()
        return Response(status=int(status[0].split()[0]), body=text, headers=response_headers)

    def use_clock(self, clock: Clock) -> Clock:
        """The bot's and Slack's time from now on: ``clock``, which moves only when the test moves it."""
        self.services.clock = clock
        self.fake.clock = clock.monotonic
        return clock

    def drain(self) -> None:
        """Wait for the listeners' work after ``ack()``, then for what they left to the background pool."""
        self.executor.drain()
        self.background.drain()

    def close(self) -> None:
        self.executor.shutdown(wait=True)
        self.background.shutdown(wait=True)

    def post_signed(self, body: str, *, content_type: str = "application/x-www-form-urlencoded",
                    secret: str = SIGNING_SECRET, timestamp: int | None = None,
                    extra_headers: dict[str, str] | None = None) -> Response:  # fmt: skip
        headers = sign(secret, body, timestamp)
        headers.update(extra_headers or {})
        return self.request("POST", "/slack/events", body, headers, content_type)

    # -- Slack surfaces ----------------------------------------------------------------
    def next_response_url(self) -> str:
        with self._responses_lock:
            self._responses += 1
            number = self._responses
        return self.fake.response_url(str(number))

    def acting(self, user: str, team: str, channel: str | None = None, *, channel_name: str = "general",
               mentioned: str = "") -> None:  # fmt: skip
        """Someone can only act in a channel that exists, as a person Slack knows, mentioning people who exist.

        The channel, when new to the stand-in, is a public channel the bot has not joined; the person is in it.
        """
        self.fake.install_team(team)
        self.fake.ensure_user(user, team_id=team)
        for mention in _MENTION.findall(mentioned):
            self.fake.ensure_user(mention, team_id=team)
        if channel:
            self.fake.ensure_channel(channel, member=user, name=channel_name)

    def command(self, command: str, text: str, *, user: str = "UALICE", channel: str = "CPROJ",
                team: str = TEAM, channel_name: str = "general") -> Response:  # fmt: skip
        self.acting(user, team, channel, channel_name=channel_name, mentioned=text)
        body = command_body(
            command=command, text=text, user_id=user, channel_id=channel, team_id=team,
            response_url=self.next_response_url(), channel_name=channel_name,
        )  # fmt: skip
        return self.post_signed(body)

    def interact(self, payload: dict[str, Any]) -> Response:
        return self.post_signed(payload_body(payload))

    def event(self, event: dict[str, Any], *, team: str = TEAM, event_id: str = "Ev0001",
              enterprise_id: str | None = None, is_enterprise_install: bool = False,
              source_team: str | None = None, ext_shared: bool = False) -> Response:  # fmt: skip
        """An Events API delivery. Its channel exists (the author in it); a message lands in Slack's history.

        An author is made known only with ``user_team`` (their organisation); otherwise who they are is the test's
        business (a customer of another organisation is never made a member).
        """
        channel = event.get("channel") or (event.get("item") or {}).get("channel")
        author_team = event.get("user_team")
        if isinstance(event.get("user"), str) and isinstance(author_team, str):
            self.fake.ensure_user(
                event["user"], team_id=author_team
            )  # Slack Connect events name the author's team
        if isinstance(channel, str) and channel:
            author = event.get("user")
            self.fake.ensure_channel(channel, member=author if isinstance(author, str) else None)
            if event.get("type") == "message" and event.get("ts") and not event.get("subtype"):
                self.fake.record_message(
                    channel, {k: v for k, v in event.items() if k not in ("channel", "event_ts")}
                )
            item = event.get("item") or {}
            if event.get("type") == "reaction_added" and isinstance(author, str) and item.get("ts"):
                self.fake.add_reaction(channel, str(item["ts"]), str(event.get("reaction")), author)
        body = event_body(
            event, team_id=team, event_id=event_id, enterprise_id=enterprise_id,
            is_enterprise_install=is_enterprise_install, source_team=source_team, ext_shared=ext_shared,
        )  # fmt: skip
        return self.post_signed(body, content_type="application/json")

    def message_shortcut(self, callback_id: str, message: dict[str, Any], *, user: str = "UALICE",
                         channel: str = "CPROJ", team: str = TEAM) -> Response:  # fmt: skip
        self.acting(user, team, channel)
        self.fake.record_message(channel, {"type": "message", **message})
        return self.interact(
            {
                "type": "message_action",
                "callback_id": callback_id,
                "trigger_id": "trigger-123",
                "message_ts": message["ts"],
                "team": {"id": team, "domain": "acme"},
                "user": {"id": user, "username": user.lower(), "team_id": team},
                "channel": {"id": channel, "name": "general"},
                "message": {"type": "message", **message},
                "response_url": self.next_response_url(),
                "token": "deprecated",
                "is_enterprise_install": False,
            }
        )

    def submit_view(self, view: dict[str, Any], values: dict[str, dict[str, Any]], *, user: str = "UALICE",
                    team: str = TEAM) -> Response:  # fmt: skip
        """Submit a modal the bot opened, with ``values`` as ``{block_id: {action_id: element_state}}``."""
        self.acting(user, team)
        for block in values.values():
            for state in block.values():
                chosen = state.get("selected_users") or [state.get("selected_user")]
                for person in chosen if isinstance(chosen, list) else []:
                    if isinstance(person, str) and person:
                        self.fake.ensure_user(person, team_id=team)
        submitted = {**view, "id": "V123", "team_id": team, "state": {"values": values}}
        return self.interact(
            {
                "type": "view_submission",
                "team": {"id": team, "domain": "acme"},
                "user": {"id": user, "username": user.lower(), "team_id": team},
                "view": submitted,
                "api_app_id": "A0001",
                "token": "deprecated",
                "trigger_id": "trigger-456",
                "is_enterprise_install": False,
            }
        )

    # -- what the person saw -----------------------------------------------------------
    def ephemeral_texts(self) -> list[str]:
        return [str(c.args.get("text", "")) for c in self.fake.calls_to("response_url")]

    def last_ephemeral(self) -> str:
        texts = self.ephemeral_texts()
        assert texts, f"no ephemeral reply; calls: {[c.method for c in self.fake.calls]}"
        return texts[-1]

    def opened_view(self) -> dict[str, Any]:
        calls = self.fake.calls_to("views.open")
        assert calls, "no modal was opened"
        view = calls[-1].args["view"]
        return json.loads(view) if isinstance(view, str) else view

    def records(self) -> list[Record]:
        with self.db.read() as session:
            return list(session.scalars(select(Record).order_by(Record.id)))


def job_runner(
    harness: SlackHarness, clock: Clock | datetime, *, db: Database | None = None, workers: int = 1
) -> Runner:
    """A job runner as ``aftercare jobs run`` builds one, on the harness's settings and database (or ``db``).

    At a fixed instant, the runner's pauses take no time. On a :class:`Clock`, the runner, the jobs and the
    stand-in Slack all read that clock, and the runner's pauses move it on.
    """
    now: Callable[[], datetime]
    sleep: Callable[[float], None]
    monotonic: Callable[[], float]
    if isinstance(clock, Clock):
        harness.fake.clock = clock.monotonic
        now, sleep, monotonic = clock, clock.sleep, clock.monotonic
    else:
        instant = clock
        now, sleep, monotonic = (lambda: instant), (lambda _s: None), (lambda: 0.0)
    services = Services(settings=harness.settings, db=db or harness.db, clock=now)
    return Runner(services, job_client_factory(services), sleep=sleep, monotonic=monotonic, workers=workers)


def run_job(harness: SlackHarness, name: str, now: datetime) -> RunReport:
    """``aftercare jobs run NAME --now NOW``, in process (Slack's pauses take no time)."""
    runner = job_runner(harness, now)
    job = JOBS[name]
    planner = job.load()
    assert planner is not None
    ctx = JobContext(now=now)
    prepare = job.load_prepare()
    if prepare is not None:  # as the command does: the job's preparation, then its plan and sends
        prepare(runner.services, runner.client_for, ctx)
    return runner.run([planner], ctx, kinds=job.kinds)


def answer_first_two_together(
    harness: SlackHarness, monkeypatch: pytest.MonkeyPatch, method: str = "chat.postMessage"
) -> list[bool]:
    """Slack answers the first two calls of ``method`` only once both have arrived (two in flight at once).

    Returns a list that gets True for each of the two answered together; a broken barrier (5 s: only one
    post ever came) adds nothing, for the test's asserts to say so.
    """
    both = threading.Barrier(2, timeout=5)
    seen: list[int] = []
    overlapped: list[bool] = []
    lock = Lock()
    original = harness.fake.answer
    held = method

    def answer(method: str, args: dict[str, Any], *, token: str = "") -> Any:
        if method == held:
            with lock:
                seen.append(1)
                first_two = len(seen) <= 2
            if first_two:
                with contextlib.suppress(threading.BrokenBarrierError):
                    both.wait()
                    overlapped.append(True)
        return original(method, args, token=token)

    monkeypatch.setattr(harness.fake, "answer", answer)
    return overlapped


def find_button(blocks: list[dict[str, Any]], action_id: str, verb: str | None = None) -> dict[str, Any]:
    """The button with ``action_id`` (and ``verb`` in its value) among a message's blocks."""
    for block in blocks:
        for element in block.get("elements", []) if block.get("type") == "actions" else []:
            if element.get("action_id") != action_id and element.get("action_id") != f"{action_id}:{verb}":
                continue
            if verb is None or json.loads(element["value"]).get("verb") == verb:
                return element
    raise AssertionError(f"no button {action_id} {verb or ''} in {json.dumps(blocks)[:500]}")


def click(harness: SlackHarness, button: dict[str, Any], *, user: str = "UALICE", channel: str = "CPROJ",
          message_ts: str | None = None, is_ephemeral: bool = False, in_home: bool = False,
          team: str = TEAM) -> Response:  # fmt: skip
    """Click a button as Slack sends it: a ``block_actions`` payload."""
    harness.acting(user, team, None if in_home else channel)
    payload: dict[str, Any] = {
        "type": "block_actions",
        "team": {"id": team, "domain": "acme"},
        "user": {"id": user, "username": user.lower(), "team_id": team},
        "api_app_id": "A0001",
        "token": "deprecated",
        "trigger_id": "trigger-789",
        "actions": [{**button, "block_id": "b", "type": "button", "action_ts": "1790000000.1"}],
        "is_enterprise_install": False,
    }
    if in_home:
        payload["container"] = {"type": "view", "view_id": "VHOME"}
        payload["view"] = {"id": "VHOME", "type": "home", "team_id": team, "blocks": []}
    else:
        payload["container"] = {"type": "message", "message_ts": message_ts, "channel_id": channel,
                                "is_ephemeral": is_ephemeral}  # fmt: skip
        payload["channel"] = {"id": channel, "name": "general"}
        payload["message"] = {"type": "message", "ts": message_ts, "text": "card"}
        payload["response_url"] = harness.next_response_url()
    return harness.interact(payload)


@contextmanager
def acked_before(harness: SlackHarness, method: str) -> Iterator[list[bool]]:
    """For each call of ``method`` made inside the block: was the request that led to it acknowledged then?

    Reads the request's own ``Ack`` (no clock involved): a Slack call made before ``ack()`` shows False.
    """
    acks: list[Ack] = []

    def remember(context: BoltContext, next: Callable[[], None]) -> None:
        acks.append(context.ack)
        next()

    harness.app.use(remember)
    seen: list[bool] = []
    fake = harness.fake
    previous = fake.responders.get(method)
    lock = Lock()

    def responder(args: dict[str, Any]) -> dict[str, Any]:
        seen.append(bool(acks) and acks[-1].response is not None)
        if previous is not None:
            return previous(args)
        with lock:  # Slack's ordinary answer, from the fake without this responder
            fake.responders.pop(method, None)
            try:
                return fake.answer(method, args)[0]
            finally:
                fake.responders[method] = responder

    fake.responders[method] = responder
    try:
        yield seen
    finally:
        if previous is None:
            fake.responders.pop(method, None)
        else:
            fake.responders[method] = previous


@contextmanager
def statements(db: Database) -> Iterator[list[str]]:
    """The SQL statements ``db`` executes inside the block, in order."""
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
