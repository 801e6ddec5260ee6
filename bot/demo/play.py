"""``aftercare demo``: the whole product, offline, with no Slack account.

A local stand-in for the Slack Web API (:class:`bot.demo.simulator.FakeSlack`) on 127.0.0.1, a temporary
SQLite database, and the real app driven by signed requests through three scripted weeks
(:mod:`bot.demo.script`): the customer, Chen, is of another organisation and writes in the project
channel shared with it (Slack Connect); the team works in its internal channel. The scheduler's tick
runs as the clock moves. What each person saw is printed as a transcript and written as an HTML page
(:mod:`bot.demo.transcript`).
Everything started here is stopped before it returns.
"""

from __future__ import annotations

import logging
import secrets
import sys
import tempfile
from datetime import datetime
from pathlib import Path
from typing import TextIO
from zoneinfo import ZoneInfo

from bot.demo import script, transcript
from bot.demo.simulator import BOT_USER_ID, FakeSlack
from bot.domain.people import upsert_member
from bot.ops.settings import Settings
from bot.slack.app import create_app
from bot.slack.services import Services
from storage import migrate
from storage.db import Database

LOCALES = ("en", "zh-CN")
DEFAULT_HTML = "aftercare-demo.html"


def run_demo(locale: str = "en", html_path: Path | str = DEFAULT_HTML, out: TextIO | None = None) -> int:
    """Play the three weeks, print the transcript to ``out`` and write the HTML page; 0 when all went well."""
    if locale not in LOCALES:
        raise ValueError(f"locale must be one of {', '.join(LOCALES)}")
    out = out or sys.stdout
    quiet = ("aftercare", "slack_bolt", "slack_sdk", "alembic", "apscheduler")
    levels = {name: logging.getLogger(name).level for name in quiet}
    for name in quiet:  # the story is the output; the app's own log lines would only interrupt it
        logging.getLogger(name).setLevel(logging.CRITICAL)
    fake = FakeSlack()
    people = [person.user_id for person in script.PEOPLE]
    # Chen is a person of Acme's own organisation (Slack Connect): Slack refuses the bot a DM to her.
    home = {script.CHEN.user_id: script.CHEN_TEAM}
    for person in script.PEOPLE:
        fake.add_user(
            person.user_id,
            real_name=person.name_in(locale),
            tz=person.timezone,
            team_id=home.get(person.user_id, script.TEAM),
        )
    # The project channel is shared with Acme's organisation; Chen writes in it.
    fake.add_channel(script.CHANNEL, name=script.CHANNEL_NAME, members=people, is_ext_shared=True)
    # The internal report channel: the team only, never the customer (else it counts as shared).
    team = [user for user in people if user != script.CHEN.user_id]
    fake.add_channel(script.REPORT, name=script.REPORT_NAME, members=team)
    clock = script.Clock(script.START)
    fake.clock = clock.monotonic
    executor = script.DrainableExecutor("demo-listener", max_workers=4)
    secret = secrets.token_hex(16)
    with tempfile.TemporaryDirectory(prefix="aftercare-demo-") as tmp:
        db = Database(f"sqlite:///{Path(tmp) / 'demo.db'}")
        fake.start()
        try:
            migrate.upgrade(db)
            settings = Settings(
                slack_bot_token="xoxb-demo-token",
                slack_signing_secret=secret,
                slack_api_url=fake.url,
                database_url=str(db.url),
                aftercare_locale=locale,
                aftercare_timezone="UTC",
                _env_file=None,  # type: ignore[call-arg]
            )
            services = Services(settings=settings, db=db, clock=clock)
            with db.write() as session:
                for person in script.TEAM_PEOPLE:  # Chen is not in this workspace's directory
                    upsert_member(
                        session,
                        team_id=script.TEAM,
                        member={
                            "id": person.user_id,
                            "real_name": person.name_in(locale),
                            "tz": person.timezone,
                            "locale": "zh-CN" if locale == "zh-CN" else "en-US",
                        },
                        now=clock.now,
                    )
            app = create_app(services, executor=executor, background=executor)
            driver = script.Driver(fake, services, app, executor, secret)
            driver.teams.update(home)
            driver.shared.add(script.CHANNEL)
            fake.reset_calls()
            driver._mark = 0
            failure: Exception | None = None
            try:
                script.play(driver, locale)
            except script.DemoError as error:
                failure = error
            problems = list(fake.invalid)
            images = {fid: bytes(f["content"]) for fid, f in fake.state.files.items() if f.get("content")}
        finally:
            executor.shutdown(wait=True)
            fake.stop()
            db.dispose()
    names = _names(locale)
    story, shown = _story(driver, names, transcript)

    zh = locale == "zh-CN"

    def when(at: datetime) -> str:
        local = at.astimezone(ZoneInfo("Europe/Berlin"))
        if zh:
            weekday = "一二三四五六日"[local.weekday()]
            return f"{local.month}月{local.day}日 周{weekday} {local:%H:%M}（柏林时间）"
        return local.strftime("%a %d %b %H:%M") + " (Berlin)"

    lines = transcript.terminal_lines(story, names, locale, when)
    title = (
        "Aftercare 演示：售后项目的三周" if zh else "Aftercare demo: three weeks of an after-sales project"
    )
    if zh:
        cast = "，".join(f"{p.name_in(locale)}（{p.title_zh}，{p.timezone}）" for p in script.PEOPLE)
    else:
        cast = ", ".join(f"{p.name} ({p.title}, {p.timezone})" for p in script.PEOPLE)
    cast += (
        f"。#{script.CHANNEL_NAME} 通过 Slack Connect 与 Acme 共享；#{script.REPORT_NAME} 仅团队可见。"
        if zh
        else f". #{script.CHANNEL_NAME} is shared with Acme (Slack Connect); #{script.REPORT_NAME} is the team's own."
    )
    print(title, file=out)
    print(cast, file=out)
    for line in lines:
        print(line, file=out)
    target = Path(html_path)
    target.write_text(
        transcript.render_html(
            shown, names, title=title, subtitle=cast, locale=locale, when=when, images=images
        ),
        encoding="utf-8",
    )
    print("", file=out)
    counts = _counts(shown, names, locale, transcript)
    print(("每个界面显示的内容：" if zh else "What each surface showed: ") + counts, file=out)
    # No timing here: two runs of the story print the same bytes.
    if zh:
        print(f"HTML 记录已写入 {target}（已全部停止运行，没有遗留进程）。", file=out)
    else:
        print(f"HTML transcript written to {target} (nothing left running).", file=out)
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)
    if failure is not None:
        print(f"aftercare: the demo stopped early: {failure}", file=sys.stderr)
        return 1
    if problems:
        print(
            f"aftercare: Slack would have refused {len(problems)} message(s): {problems[:3]}", file=sys.stderr
        )
        return 1
    return 0


