"""The demo's own small Slack client side (the test suite has its own harness).

:class:`Driver` signs each request as Slack does, hands it to :class:`bot.slack.server.AftercareWSGI` in-process,
waits for the work listeners do after ``ack()``, and notes which person did what, so the
transcript can show what each of them saw.
"""

from __future__ import annotations

import io
import json
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from slack_bolt import App

from bot.delivery.runner import Runner, job_client_factory
from bot.delivery.scheduler import tick
from bot.demo.cast import CHANNEL, CHANNEL_NAME, REPORT, REPORT_NAME, TEAM
from bot.demo.clock import Clock, DrainableExecutor
from bot.demo.simulator import Call, FakeSlack, command_body, event_body, payload_body, sign
from bot.slack import ids
from bot.slack.server import AftercareWSGI
from bot.slack.services import Services


@dataclass
class Step:
    """One thing a person did (or the clock did), and every Slack call the app made because of it."""

    at: datetime
    actor: str | None
    narration: str
    calls: list[Call] = field(default_factory=list)


class DemoError(Exception):
    """The scripted story could not go on (the app answered unexpectedly)."""


class Driver:
    def __init__(
        self, fake: FakeSlack, services: Services, app: App, executor: DrainableExecutor, secret: str
    ) -> None:
        self.fake = fake
        self.services = services
        if not isinstance(services.clock, Clock):
            raise TypeError("the demo's services run on a bot.demo.clock.Clock")
        self.clock = services.clock
        self.executor = executor
        self.wsgi = AftercareWSGI(app, services.db)
        self.secret = secret
        self.steps: list[Step] = []
        # Slack Connect: the people of another organisation (their home team) and the channels shared with it.
        self.teams: dict[str, str] = {}
        self.shared: set[str] = set()
        # response_url name -> (user, channel) it answers
        self.responses: dict[str, tuple[str, str]] = {}
        self._mark = len(fake.calls)
        self._actor: str | None = None
        self.runner = Runner(
            services, job_client_factory(services), sleep=self.clock.sleep, monotonic=self.clock.monotonic
        )

    # -- steps -----------------------------------------------------------------------------------
    @contextmanager
    def step(self, actor: str | None, narration: str) -> Iterator[Step]:
        self._mark = len(self.fake.calls)
        self._actor = actor
        step = Step(at=self.clock.now, actor=actor, narration=narration)
        try:
            yield step
        finally:
            step.calls += self.fake.calls[self._mark :]
            self.steps.append(step)
            self._mark = len(self.fake.calls)

    def team_of(self, user: str) -> str:
        """The person's home workspace: ours, or the customer's organisation for Chen (Slack Connect)."""
        return self.teams.get(user, TEAM)

    def say(
        self, user: str, text: str, channel: str = CHANNEL, *, thread_ts: str | None = None
    ) -> dict[str, Any]:
        """A person's own message in a channel: it lands in Slack's history and Slack sends the bot the event."""
        # A ts of its own (Slack's are unique per channel), the same in every run of the story.
        ts = f"{int(self.clock.now.timestamp())}.{100000 + len(self.steps):06d}"
        escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")  # as Slack sends it
        message: dict[str, Any] = {"type": "message", "ts": ts, "user": user, "text": escaped}
        if thread_ts:
            message["thread_ts"] = thread_ts
        with self.fake.state.lock:
            self.fake.state.history.setdefault(channel, []).append(message)
        team = self.team_of(user)
        with self.step(user, "") as step:
            step.calls.append(Call(method="human.message", args={"channel": channel, **message}, headers={}))
            # As Slack sends it in a Slack Connect channel: the author's team, the other organisation's
            # top-level team_id when the author is theirs, ``authorizations`` naming this install.
            self.event(
                {**message, "channel": channel, "channel_type": "channel", "user_team": team,
                 "source_team": team, "team": team, "event_ts": ts},
                source_team=team,
            )  # fmt: skip
        return message

    def react(self, user: str, message: dict[str, Any], reaction: str, channel: str = CHANNEL) -> None:
        """``user`` adds the emoji ``reaction`` to ``message`` (Slack keeps it and sends ``reaction_added``)."""
        self.fake.add_reaction(channel, str(message["ts"]), reaction, user)
        self.event(
            {"type": "reaction_added", "user": user, "reaction": reaction, "item_user": message["user"],
             "item": {"type": "message", "channel": channel, "ts": message["ts"]},
             "event_ts": f"{self.clock.now.timestamp():.6f}"},
            source_team=self.team_of(str(message["user"])),
        )  # fmt: skip

    # -- requests --------------------------------------------------------------------------------
    def _post(self, body: str, content_type: str) -> tuple[int, str]:
        raw = body.encode()
        headers = sign(self.secret, body)
        environ: dict[str, Any] = {
            "REQUEST_METHOD": "POST",
            "PATH_INFO": "/slack/events",
            "QUERY_STRING": "",
            "SERVER_NAME": "localhost",
            "SERVER_PORT": "3000",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "wsgi.url_scheme": "http",
            "wsgi.input": io.BytesIO(raw),
            "CONTENT_LENGTH": str(len(raw)),
            "CONTENT_TYPE": content_type,
        }
        for key, value in headers.items():
            environ["HTTP_" + key.upper().replace("-", "_")] = value
        status: list[str] = []

        def start_response(s: str, _headers: Any, _exc: Any = None) -> None:
            status.append(s)

        text = b"".join(self.wsgi(environ, start_response)).decode()
        self.executor.drain(timeout=20.0)
        code = int(status[0].split()[0])
        if code != 200:
            raise DemoError(f"the app answered {code}: {text[:200]}")
        return code, text

    def _response_url(self, user: str, channel: str) -> str:
        name = str(len(self.responses) + 1)
        self.responses[name] = (user, channel)
        return self.fake.response_url(name)

    def _interact(self, payload: dict[str, Any]) -> str:
        return self._post(payload_body(payload), "application/x-www-form-urlencoded")[1]

    def command(self, user: str, command: str, text: str, channel: str = CHANNEL) -> None:
        body = command_body(
            command=command,
            text=text,
            user_id=user,
            channel_id=channel,
            team_id=TEAM,
            response_url=self._response_url(user, channel),
            channel_name={CHANNEL: CHANNEL_NAME, REPORT: REPORT_NAME}.get(channel, "general"),
        )
        self._post(body, "application/x-www-form-urlencoded")

    def event(self, event: dict[str, Any], *, source_team: str = TEAM) -> None:
        body = event_body(
            event,
            team_id=TEAM,
            event_id=f"Ev{secrets.token_hex(4)}",
            source_team=source_team,
            ext_shared=event.get("channel", (event.get("item") or {}).get("channel")) in self.shared,
        )
        self._post(body, "application/json")

    def open_home(self, user: str) -> None:
        self.event(
            {
                "type": "app_home_opened",
                "user": user,
                "channel": f"D_{user}",
                "tab": "home",
                "event_ts": f"{self.clock.now.timestamp():.6f}",
            }
        )

    def message_shortcut(
        self, user: str, callback_id: str, message: dict[str, Any], channel: str = CHANNEL
    ) -> None:
        self._interact(
            {
                "type": "message_action",
                "callback_id": callback_id,
                "trigger_id": f"trigger-{secrets.token_hex(4)}",
                "message_ts": message["ts"],
                "team": {"id": TEAM, "domain": "acme"},
                "user": {"id": user, "username": user.lower(), "team_id": self.team_of(user)},
                "channel": {"id": channel, "name": CHANNEL_NAME},
                "message": message,
                "response_url": self._response_url(user, channel),
                "token": "deprecated",
                "is_enterprise_install": False,
            }
        )

    def opened_view(self) -> dict[str, Any]:
        calls = [c for c in self.fake.calls[self._mark :] if c.method in ("views.open", "views.push")]
        if not calls:
            raise DemoError("the app opened no modal")
        view = calls[-1].args["view"]
        return json.loads(view) if isinstance(view, str) else dict(view)

    def submit_view(self, user: str, view: dict[str, Any], **changes: Any) -> None:
        """Submit the modal the app opened: every input as it was prefilled, with ``changes`` by block id."""
        submitted = {
            **view,
            "id": f"V{secrets.token_hex(4)}",
            "team_id": TEAM,
            "state": {"values": form_state(view, changes)},
        }
        answer = self._interact(
            {
                "type": "view_submission",
                "team": {"id": TEAM, "domain": "acme"},
                "user": {"id": user, "username": user.lower(), "team_id": self.team_of(user)},
                "view": submitted,
                "api_app_id": "A0001",
                "token": "deprecated",
                "trigger_id": f"trigger-{secrets.token_hex(4)}",
                "is_enterprise_install": False,
            }
        )
        if answer.strip():
            errors = json.loads(answer).get("errors")
            if errors:
                raise DemoError(f"the form was refused: {errors}")

    def click(
        self, user: str, button: dict[str, Any], *, channel: str | None = None, message_ts: str | None = None
    ) -> None:
        payload: dict[str, Any] = {
            "type": "block_actions",
            "team": {"id": TEAM, "domain": "acme"},
            "user": {"id": user, "username": user.lower(), "team_id": self.team_of(user)},
            "api_app_id": "A0001",
            "token": "deprecated",
            "trigger_id": f"trigger-{secrets.token_hex(4)}",
            "actions": [
                {**button, "block_id": "b", "type": "button", "action_ts": f"{self.clock.monotonic():.6f}"}
            ],
            "is_enterprise_install": False,
        }
        if channel is None:  # a button on the App Home
            payload["container"] = {"type": "view", "view_id": "VHOME"}
            payload["view"] = {"id": "VHOME", "type": "home", "team_id": TEAM, "blocks": []}
        else:
            payload["container"] = {
                "type": "message",
                "message_ts": message_ts,
                "channel_id": channel,
                "is_ephemeral": False,
            }
            payload["channel"] = {"id": channel, "name": CHANNEL_NAME}
            payload["message"] = {"type": "message", "ts": message_ts, "text": ""}
            payload["response_url"] = self._response_url(user, channel)
        self._interact(payload)

    def card_about(self, message: dict[str, Any], channel: str = REPORT) -> dict[str, Any]:
        """The triage card posted in ``channel`` about ``message`` (it links to the message)."""
        link = f"p{str(message['ts']).replace('.', '')}"
        for posted in reversed(self.fake.posted(channel)):
            if link in json.dumps(posted) and any(
                e.get("action_id") in ids.TRIAGE_ACTIONS
                for b in blocks_of(posted) if b.get("type") == "actions" for e in b.get("elements", [])
            ):  # fmt: skip
                return posted
        raise DemoError(f"no triage card in {channel} about the message {message['ts']}")

    def click_card(self, user: str, message: dict[str, Any], action_id: str, channel: str = REPORT) -> None:
        """``user`` clicks ``action_id`` on the triage card about ``message``."""
        card = self.card_about(message, channel)
        self.click(user, button(blocks_of(card), action_id), channel=channel, message_ts=card["ts"])

    # -- the clock ------------------------------------------------------------------------------
    def run_until(self, until: datetime, *, every: timedelta = timedelta(hours=1)) -> None:
        """Move the clock to ``until``, running the scheduler's tick as it goes (one step per job run)."""
        while self.clock.now < until:
            self.clock.at(min(self.clock.now + every, until))
            with self.step(None, "") as step:
                tick(self.services, self.runner)
            if not step.calls:
                self.steps.pop()

    def at(self, when: datetime) -> None:
        self.run_until(when)

    # -- reading what Slack holds --------------------------------------------------------------
    def home_of(self, user: str) -> list[dict[str, Any]]:
        """The blocks of ``user``'s App Home as last published."""
        for call in reversed(self.fake.calls_to("views.publish")):
            if call.args.get("user_id") == user:
                view = call.args["view"]
                return list((json.loads(view) if isinstance(view, str) else view).get("blocks") or [])
        raise DemoError(f"no App Home was published for {user}")

    def last_post(self, channel: str, *, containing: str = "") -> dict[str, Any]:
        for message in reversed(self.fake.posted(channel)):
            if containing in json.dumps(message, ensure_ascii=False):
                return message
        raise DemoError(f"nothing posted in {channel} with {containing!r}")


