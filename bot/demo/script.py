"""The scripted three weeks: real signed requests to the real app, against the local stand-in for Slack.

:class:`Driver` is the demo's own small Slack client side (the test suite has its own harness):
it signs each request as Slack does, hands it to :class:`bot.server.AftercareWSGI` in-process,
waits for the work listeners do after ``ack()``, and notes which person did what, so the
transcript can show what each of them saw.
"""

from __future__ import annotations

import io
import json
import secrets
import threading
import time
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from slack_bolt import App

from bot import ids
from bot.jobs.runner import Runner, job_client_factory
from bot.jobs.scheduler import tick
from bot.server import AftercareWSGI
from bot.services import Services
from bot.simulator import Call, FakeSlack, command_body, event_body, payload_body, sign

TEAM = "T0001"
CHANNEL = "CPROJ"
CHANNEL_NAME = "acme-aftersales"
REPORT = "CREPORT"
REPORT_NAME = "acme-internal"
KEY = "ACME"

# Monday 30 November 2026, 08:00 UTC: 09:00 in Berlin, 16:00 in Shanghai.
START = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Person:
    user_id: str
    name: str
    timezone: str
    title: str
    title_zh: str
    name_zh: str = ""  # the name as the person spells it in Chinese, when it has one

    def name_in(self, locale: str) -> str:
        """The person's Slack display name in the demo played in ``locale`` (one name everywhere)."""
        return self.name_zh if locale == "zh-CN" and self.name_zh else self.name


ALICE = Person("UALICE", "Alice Martin", "Europe/Berlin", "after-sales project owner", "售后项目负责人")
BOB = Person("UBOB", "Bob Keller", "Europe/Berlin", "support engineer", "支持工程师")
CHEN = Person("UCHEN", "Chen Jing", "Asia/Shanghai", "the customer's contact", "客户联系人", name_zh="陈静")
PEOPLE = (ALICE, BOB, CHEN)


class Clock:
    """The bot's, the jobs' and fake Slack's clock; the runner's pacing sleeps advance it instead."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)

    def monotonic(self) -> float:
        return self.now.timestamp()


class DrainableExecutor(ThreadPoolExecutor):
    """The listener pool; after each request the driver waits for the work done after ``ack()``."""

    def __init__(self) -> None:
        super().__init__(max_workers=4, thread_name_prefix="demo-listener")
        self._futures: list[Future[Any]] = []
        self._lock = threading.Lock()

    def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Future[Any]:
        future = super().submit(fn, *args, **kwargs)
        with self._lock:
            self._futures.append(future)
        return future

    def drain(self, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                self._futures = [f for f in self._futures if not f.done()]
                pending = bool(self._futures)
            if not pending:
                return
            if time.monotonic() > deadline:
                raise RuntimeError("the app's listeners did not finish")
            time.sleep(0.002)


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
        self.clock: Clock = services.clock  # type: ignore[assignment]
        self.executor = executor
        self.wsgi = AftercareWSGI(app, services.db)
        self.secret = secret
        self.steps: list[Step] = []
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

    def say(self, user: str, text: str, channel: str = CHANNEL) -> dict[str, Any]:
        """A person's own message in a channel (it is in Slack's history; the bot is not involved)."""
        # A ts of its own (Slack's are unique per channel), the same in every run of the story.
        ts = f"{int(self.clock.now.timestamp())}.{100000 + len(self.steps):06d}"
        escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")  # as Slack sends it
        message = {"type": "message", "ts": ts, "user": user, "text": escaped}
        with self.fake.state.lock:
            self.fake.state.history.setdefault(channel, []).append(message)
        self.steps.append(
            Step(
                at=self.clock.now,
                actor=user,
                narration="",
                calls=[Call(method="human.message", args={"channel": channel, **message}, headers={})],
            )
        )
        return message

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
        self.executor.drain()
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
            channel_name=CHANNEL_NAME if channel == CHANNEL else "general",
        )
        self._post(body, "application/x-www-form-urlencoded")

    def event(self, event: dict[str, Any]) -> None:
        body = event_body(event, team_id=TEAM, event_id=f"Ev{secrets.token_hex(4)}")
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
                "user": {"id": user, "username": user.lower(), "team_id": TEAM},
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
                "user": {"id": user, "username": user.lower(), "team_id": TEAM},
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
            "user": {"id": user, "username": user.lower(), "team_id": TEAM},
            "api_app_id": "A0001",
            "token": "deprecated",
            "trigger_id": f"trigger-{secrets.token_hex(4)}",
            "actions": [{**button, "block_id": "b", "type": "button", "action_ts": f"{time.time():.6f}"}],
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

    # -- the clock ------------------------------------------------------------------------------
    def run_until(self, until: datetime, *, every: timedelta = timedelta(hours=1)) -> None:
        """Move the clock to ``until``, running the scheduler's tick as it goes (one step per job run)."""
        while self.clock.now < until:
            self.clock.now = min(self.clock.now + every, until)
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