def _names(locale: str) -> dict[str, str]:
    """Display names of the cast, the channels and the bot, as the transcript shows them."""
    names: dict[str, str] = {p.user_id: p.name_in(locale) for p in script.PEOPLE}
    names.update(
        {script.CHANNEL: script.CHANNEL_NAME, script.REPORT: script.REPORT_NAME, BOT_USER_ID: "Aftercare"}
    )
    return names


def _story(driver, names, transcript):  # type: ignore[no-untyped-def]
    story = []
    shown = []
    for step in driver.steps:
        actor = names.get(step.actor or "", step.actor or "")
        if step.actor and step.narration:
            # What the person typed, as Slack shows it: <@UBOB|bob> reads @Bob Keller.
            said = transcript.mrkdwn_text(step.narration, names, mrkdwn=False)
            colon = "：" if driver.services.default_locale == "zh-CN" else ": "
            headline = f"{actor}{colon}{said}"
        elif step.actor:
            headline = ""
        else:
            headline = "⏰ " + (
                "定时任务" if driver.services.default_locale == "zh-CN" else "scheduled jobs run"
            )
        items = []
        # App Homes are redrawn by listener threads in whatever order they finish: they come
        # after what the step posted, person by person, so two runs tell the story identically.
        calls = sorted(
            step.calls,
            key=lambda c: (
                c.method == "views.publish",
                str(c.args.get("user_id", "")) if c.method == "views.publish" else "",
            ),
        )
        for call in calls:
            item = transcript.shown_by(
                call,
                at=step.at,
                actor=step.actor,
                narration=headline,
                names=names,
                response_to=driver.responses.get,
            )
            if item is not None:
                items.append(item)
        if items or (step.actor and step.narration):
            story.append((step.at, headline if step.actor is None or step.narration else f"{actor}", items))
        shown += items
    return story, shown


def _counts(shown, names, locale, transcript):  # type: ignore[no-untyped-def]
    seen: dict[tuple[str, str], int] = {}
    for item in shown:
        seen[item.surface] = seen.get(item.surface, 0) + 1
    return ("；" if locale == "zh-CN" else "; ").join(
        f"{transcript.surface_label(s, names, locale)} {n}" for s, n in seen.items()
    )


__all__ = ["DEFAULT_HTML", "LOCALES", "run_demo"]
