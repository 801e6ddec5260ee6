"""A local stand-in for Slack: a fake Web API that records every call, and requests signed as Slack signs them.

Used by the test suite (and by ``aftercare demo``); it listens on ``127.0.0.1`` only.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any, Self

from bot.demo.simulator_content import HISTORY_INTERVAL, HISTORY_PAGE, ContentApi
from bot.demo.simulator_http import SlackHttpServer
from bot.demo.simulator_pacing import SlackPace
from bot.demo.simulator_requests import (
    BOT_ID,
    BOT_USER_ID,
    command_body,
    event_body,
    payload_body,
    sign,
    with_enterprise,
)
from bot.demo.workspace import ANSWERS, Channel, SlackHttpError, User, Workspace
from bot.slack import ids, limits
from bot.slack.block_rules import block_problems, options_problems, view_problems

__all__ = [
    "BOT_ID", "BOT_USER_ID", "HISTORY_INTERVAL", "HISTORY_PAGE", "Call", "Channel", "FakeSlack", "User",
    "block_problems", "command_body", "event_body", "payload_body", "sign", "view_problems", "with_enterprise",
]  # fmt: skip


@dataclass
class Call:
    method: str
    args: dict[str, Any]
    headers: dict[str, str]


@dataclass
class Failure:
    status: int = 200
    error: str | None = None
    retry_after: int | None = None
    delay: float = 0.0
    times: int = 1
    # Slack did the work (the message is posted) but the answer was lost.
    accept: bool = False


@dataclass
class Install:
    """What ``oauth.v2.access`` answers: a workspace install, or an Enterprise Grid one.

    https://docs.slack.dev/reference/methods/oauth.v2.access — an org-wide install has ``team`` null,
    ``enterprise`` set and ``is_enterprise_install`` true; a workspace of a Grid org has both.
    """

    enterprise_id: str | None = None
    enterprise_name: str = "Acme Grid"
    is_enterprise_install: bool = False


@dataclass
class FakeSlackState:
    calls: list[Call] = field(default_factory=list)
    failures: dict[str, list[Failure]] = field(default_factory=dict)
    channels: dict[str, Channel] = field(default_factory=dict)
    team_id: str = "T0001"
    scopes: tuple[str, ...] = tuple(ids.BOT_SCOPES)
    ts_counter: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    lock: threading.Lock = field(default_factory=threading.Lock)
    # Messages as Slack keeps them, per conversation (a DM to U123 lives in D_U123).
    history: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    # Files uploaded with files_upload_v2, by file id: name, title, bytes, and where they were shared.
    files: dict[str, dict[str, Any]] = field(default_factory=dict)
    install: Install = field(default_factory=Install)


class FakeSlack(ContentApi):
    """A Slack Web API on ``127.0.0.1:<port>``; point ``SLACK_API_URL`` at :attr:`url`."""

    def __init__(self) -> None:
        self.state = FakeSlackState()
        self._server = SlackHttpServer(("127.0.0.1", 0), self)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="fake-slack", daemon=True
        )
        self.responders: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {}
        # Slack's clock, for message timestamps and rate limits; tests that move time point it at their own clock.
        self.clock: Callable[[], float] = time.time
        self.workspace = Workspace(
            self.state.team_id,
            self.state.channels,
            scopes=lambda: self.state.scopes,
            clock=lambda: self.clock(),
        )
        self.add_user(BOT_USER_ID, name="aftercare", is_bot=True)
        # Calls refused for breaking Block Kit's rules (method, problems).
        self.invalid: list[tuple[str, list[str]]] = []
        # Rate-limited history reads: when each (workspace, method) was last served, by :attr:`clock`.
        self.history_served: dict[tuple[str, str], float] = {}
        # Workspace of each bot token (any other token is of ``state.team_id``).
        self.token_teams: dict[str, str] = {}
        self._request = threading.local()
        # Slack's pace for chat.postMessage, when asked for (:meth:`pace`).
        self.pacing: SlackPace | None = None

    @staticmethod
    def _problems(method: str, args: dict[str, Any]) -> list[str]:
        def loaded(value: Any) -> Any:
            return json.loads(value) if isinstance(value, str) else value

        if method in ("chat.postMessage", "chat.update", "chat.postEphemeral", "response_url"):
            return block_problems(loaded(args.get("blocks")) or [], max_blocks=limits.MESSAGE_BLOCKS)
        if method in ("views.open", "views.publish", "views.update", "views.push"):
            return view_problems(loaded(args.get("view")) or {})
        return []

    @staticmethod
    def options_problems(response: dict[str, Any]) -> list[str]:
        """What Slack would refuse in an answer to an options (``block_suggestion``) request."""
        return options_problems(response)

    @property
    def base(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/"

    @property
    def url(self) -> str:
        return self.base + "api/"

    def response_url(self, name: str = "r") -> str:
        return f"{self.base}response/{name}"

    def start(self) -> Self:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self.hang_up()

    def hang_up(self) -> None:
        """Close every client's connection, as Slack closes idle ones (clients must open new ones)."""
        self._server.close_connections()

    def open_connections(self) -> int:
        """Connections clients hold open to the stand-in (kept alive between calls)."""
        with self._server.connections_lock:
            return len(self._server.connections)

    # -- scripting -----------------------------------------------------------------
    def fail(self, method: str, *, status: int = 200, error: str | None = None, times: int = 1,
             retry_after: int | None = None, delay: float = 0.0, accept: bool = False) -> None:  # fmt: skip
        """Make the next ``times`` calls of ``method`` fail (HTTP ``status``, Slack ``error`` or a ``delay``).

        With ``accept`` the call still takes effect (a message is posted) before the answer fails.
        """
        with self.state.lock:
            self.state.failures.setdefault(method, []).append(
                Failure(
                    status=status,
                    error=error,
                    retry_after=retry_after,
                    delay=delay,
                    times=times,
                    accept=accept,
                )
            )

    def posted(self, channel: str | None = None) -> list[dict[str, Any]]:
        """Messages that really landed in Slack (including those whose answer was lost)."""
        with self.state.lock:
            if channel is not None:
                return list(self.state.history.get(self.conversation_of(channel), []))
            return [m for messages in self.state.history.values() for m in messages]

    def uploads(self, channel: str | None = None) -> list[dict[str, Any]]:
        """Files shared with files_upload_v2 (``filename``, ``title``, ``content`` bytes, ``channel``…)."""
        with self.state.lock:
            files = [dict(f) for f in self.state.files.values() if f.get("channel")]
        if channel is not None:
            files = [f for f in files if f["channel"] == self.conversation_of(channel)]
        return files

    def private_files(self) -> list[dict[str, Any]]:
        """Files uploaded completely and shared nowhere (a chart shown by an image block)."""
        with self.state.lock:
            return [dict(f) for f in self.state.files.values() if f.get("completed") and not f.get("channel")]

    def add_channel(
        self, channel_id: str, *, members: tuple[str, ...] | list[str] = (), **kwargs: Any
    ) -> Channel:
        """A conversation of the workspace (public, the bot in it, unless told otherwise)."""
        channel = Channel(id=channel_id, members=set(members), **kwargs)
        with self.state.lock:
            self.state.channels[channel_id] = channel
        return channel

    def add_user(self, user_id: str, **kwargs: Any) -> User:
        """A person of this workspace unless ``team_id``/``enterprise_id``/``is_stranger`` say otherwise."""
        kwargs.setdefault("team_id", self.state.team_id)
        user = User(id=user_id, **kwargs)
        with self.state.lock:
            self.workspace.users[user_id] = user
        return user

    def ensure_channel(self, channel_id: str, *, member: str | None = None, name: str = "general") -> Channel:
        """The channel someone acts in exists (a public one the bot has not joined, unless known); they are in it."""
        with self.state.lock:
            channel = self.workspace.conversation(channel_id)
            if channel is None:
                if channel_id.startswith("D"):
                    channel = Channel(id=channel_id, is_im=True, is_private=True, user=member)
                else:
                    channel = Channel(
                        id=channel_id, name=name, is_private=channel_id.startswith("G"), is_member=False
                    )
                self.state.channels[channel_id] = channel
            if member:
                channel.members.add(member)
            return channel

    def install_team(self, team_id: str) -> None:
        """The app is installed in ``team_id`` too (multi-workspace mode): its people are reachable by DM."""
        with self.state.lock:
            self.workspace.teams.add(team_id)

    def record_message(self, channel: str, message: dict[str, Any]) -> None:
        """A message someone posted (not the bot), as Slack keeps it; once per ``ts``."""
        with self.state.lock:
            messages = self.state.history.setdefault(self.conversation_of(channel), [])
            if message.get("ts") and all(m.get("ts") != message["ts"] for m in messages):
                messages.append(dict(message))

    def ensure_user(self, user_id: str, *, team_id: str | None = None) -> User:
        """Someone who acts or is mentioned exists: a member of ``team_id`` (this workspace) unless known."""
        with self.state.lock:
            known = self.workspace.users.get(user_id)
        return known or self.add_user(user_id, team_id=team_id or self.state.team_id)

    def script_install(self, *, enterprise_id: str | None, is_enterprise_install: bool = False,
                       enterprise_name: str = "Acme Grid") -> None:  # fmt: skip
        """Make ``oauth.v2.access`` answer an Enterprise Grid install (org-wide with ``is_enterprise_install``)."""
        self.state.install = Install(enterprise_id, enterprise_name, is_enterprise_install)
        self.workspace.enterprise_id = enterprise_id

    def pace(self, *, channel_interval: float = 1.0, workspace_rate: float = 50.0) -> SlackPace:
        """Pace ``chat.postMessage`` as Slack does (one a second per channel, ``workspace_rate`` a second per
        workspace; 429 with ``Retry-After`` beyond), by :attr:`clock`. Returns the pace: its ``posted``
        instants and ``refused`` counts."""
        self.pacing = SlackPace(
            lambda: self.clock(), channel_interval=channel_interval, workspace_rate=workspace_rate
        )
        return self.pacing

    # -- inspection ----------------------------------------------------------------
    @property
    def calls(self) -> list[Call]:
        with self.state.lock:
            return list(self.state.calls)

    def calls_to(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    def reset_calls(self) -> None:
        with self.state.lock:
            self.state.calls.clear()

    def wait_for(self, predicate: Callable[[list[Call]], bool], timeout: float = 5.0) -> list[Call]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            calls = self.calls
            if predicate(calls):
                return calls
            time.sleep(0.01)
        raise AssertionError(
            f"fake Slack did not see the expected calls; saw {[c.method for c in self.calls]}"
        )

    # -- serving -------------------------------------------------------------------
    def _next_ts(self) -> str:
        """Message timestamps as Slack makes them: seconds of Slack's clock (:attr:`clock`), unique."""
        return f"{int(self.clock())}.{next(self.state.ts_counter):06d}"

    def handle(self, handler: BaseHTTPRequestHandler, method: str, args: dict[str, Any]) -> None:
        headers = {k.lower(): v for k, v in handler.headers.items()}
        self._request.headers = headers  # the caller's token, for per-workspace rules (this thread only)
        with self.state.lock:
            self.state.calls.append(Call(method=method, args=args, headers=headers))
            queue = self.state.failures.get(method) or []
            failure = queue[0] if queue else None
            if failure:
                failure.times -= 1
                if failure.times <= 0:
                    queue.pop(0)
        token = headers.get("authorization", "").removeprefix("Bearer ") or str(args.get("token") or "")
        if failure is None and method == "chat.postMessage" and self.pacing is not None:
            team = self.token_teams.get(token, self.state.team_id)
            wait = self.pacing.admit(team, self.conversation_of(str(args.get("channel", ""))))
            if (
                wait is not None
            ):  # refused before doing anything (https://docs.slack.dev/apis/web-api/rate-limits)
                self._send(handler, 429, {"ok": False, "error": "ratelimited"}, {"Retry-After": str(wait)})
                return
        accepted: tuple[int, dict[str, Any], dict[str, str]] | None = None
        if failure:
            if failure.accept:
                # Slack did the work; the answer that follows is an error all the same.
                accepted = self._answer_with_status(method, args, token)
            if failure.delay:
                time.sleep(failure.delay)
            if failure.status != 200:
                extra = {"Retry-After": str(failure.retry_after)} if failure.retry_after is not None else {}
                default = "ratelimited" if failure.status == 429 else "fatal_error"
                self._send(handler, failure.status, {"ok": False, "error": failure.error or default}, extra)
                return
            if failure.error:
                # Transient errors (internal_error, fatal_error, service_unavailable, request_timeout, ratelimited)
                # arrive as HTTP 200 with ok: false: https://docs.slack.dev/apis/web-api/#responses
                self._send(handler, 200, {"ok": False, "error": failure.error})
                return
        status, body, extra = accepted or self._answer_with_status(method, args, token)
        self._send(handler, status, body, extra)

    def _answer_with_status(
        self, method: str, args: dict[str, Any], token: str
    ) -> tuple[int, dict[str, Any], dict[str, str]]:
        try:
            body, extra = self.answer(method, args, token=token)
        except SlackHttpError as http:
            return http.status, http.body, http.headers
        # Slack refuses a call over its rate limit with HTTP 429 and Retry-After.
        return (429 if "Retry-After" in extra else 200), body, extra

    def _send(
        self,
        handler: BaseHTTPRequestHandler,
        status: int,
        body: dict[str, Any],
        headers: dict[str, str] | None = None,
    ) -> None:
        payload = json.dumps(body).encode()
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json; charset=utf-8")
        handler.send_header("Content-Length", str(len(payload)))
        for key, value in (headers or {}).items():
            handler.send_header(key, value)
        handler.end_headers()
        handler.wfile.write(payload)

    def answer(
        self, method: str, args: dict[str, Any], *, token: str = ""
    ) -> tuple[dict[str, Any], dict[str, str]]:
        if method in self.responders:
            return self.responders[method](args), {}
        state = self.state
        problems = self._problems(method, args) + self._file_problems(method, args)
        if problems:
            with state.lock:
                self.invalid.append((method, problems))
            return {"ok": False, "error": "invalid_blocks", "response_metadata": {"messages": problems}}, {}
        with state.lock:
            if method in ANSWERS:
                return ANSWERS[method](self.workspace, args, token), {}
            refused = self.workspace.refusal(method, args, token)
        if refused is not None:
            return refused, {}
        if method == "auth.test":
            return (
                {"ok": True, "url": "https://acme.slack.com/", "team": "Acme", "user": "aftercare",
                 "team_id": state.team_id, "user_id": BOT_USER_ID, "bot_id": BOT_ID},
                {"x-oauth-scopes": ",".join(state.scopes)},
            )  # fmt: skip
        if method == "chat.postMessage":
            channel = str(args.get("channel", ""))
            ts = self._next_ts()
            message = {
                "type": "message",
                "ts": ts,
                "text": args.get("text"),
                "bot_id": BOT_ID,
                "user": BOT_USER_ID,
            }
            if args.get("blocks"):
                blocks = args["blocks"]
                message["blocks"] = json.loads(blocks) if isinstance(blocks, str) else blocks
            if args.get("metadata"):
                metadata = args["metadata"]
                message["metadata"] = json.loads(metadata) if isinstance(metadata, str) else metadata
            if args.get("thread_ts"):
                message["thread_ts"] = args["thread_ts"]
            conversation = self.conversation_of(channel)
            with state.lock:
                state.history.setdefault(conversation, []).append(message)
            return {"ok": True, "channel": conversation, "ts": ts, "message": message}, {}
        if method == "chat.postEphemeral":
            return {"ok": True, "message_ts": self._next_ts()}, {}
        if method == "chat.update":
            return self._update(args), {}
        if method == "chat.getPermalink":
            ts = str(args.get("message_ts", "")).replace(".", "")
            return {
                "ok": True,
                "channel": args.get("channel"),
                "permalink": f"https://acme.slack.com/archives/{args.get('channel')}/p{ts}",
            }, {}
        if method == "reactions.get":
            return self._reactions_get(args), {}
        if method in ("conversations.history", "conversations.replies"):
            return self._history(method, args)
        if method == "conversations.members":
            return self._conversations_members(args), {}
        if method == "files.info":
            return self._files_info(args), {}
        if method in ("files.getUploadURLExternal", "upload", "files.completeUploadExternal"):
            return self._files(method, args), {}
        if method in ("views.open", "views.publish", "views.update", "views.push"):
            return {"ok": True, "view": {"id": f"V{next(state.ts_counter)}", **(args.get("view") or {})}}, {}
        if method == "oauth.v2.access":
            return self._oauth(args), {}
        return {"ok": True}, {}

    def _oauth(self, args: dict[str, Any]) -> dict[str, Any]:
        """https://docs.slack.dev/reference/methods/oauth.v2.access (see :class:`Install`)."""
        install = self.state.install
        team = (
            None
            if install.is_enterprise_install
            else {"id": args.get("code", self.state.team_id), "name": "Workspace"}
        )
        enterprise = (
            {"id": install.enterprise_id, "name": install.enterprise_name} if install.enterprise_id else None
        )
        return {"ok": True, "app_id": "A0001", "authed_user": {"id": "UINSTALLER"}, "scope": ",".join(self.state.scopes),
                "token_type": "bot", "access_token": f"xoxb-{args.get('code', 'x')}", "bot_user_id": BOT_USER_ID,
                "team": team, "enterprise": enterprise, "is_enterprise_install": install.is_enterprise_install}  # fmt: skip