def form_state(view: dict[str, Any], changes: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """What Slack submits for a modal: each input's initial value, or the change given for its block."""
    values: dict[str, dict[str, Any]] = {}
    for block in view.get("blocks") or []:
        if block.get("type") != "input" or "block_id" not in block:
            continue
        element = block["element"]
        kind = element["type"]
        given = changes.get(block["block_id"], ...)
        state: dict[str, Any] = {"type": kind}
        if kind == "multi_users_select":
            state["selected_users"] = element.get("initial_users", []) if given is ... else given
        elif kind == "users_select":
            state["selected_user"] = element.get("initial_user") if given is ... else given
        elif kind == "conversations_select":
            state["selected_conversation"] = element.get("initial_conversation") if given is ... else given
        elif kind == "static_select":
            if given is ...:
                state["selected_option"] = element.get("initial_option")
            else:
                options = [o for g in element.get("option_groups", []) for o in g["options"]]
                options += element.get("options", [])
                found = [o for o in options if o["value"] == str(given)]
                state["selected_option"] = found[0] if found else {"value": str(given)}
        elif kind == "datepicker":
            state["selected_date"] = element.get("initial_date") if given is ... else given
        elif kind == "timepicker":
            state["selected_time"] = element.get("initial_time") if given is ... else given
        elif kind == "checkboxes":
            if given is ...:
                state["selected_options"] = element.get("initial_options", [])
            else:
                state["selected_options"] = [
                    o for o in element["options"] if given is True or o["value"] in given
                ]
        else:
            state["value"] = element.get("initial_value") if given is ... else given
        values[block["block_id"]] = {element["action_id"]: state}
    return values


def button(
    blocks: list[dict[str, Any]], action_id: str, verb: str | None = None, *, key: str | None = None
) -> dict[str, Any]:
    """The button ``action_id`` (``action_id:verb`` or a value naming ``verb``) among ``blocks``.

    With ``key``, only a button of that record (its value names the key): the narration names
    the record, and the click must be on that record's button, not the first one on the page.
    """
    for block in blocks:
        elements = list(block.get("elements") or []) if block.get("type") == "actions" else []
        if block.get("accessory"):
            elements.append(block["accessory"])
        for element in elements:
            if element.get("type") != "button":
                continue
            try:
                value = json.loads(element.get("value") or "{}")
            except ValueError:
                value = {}
            value = value if isinstance(value, dict) else {}
            if key is not None and value.get("key") != key:
                continue
            found = element.get("action_id")
            if found == f"{action_id}:{verb}":
                return dict(element)
            if found == action_id and (verb is None or value.get("verb") == verb):
                return dict(element)
    raise DemoError(f"no button {action_id} {verb or ''} {key or ''}".rstrip())


def blocks_of(message: dict[str, Any]) -> list[dict[str, Any]]:
    blocks = message.get("blocks") or []
    return json.loads(blocks) if isinstance(blocks, str) else list(blocks)
