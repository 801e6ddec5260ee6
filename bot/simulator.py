"""A local stand-in for Slack: a fake Web API that records every call, and requests signed as Slack signs them.

Used by the test suite (and by ``aftercare demo``); it listens on ``127.0.0.1`` only.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode

from bot import ids
from bot.slack import limits
from bot.slack.block_rules import block_problems, options_problems, view_problems

BOT_USER_ID = "UAFTERCARE"
BOT_ID = "BAFTERCARE"


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
class Channel:
    id: str
    name: str = "general"
    is_private: bool = False
    is_im: bool = False
    is_member: bool = True
    is_ext_shared: bool = False


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


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        return

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        path = self.path.split("?", 1)[0].lstrip("/")
        if path.startswith("upload/"):
            # The second step of files_upload_v2: the file's bytes, as they are.
            self.server.fake.handle(self, "upload", {"_path": path, "_bytes": body})
            return
        raw = body.decode("utf-8")
        content_type = self.headers.get("Content-Type", "")
        if "json" in content_type:
            args = json.loads(raw or "{}")
        else:
            args = {k: v[0] for k, v in parse_qs(raw).items()}
        if path.startswith("response/"):
            method = "response_url"
            args["_path"] = path
        else:
            method = path.removeprefix("api/")
        self.server.fake.handle(self, method, args)

    do_GET = do_POST


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    fake: FakeSlack


class FakeSlack:
    """A Slack Web API on ``127.0.0.1:<port>``; point ``SLACK_API_URL`` at :attr:`url`."""

    def __init__(self) -> None:
        self.state = FakeSlackState()
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.fake = self
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="fake-slack", daemon=True
        )
        self.responders: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {}
        # Slack's clock, for message timestamps; tests that move time point it at their own clock.
        self.clock: Callable[[], float] = time.time
        # Calls refused for breaking Block Kit's rules (method, problems).
        self.invalid: list[tuple[str, list[str]]] = []

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

    def start(self) -> FakeSlack:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

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

    @staticmethod
    def conversation_of(channel: str) -> str:
        return f"D_{channel}" if channel.startswith(("U", "W")) else channel

    def uploads(self, channel: str | None = None) -> list[dict[str, Any]]:
        """Files shared with files_upload_v2 (``filename``, ``title``, ``content`` bytes, ``channel``…)."""
        with self.state.lock:
            files = [dict(f) for f in self.state.files.values() if f.get("channel")]
        if channel is not None:
            files = [f for f in files if f["channel"] == self.conversation_of(channel)]
        return files

    def add_channel(self, channel_id: str, **kwargs: Any) -> Channel:
        channel = Channel(id=channel_id, **kwargs)
        self.state.channels[channel_id] = channel
        return channel

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
        with self.state.lock:
            self.state.calls.append(Call(method=method, args=args, headers=headers))
            queue = self.state.failures.get(method) or []
            failure = queue[0] if queue else None
            if failure:
                failure.times -= 1
                if failure.times <= 0:
                    queue.pop(0)
        accepted: tuple[dict[str, Any], dict[str, str]] | None = None
        if failure:
            if failure.accept:
                accepted = self.answer(method, args)
            if failure.delay:
                time.sleep(failure.delay)
            if failure.status != 200:
                extra = {"Retry-After": str(failure.retry_after)} if failure.retry_after is not None else {}
                self._send(
                    handler,
                    failure.status,
                    {"ok": False, "error": "ratelimited" if failure.status == 429 else "fatal_error"},
                    extra,
                )
                return
            if failure.error:
                self._send(handler, 200, {"ok": False, "error": failure.error})
                return
        body, extra = accepted or self.answer(method, args)
        self._send(handler, 200, body, extra)

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

    def answer(self, method: str, args: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
        if method in self.responders:
            return self.responders[method](args), {}
        state = self.state
        problems = self._problems(method, args)
        if problems:
            with state.lock:
                self.invalid.append((method, problems))
            return {"ok": False, "error": "invalid_blocks", "response_metadata": {"messages": problems}}, {}
        if method == "auth.test":
            return (
                {"ok": True, "url": "https://acme.slack.com/", "team": "Acme", "user": "aftercare",
                 "team_id": state.team_id, "user_id": BOT_USER_ID, "bot_id": BOT_ID},
                {"x-oauth-scopes": ",".join(state.scopes)},
            )  # fmt: skip
        if method == "chat.postMessage":
            channel = str(args.get("channel", ""))
            known = state.channels.get(channel)
            if known and not known.is_member and not channel.startswith(("U", "W", "D")):
                return {"ok": False, "error": "not_in_channel"}, {}
            ts = self._next_ts()
            message = {"type": "message", "ts": ts, "text": args.get("text"), "bot_id": BOT_ID}
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
            return {"ok": True, "channel": args.get("channel"), "ts": args.get("ts")}, {}
        if method == "chat.getPermalink":
            ts = str(args.get("message_ts", "")).replace(".", "")
            return {
                "ok": True,
                "channel": args.get("channel"),
                "permalink": f"https://acme.slack.com/archives/{args.get('channel')}/p{ts}",
            }, {}
        if method == "conversations.info":
            channel_id = str(args.get("channel", ""))
            known = state.channels.get(channel_id)
            if known is None and channel_id.startswith("D"):
                known = Channel(id=channel_id, is_im=True, is_private=True)
            if known is None:
                known = Channel(id=channel_id)
            if known.is_private and not known.is_member and not known.is_im:
                return {"ok": False, "error": "channel_not_found"}, {}
            return {"ok": True, "channel": {"id": known.id, "name": known.name, "is_channel": not known.is_private,
                    "is_private": known.is_private, "is_im": known.is_im, "is_member": known.is_member,
                    "is_ext_shared": known.is_ext_shared}}, {}  # fmt: skip
        if method == "conversations.open":
            users = str(args.get("users", ""))
            return {"ok": True, "channel": {"id": self.conversation_of(users.split(",")[0])}}, {}
        if method == "conversations.history":
            conversation = str(args.get("channel", ""))
            oldest = float(args.get("oldest") or 0)
            with state.lock:
                messages = [m for m in state.history.get(conversation, []) if float(m["ts"]) >= oldest]
            return {
                "ok": True,
                "messages": list(reversed(messages))[: int(args.get("limit") or 100)],
                "has_more": False,
            }, {}
        if method == "conversations.join":
            channel_id = str(args.get("channel", ""))
            known = state.channels.setdefault(channel_id, Channel(id=channel_id))
            if known.is_private:
                return {"ok": False, "error": "method_not_supported_for_channel_type"}, {}
            known.is_member = True
            return {"ok": True, "channel": {"id": channel_id}}, {}
        if method in ("files.getUploadURLExternal", "upload", "files.completeUploadExternal"):
            return self._files(method, args), {}
        if method in ("views.open", "views.publish", "views.update", "views.push"):
            return {"ok": True, "view": {"id": f"V{next(state.ts_counter)}", **(args.get("view") or {})}}, {}
        if method == "oauth.v2.access":
            return (
                {"ok": True, "app_id": "A0001", "authed_user": {"id": "UINSTALLER"}, "scope": ",".join(state.scopes),
                 "token_type": "bot", "access_token": f"xoxb-{args.get('code', 'x')}", "bot_user_id": BOT_USER_ID,
                 "team": {"id": args.get("code", state.team_id), "name": "Workspace"}, "enterprise": None,
                 "is_enterprise_install": False},
                {},
            )  # fmt: skip
        return {"ok": True}, {}

    def _files(self, method: str, args: dict[str, Any]) -> dict[str, Any]:
        """``files_upload_v2``'s three steps: an upload URL on this fake, the bytes, the completion."""
        state = self.state
        if method == "files.getUploadURLExternal":
            if not args.get("filename") or not str(args.get("length") or "").isdigit():
                return {"ok": False, "error": "invalid_arguments"}
            file_id = f"F{next(state.ts_counter):08d}"
            with state.lock:
                state.files[file_id] = {"id": file_id, "filename": str(args["filename"]),
                                        "length": int(args["length"]), "content": None, "channel": None}  # fmt: skip
            return {"ok": True, "file_id": file_id, "upload_url": f"{self.base}upload/{file_id}"}
        if method == "upload":
            with state.lock:
                upload = state.files.get(str(args["_path"]).removeprefix("upload/"))
                if upload is None:
                    return {"ok": False, "error": "file_not_found"}
                upload["content"] = args["_bytes"]
            return {"ok": True}
        listed = args.get("files")
        items = json.loads(listed) if isinstance(listed, str) else (listed or [])
        share_to = str(args.get("channel_id") or "")
        done = []
        with state.lock:
            for item in items:
                upload = state.files.get(str(item.get("id")))
                if upload is None or upload["content"] is None:
                    return {"ok": False, "error": "file_not_found"}
                upload.update(
                    title=item.get("title") or upload["filename"],
                    channel=self.conversation_of(share_to) if share_to else None,
                    initial_comment=args.get("initial_comment"),
                    permalink=f"https://acme.slack.com/files/{BOT_USER_ID}/{upload['id']}/{upload['filename']}",
                )
                done.append({"id": upload["id"], "title": upload["title"], "name": upload["filename"],
                             "permalink": upload["permalink"]})  # fmt: skip
        return {"ok": True, "files": done}