def _say(locale: str, en: str, zh: str) -> str:
    return zh if locale == "zh-CN" else en


def day(d: int, hour: int = 8, minute: int = 0) -> datetime:
    """``d`` days after the start, at ``hour``:``minute`` UTC."""
    return datetime.combine(START.date() + timedelta(days=d), datetime.min.time(), tzinfo=UTC).replace(
        hour=hour, minute=minute
    )


def iso(d: int) -> str:
    return (START.date() + timedelta(days=d)).isoformat()


def play(driver: Driver, locale: str) -> None:
    """Three weeks of an after-sales project, from kick-off to the closing survey."""
    z = locale == "zh-CN"
    a, b, c = ALICE.user_id, BOB.user_id, CHEN.user_id

    # -- Monday, week 1 -------------------------------------------------------------------------
    name = "Acme 售后服务" if z else "Acme Corp after-sales"
    with driver.step(a, f"/project new {KEY} {name}"):
        driver.command(a, "/project", f"new {KEY} {name}")
    with driver.step(
        a,
        _say(
            locale,
            "opens /project settings: Chen as customer contact, "
            "#acme-internal for reports, Shanghai time, surveys open 3 days",
            "打开 /project settings：陈静为客户联系人，报告发到 #acme-internal，上海时间，调查开放 3 天",
        ),
    ):
        driver.command(a, "/project", "settings")
        driver.submit_view(
            a,
            driver.opened_view(),
            customer_contacts=[c],
            report_channel=REPORT,
            timezone="Asia/Shanghai",
            survey_open_days="3",
        )

    export = driver.say(
        c,
        _say(
            locale,
            "Could the monthly report be exported to Excel? Our finance team needs it by the 10th.",
            "月度报告能导出成 Excel 吗？我们财务部 10 号之前要用。",
        ),
    )
    with driver.step(
        a,
        _say(
            locale,
            "uses the “Log as requirement” shortcut on Chen's message",
            "对陈静的消息使用“记录为需求”快捷方式",
        ),
    ):
        driver.message_shortcut(a, ids.SHORTCUT_LOG_REQUIREMENT, export)
        driver.submit_view(
            a,
            driver.opened_view(),
            **{
                ids.BLOCK_TITLE: _say(locale, "Excel export of the monthly report", "月度报告导出 Excel"),
                ids.BLOCK_ASSIGNEE: b,
                ids.BLOCK_DUE: iso(9),
            },
        )

    vat = driver.say(
        c,
        _say(
            locale,
            "Since the update the invoice PDF shows 16% VAT instead of 19% <urgent>.",
            "更新后发票 PDF 上的增值税显示为 16%，应该是 19% <紧急>。",
        ),
    )
    with driver.step(
        b, _say(locale, "uses “Log as issue” on Chen's message", "对陈静的消息使用“记录为问题”")
    ):
        driver.message_shortcut(b, ids.SHORTCUT_LOG_ISSUE, vat)
        driver.submit_view(
            b,
            driver.opened_view(),
            **{
                ids.BLOCK_TITLE: _say(
                    locale, "Invoice PDF shows the wrong VAT rate", "发票 PDF 增值税税率错误"
                ),
                ids.BLOCK_ASSIGNEE: b,
            },
        )

    training = _say(locale, "Train the finance team on the new report", "为财务团队培训新报告")
    text = f"new {training} <@{b}|bob> due:{iso(3)}"
    with driver.step(a, f"/task {text}"):
        driver.command(a, "/task", text)
    text = _say(
        locale,
        f"new Migrate last year's invoices <@{a}|alice> due:{iso(10)}",
        f"new 迁移去年的发票 <@{a}|alice> due:{iso(10)}",
    )
    with driver.step(a, f"/task {text}"):
        driver.command(a, "/task", text)
    text = _say(
        locale,
        f"new Customer IT freeze in December delays the rollout <@{a}|alice> p:3 i:4",
        f"new 客户 12 月 IT 冻结导致上线延期 <@{a}|alice> p:3 i:4",
    )
    with driver.step(a, f"/risk {text}"):
        driver.command(a, "/risk", text)

    home = driver.home_of(b)
    with driver.step(
        b, _say(locale, f"clicks “Start” on {KEY}-3 in his App Home", f"在 App Home 中点击 {KEY}-3 的“开始”")
    ):
        driver.click(b, button(home, ids.ACTION_CARD_MOVE, "start", key=f"{KEY}-3"))

    driver.at(day(0, 13))
    kickoff = _say(locale, "Kick-off with Acme", "与 Acme 的启动会")
    with driver.step(a, f"/meeting new {kickoff}"):
        driver.command(a, "/meeting", f"new {kickoff}")
        rows = {
            f"{ids.BLOCK_ITEM_TEXT}_0": _say(locale, "Send the VAT fix plan", "发送增值税修复计划"),
            f"{ids.BLOCK_ITEM_OWNER}_0": b,
            f"{ids.BLOCK_ITEM_DUE}_0": iso(2),
            f"{ids.BLOCK_ITEM_TEXT}_1": _say(locale, "Share three sample invoices", "提供三张样本发票"),
            f"{ids.BLOCK_ITEM_OWNER}_1": c,
            f"{ids.BLOCK_ITEM_DUE}_1": iso(1),
        }
        driver.submit_view(
            a,
            driver.opened_view(),
            **{
                ids.BLOCK_MEETING_DATE: iso(0),
                ids.BLOCK_ATTENDEES: [a, b, c],
                ids.BLOCK_NOTES: _say(
                    locale,
                    "Walked through the open points. Finance wants Excel & PDF.",
                    "逐项过了未决事项。财务需要 Excel 和 PDF。",
                ),
                ids.BLOCK_DECISIONS: _say(
                    locale, "VAT fix ships before the report export.", "先修复增值税，再做报告导出。"
                ),
                **rows,
            },
        )

    with driver.step(a, _say(locale, "opens the Aftercare App Home", "打开 Aftercare 的 App Home")):
        driver.open_home(a)

    # -- the week goes by -----------------------------------------------------------------------
    driver.at(day(1, 9))
    with driver.step(c, "/task done " + f"{KEY}-8"):
        driver.command(c, "/task", f"done {KEY}-8")
    driver.at(day(2, 10))
    with driver.step(b, f"/issue resolve {KEY}-2"):
        driver.command(b, "/issue", f"resolve {KEY}-2")
    with driver.step(b, f"/task done {KEY}-7"):
        driver.command(b, "/task", f"done {KEY}-7")

    # Thursday 10:00 in Shanghai: the weekly risk review.
    driver.at(day(3, 3))
    review = driver.last_post(REPORT, containing=f"{KEY}-5")
    with driver.step(
        a,
        _say(
            locale,
            f"clicks “Still valid” for {KEY}-5 in the risk review",
            f"在风险评审中点击 {KEY}-5 的“仍然有效”",
        ),
    ):
        driver.click(
            a,
            button(blocks_of(review), ids.ACTION_REVIEW_STILL_VALID),
            channel=REPORT,
            message_ts=review["ts"],
        )

    # The training (due Thursday) is not done: Friday 09:00 in Berlin, Bob is nudged.
    driver.at(day(4, 9))
    # Monday of week 2: the digest (09:00 Shanghai), the owner hears of the overdue task, Bob again.
    driver.at(day(7, 9))
    nudge = driver.last_post(b)
    with driver.step(b, _say(locale, "clicks “Done” in the reminder", "在提醒中点击“完成”")):
        driver.click(
            b, button(blocks_of(nudge), ids.ACTION_NUDGE_DONE), channel=f"D_{b}", message_ts=nudge["ts"]
        )

    driver.at(day(8, 9))
    with driver.step(a, f"/req deliver {KEY}-1"):
        driver.command(a, "/req", f"deliver {KEY}-1")
    with driver.step(a, f"/issue close {KEY}-2"):
        driver.command(a, "/issue", f"close {KEY}-2")
    with driver.step(a, f"/task done {KEY}-4"):
        driver.command(a, "/task", f"done {KEY}-4")
    driver.at(day(10, 3))  # the second risk review
    with driver.step(a, f"/risk close {KEY}-5"):
        driver.command(a, "/risk", f"close {KEY}-5")

    # Monday of week 3: the second digest; the Thursday risk review.
    driver.at(day(14, 9))
    driver.at(day(17, 3))

    # -- Friday of week 3: closing (three weeks of history: the report carries its chart) ---------
    driver.at(day(18, 1))
    with driver.step(
        a,
        _say(
            locale, "/project close, with a summary and lessons learned", "/project close，填写总结与经验教训"
        ),
    ):
        driver.command(a, "/project", "close")
        driver.submit_view(
            a,
            driver.opened_view(),
            **{
                ids.BLOCK_CLOSE_SUMMARY: _say(
                    locale,
                    "VAT fix and Excel export delivered; finance trained.",
                    "增值税已修复，Excel 导出已交付，财务已培训。",
                ),
                ids.BLOCK_CLOSE_LESSONS: _say(
                    locale, "Log customer requests the day they come in.", "客户请求当天就要记录。"
                ),
            },
        )

    driver.at(day(18, 3))  # 11:00 in Shanghai: Chen is invited
    invitation = driver.last_post(c)
    with driver.step(c, _say(locale, "answers the survey: 5", "回答调查：5 分")):
        driver.click(
            c,
            button(blocks_of(invitation), ids.survey_score_action(5)),
            channel=f"D_{c}",
            message_ts=invitation["ts"],
        )
    redrawn = [x for x in driver.fake.calls_to("chat.update") if x.args.get("channel") == f"D_{c}"][-1]
    with driver.step(c, _say(locale, "adds a comment to the answer", "为回答补充评论")):
        driver.click(
            c,
            button(blocks_of(redrawn.args), ids.ACTION_SURVEY_DETAILS),
            channel=f"D_{c}",
            message_ts=invitation["ts"],
        )
        driver.submit_view(
            c,
            driver.opened_view(),
            **{
                ids.BLOCK_SURVEY_RECOMMEND: "9",
                ids.BLOCK_SURVEY_COMMENT: _say(
                    locale, "Quick & friendly — <b>thank you</b>!", "响应快，态度好 <b>谢谢</b>！"
                ),
                ids.BLOCK_SURVEY_SIGN: [ids.SURVEY_SIGN_VALUE],
            },
        )

    driver.at(day(21, 9))  # the survey closes; its results go to the team
    with driver.step(a, _say(locale, "opens the App Home once more", "再次打开 App Home")):
        driver.open_home(a)