# -- signed requests ---------------------------------------------------------------------


def sign(secret: str, body: str, timestamp: int | None = None) -> dict[str, str]:
    """The headers Slack sends: ``v0=`` HMAC-SHA256 of ``v0:<timestamp>:<body>``."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    digest = hmac.new(secret.encode(), f"v0:{ts}:{body}".encode(), hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": f"v0={digest}"}


def command_body(*, command: str, text: str, user_id: str, channel_id: str, team_id: str,
                 response_url: str, trigger_id: str = "13345224609.738474920.8088930838d88f008e0",
                 channel_name: str = "general") -> str:  # fmt: skip
    """A slash-command request body as Slack sends it (form-encoded)."""
    return urlencode(
        {
            "token": "deprecated-verification-token",
            "team_id": team_id,
            "team_domain": "acme",
            "channel_id": channel_id,
            "channel_name": channel_name,
            "user_id": user_id,
            "user_name": user_id.lower(),
            "command": command,
            "text": text,
            "api_app_id": "A0001",
            "is_enterprise_install": "false",
            "response_url": response_url,
            "trigger_id": trigger_id,
        }
    )


def payload_body(payload: dict[str, Any]) -> str:
    """Interactivity requests carry JSON in a ``payload=`` form field."""
    return urlencode({"payload": json.dumps(payload)})


def event_body(event: dict[str, Any], *, team_id: str, event_id: str = "Ev0001") -> str:
    return json.dumps(
        {
            "token": "deprecated",
            "team_id": team_id,
            "api_app_id": "A0001",
            "event": event,
            "type": "event_callback",
            "event_id": event_id,
            "event_time": int(time.time()),
            "authorizations": [{"team_id": team_id, "user_id": BOT_USER_ID, "is_bot": True}],
        }
    )
