"""`aftercare demo`: the whole product offline, in English and in Chinese, leaving only its HTML page."""

from __future__ import annotations

import contextlib
import io
import json
import logging
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from bot.demo.script import DemoError, button
from bot.demo.simulator import Call, FakeSlack
from bot.demo.transcript import blocks_html, home_changes, mrkdwn_html, mrkdwn_text
from bot.ops.cli import main
from bot.slack import ids
from tests.i18n.test_i18n import mixed_punctuation


@dataclass(frozen=True)
class Played:
    out: str  # the terminal transcript
    page: str  # the HTML transcript
    files: list[str]  # what the run left in its working directory
    refused: list[str]  # Slack calls the stand-in refused, as the app logged them
    calls: list[Call] = field(default_factory=list)  # every Slack call the app made, in order

    def step(self, headline: str) -> str:
        """The transcript of the step whose headline contains ``headline`` (up to the next one)."""
        start = self.out.index(headline)
        end = self.out.find("\n── ", start)
        return self.out[start : end if end != -1 else len(self.out)]


def _play(tmp: Path, *args: str) -> Played:
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(tmp)
        for name in (
            "SLACK_BOT_TOKEN",
            "SLACK_SIGNING_SECRET",
            "SLACK_APP_TOKEN",
            "DATABASE_URL",
            "SLACK_API_URL",
        ):
            mp.delenv(name, raising=False)
        before = {t.ident for t in threading.enumerate()}
        out = io.StringIO()
        refused = _Recorder()
        gateway_log = logging.getLogger("bot.slack.gateway")
        gateway_log.addHandler(refused)
        fakes: list[FakeSlack] = []
        started = FakeSlack.start

        def start(fake: FakeSlack) -> None:
            fakes.append(fake)
            started(fake)

        mp.setattr(FakeSlack, "start", start)
        try:
            with contextlib.redirect_stdout(out):
                assert main(["demo", *args]) == 0
        finally:
            gateway_log.removeHandler(refused)
        # Nothing left running: the fake Slack and the listener pool are stopped.
        assert {t.ident for t in threading.enumerate() if t.is_alive()} <= before
    files = sorted(p.name for p in tmp.iterdir())
    page = next(tmp.glob("*.html")).read_text(encoding="utf-8")
    [fake] = fakes
    return Played(out=out.getvalue(), page=page, files=files, refused=refused.lines, calls=list(fake.calls))


class _Recorder(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


@pytest.mark.parametrize("story", ["english", "chinese"])
def test_the_stand_in_refuses_no_call_of_the_story(story: str, request: pytest.FixtureRequest) -> None:
    """Every call the story makes is one real Slack would take (e.g. a DM redrawn by its D… id)."""
    assert request.getfixturevalue(story).refused == []


@pytest.fixture(scope="module")
def english(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Played]:
    yield _play(tmp_path_factory.mktemp("en"))


@pytest.fixture(scope="module")
def chinese(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Played]:
    yield _play(tmp_path_factory.mktemp("zh"), "--locale", "zh-CN", "--html", "demo.html")


def test_the_english_demo_plays_all_three_weeks(english: Played) -> None:
    out = english.out
    for expected in (
        "created project ACME",
        "Logged as requirement ACME-1",  # from Chen's message, by the shortcut
        "Excel export of the monthly report",
        "Weekly digest · ACME",
        "You have 1 overdue item",  # the nudge DM
        "DM · Bob Keller",
        "Risk review · ACME",
        "Retrospective: ACME",  # the closing report
        "Your answer (5 / 5) is saved",  # the closing survey's answer, on the card in the channel
        "Survey results · ACME",
        "App Home · Alice Martin",
    ):
        assert expected in out, expected
    # Only the HTML page is left behind: no aftercare.db, no temporary database.
    assert english.files == ["aftercare-demo.html"]
    page = english.page
    assert page.startswith("<!DOCTYPE html>") and "ACME-1" in page and 'class="btn' in page
    # User text with markup is shown, escaped, never as markup.
    assert "&lt;urgent&gt;" in page  # Chen's message, as she typed it
    assert "<b>thank you</b>" not in page and "<urgent>" not in page
    assert "<script" not in page.lower()
    # Three weeks old at its closing, the project's report carries its chart, shown as Slack received it.
    assert '<img src="data:image/png;base64,iVBORw0KGgo' in page
    assert 'alt="Open vs done per week: W49 open 5 done 2, W50 open 0 done 6, W51 open 0 done 0.' in page


def test_two_runs_tell_the_same_story_byte_for_byte(english: Played, tmp_path: Path) -> None:
    again = _play(tmp_path)
    assert again.out == english.out
    assert again.page == english.page


def test_narration_shows_what_the_person_typed_as_slack_displays_it(english: Played) -> None:
    headlines = [line for line in english.out.splitlines() if line.startswith("── ")]
    assert any(
        line.endswith(
            "Alice Martin: /task new Train the finance team on the new report @Bob Keller due:2026-12-03"
        )
        for line in headlines
    )
    assert any("/risk new Customer IT freeze in December delays the rollout @Alice Martin p:3 i:4" in line
               for line in headlines)  # fmt: skip
    assert not [line for line in headlines if "<@" in line or "|bob>" in line]


def test_the_click_narrated_is_the_click_made(english: Played) -> None:
    step = english.step("clicks “Start” on ACME-3 in his App Home")
    assert "ACME-3 Train the finance team on the new report" in step
    assert "Status: in progress" in step
    assert "ACME-2" not in step


def test_button_finds_the_named_records_button_not_the_first() -> None:
    blocks = [
        {"type": "actions", "elements": [
            {"type": "button", "action_id": f"card_move:{verb}", "value": f'{{"key": "{key}", "verb": "{verb}"}}',
             "text": {"type": "plain_text", "text": verb}}
            for verb in ("start", "done")
        ]}
        for key in ("ACME-2", "ACME-3")
    ]  # fmt: skip
    assert '"ACME-3"' in button(blocks, "card_move", "start", key="ACME-3")["value"]
    assert '"ACME-2"' in button(blocks, "card_move", "start")["value"]
    with pytest.raises(DemoError):
        button(blocks, "card_move", "start", key="ACME-9")


def test_forms_show_their_initial_values_in_the_terminal_and_the_page(english: Played) -> None:
    step = english.step("opens /project settings")
    assert "Escalate to owners after (days overdue): [ 3 ]" in step
    assert "Surveys stay open for (days): [ 7 ]" in step
    assert "Overdue nudges: ☑ Remind assignees" in step  # on by default
    assert "Retrospective survey: ☐ Ask the project team too" in step
    page = english.page
    assert 'Escalate to owners after (days overdue)</div><span class="field">3</span>' in page
    assert 'Surveys stay open for (days)</div><span class="field">7</span>' in page
    assert '<label class="check">☑ Remind assignees' in page
    assert '<label class="check">☐ Ask the project team too' in page


def test_an_app_home_is_shown_whole_once_then_by_what_changed(english: Played) -> None:
    out = english.out
    # One full Home per person (its greeting), then only the lines that changed.
    assert out.count("▌ Your after-sales work") == 3
    assert out.count("App Home · Alice Martin (App Home redrawn)") == 1
    step = english.step("clicks “Start” on ACME-3 in his App Home")
    assert "App Home · Bob Keller (what changed on App Home)" in step
    assert "+   Task · Status: in progress · Priority: medium · Due: Thu, Dec 3, 2026" in step
    assert "−   Task · Status: open · Priority: medium · Due: Thu, Dec 3, 2026" in step
    # The page shows each person's Home once per day it changed (Alice's: 5 days, not 15 redraws).
    alice = english.page.split("<h2>App Home · Alice Martin</h2>")[1].split("</section>")[0]
    assert alice.count('class="msg"') == 5


def test_home_changes_lists_added_and_removed_lines_only() -> None:
    assert home_changes(["a", "b", "c"], ["a", "B", "c", "d"]) == ["− b", "+ B", "+ d"]
    assert home_changes(["a"], ["a"]) == []


def test_the_meeting_summary_carries_the_notes_typed(english: Played) -> None:
    step = english.step("/meeting new Kick-off with Acme")
    summary = step[step.index("📝 ACME-6") :]
    assert "Walked through the open points. Finance wants Excel & PDF." in summary
    assert "VAT fix ships before the report export." in summary


def test_the_retrospective_is_titled_once(english: Played) -> None:
    step = english.step("/project close, with a summary and lessons learned")
    post = step[step.index("┌ #acme-internal") :]
    post = post[: post.index("└")]
    assert post.count("Retrospective") == 1
    assert "▌ Retrospective: ACME — Acme Corp after-sales" in post


def test_bob_stays_on_the_project_once_his_work_is_done(english: Played) -> None:
    step = english.step("Bob Keller: clicks “Done” in the reminder")
    assert "+ ▌ My projects (0)" not in step
    assert "+   You are not part of any active project yet." not in english.out.split("/risk close")[0]


def test_no_digest_for_the_week_before_the_project_and_none_quiet_while_work_is_open(english: Played) -> None:
    assert "quiet week" not in english.out
    digests = [line for line in english.out.splitlines() if "Weekly digest · ACME" in line]
    assert len(digests) == 2  # Mondays 7 and 14 December: the project's first and second weeks


def test_the_digest_and_the_retrospective_agree_on_resolution_time(english: Played) -> None:
    # ACME-2 was logged on Monday 30 November 08:00 UTC and resolved on Wednesday 2 December 10:00 (50 h);
    # ACME-9 on Tuesday 8 December 09:00 and resolved the next morning at 07:00 (22 h): the median is 36 h.
    figures = re.findall(r"Median issue resolution time: (.+)", english.out)
    assert figures == ["2.1 days", "36 hours", "36 hours", "36 hours"]  # two digests, closing form, report


def test_the_chinese_demo_speaks_chinese(chinese: Played) -> None:
    out = chinese.out
    assert "ACME" in out and "记录为需求" in out
    page = chinese.page
    assert re.search(r"[\u4e00-\u9fff]", page) and 'lang="zh-CN"' in page
    assert "<script" not in page.lower()
    assert chinese.files == ["demo.html"]


def test_the_chinese_demo_names_the_customer_one_way(chinese: Played) -> None:
    assert "Chen Jing" not in chinese.out and "Chen Jing" not in chinese.page
    assert "@陈静" in chinese.step("/meeting new")  # in the bot's own messages too
    assert "陈静（客户联系人，Acme 公司，Asia/Shanghai）" in chinese.out


def test_the_chinese_narration_names_the_button_as_it_reads(chinese: Played) -> None:
    step = chinese.step("在提醒中点击“完成”")
    assert step  # and the reminder's button reads the same
    assert "[ 完成 ]" in chinese.step("你有 1 项逾期事项")


def test_the_chinese_transcript_is_chinese_to_its_last_line(chinese: Played) -> None:
    last = chinese.out.rstrip("\n").splitlines()[-1]
    assert "；弹窗 · 陈静 1" in chinese.out  # the count of what each surface showed, Chinese too
    assert last.startswith("HTML 记录已写入 demo.html") and not re.search(
        r"[A-Za-z]{3,}", last.replace("HTML", "").replace("demo.html", "")
    )
    # One punctuation convention, the catalogue's: full-width next to Chinese, no space after "。".
    assert mixed_punctuation(chinese.out) == []


def test_slack_text_becomes_safe_html_and_plain_text() -> None:
    names = {"UBOB": "Bob <Keller>"}
    text = "*Bold* _it_ `code` <@UBOB> <https://x.example/a?b=1&c=2|*ACME-1*> &lt;script&gt;alert(1)&lt;/script&gt;"
    rendered = mrkdwn_html(text, names)
    assert "<b>Bold</b>" in rendered and "<i>it</i>" in rendered and "<code>code</code>" in rendered
    assert '<span class="mention">@Bob &lt;Keller&gt;</span>' in rendered
    assert '<a href="https://x.example/a?b=1&amp;c=2">*ACME-1*</a>' in rendered
    assert "&lt;script&gt;" in rendered and "<script>" not in rendered
    assert mrkdwn_text(text, names).startswith("Bold it `code` @Bob <Keller> *ACME-1* <script>")
    button = {
        "type": "actions",
        "elements": [
            {
                "type": "button",
                "text": {"type": "plain_text", "text": "<x>"},
                "style": "primary",
                "action_id": "a",
            }
        ],
    }
    assert (
        blocks_html([button], names)
        == '<div class="b-actions"><span class="btn btn-primary">&lt;x&gt;</span></div>'
    )


def test_the_chinese_demo_shows_its_chart_with_chinese_alt_text(chinese: Played) -> None:
    assert '<img src="data:image/png;base64,iVBORw0KGgo' in chinese.page
    assert (
        'alt="每周未完成与已完成：W49 未完成 5 完成 2，W50 未完成 0 完成 6，W51 未完成 0 完成 0。'
        in chinese.page
    )


# -- the customer's side, in the Slack Connect channel CPROJ ---------------------------------------------------

CHEN, CPROJ = "UCHEN", "CPROJ"


def _blocks(args: dict[str, Any]) -> list[dict[str, Any]]:
    blocks = args.get("blocks") or []
    return json.loads(blocks) if isinstance(blocks, str) else list(blocks)


def _buttons(args: dict[str, Any]) -> set[str]:
    found = set()
    for block in _blocks(args):
        elements = list(block.get("elements") or []) if block.get("type") == "actions" else []
        elements += [block["accessory"]] if block.get("accessory") else []
        found |= {str(e.get("action_id")) for e in elements if e.get("type") in ("button", "overflow")}
    return found


def _posts_in_the_shared_channel(played: Played) -> list[dict[str, Any]]:
    """What everyone in CPROJ sees from the bot: its messages and their updates (not the ephemeral notes)."""
    return [
        c.args
        for c in played.calls
        if c.method in ("chat.postMessage", "chat.update", "files.completeUploadExternal")
        and (c.args.get("channel") == CPROJ or c.args.get("channel_id") == CPROJ)
    ]


@pytest.mark.parametrize("story", ["english", "chinese"])
def test_chen_of_another_organisation_gets_no_dm(story: str, request: pytest.FixtureRequest) -> None:
    played: Played = request.getfixturevalue(story)
    for call in played.calls:
        if call.method in ("chat.postMessage", "chat.scheduleMessage", "files.completeUploadExternal"):
            assert call.args.get("channel") not in (CHEN, f"D_{CHEN}"), call
        if call.method == "conversations.open":
            assert CHEN not in str(call.args.get("users", "")), call
    assert "DM · Chen Jing" not in played.out and "私信 · 陈静" not in played.out
    # She did write, answer the card and the closing survey's: all in the shared channel.
    asked = [c for c in played.calls if c.method == "chat.postMessage" and c.args.get("channel") == CPROJ
             and ids.survey_score_action(5) in json.dumps(_blocks(c.args))]  # fmt: skip
    assert len(asked) == 3  # the satisfaction cards of ACME-2 and ACME-9, the closing survey's card


@pytest.mark.parametrize("story", ["english", "chinese"])
def test_nothing_internal_is_posted_in_the_shared_channel(story: str, request: pytest.FixtureRequest) -> None:
    played: Played = request.getfixturevalue(story)
    posts = _posts_in_the_shared_channel(played)
    survey_buttons = {ids.survey_score_action(n) for n in range(1, 6)} | {ids.ACTION_SURVEY_DETAILS}
    kinds: dict[str, int] = {}
    for args in posts:
        shown = json.dumps({"text": args.get("text"), "blocks": _blocks(args)}, ensure_ascii=False)
        # Only the survey's own buttons: no card of the team (Start, Resolve, Assign to me, triage …).
        assert _buttons(args) <= survey_buttons, shown
        for internal in ("ACME-5", "Risk", "risks", "风险", "Service level", "first response", "targets met",
                         "business minutes", "服务水平", "服务级别", "首次响应", "Workload", "KPI", "Lessons learned",
                         "Log customer requests the day", "客户请求当天就要记录", "经验教训", "Assignee",
                         "负责人", "overdue", "逾期"):  # fmt: skip
            assert internal not in shown, (internal, shown)
        kind = next(
            (name for name, marks in _ALLOWED_IN_CPROJ.items() if any(m in shown for m in marks)), None
        )
        assert kind is not None, f"not a customer post: {shown}"
        kinds[kind] = kinds.get(kind, 0) + 1
    assert kinds == {
        "project created": 1,
        "logged": 3,  # ACME-1 and ACME-2 from the triage cards, ACME-9 from :ticket:
        "thread update": 6,  # ACME-2 resolved and closed; ACME-1 delivered; ACME-9 assigned, resolved, closed
        "satisfaction card": 3,  # ACME-2's, ACME-9's (in their threads) and the closing survey's card
        "customer report": 2,  # the Mondays of weeks 2 and 3
        "closing summary": 1,
    }


_ALLOWED_IN_CPROJ = {  # the customer posts, each told by words of its own (first match wins)
    "project created": ("created project *ACME*", "创建了项目 *ACME*"),  # Alice's /project new, in CPROJ
    "satisfaction card": (ids.survey_score_action(5),),
    "customer report": ("Weekly update", "每周进展"),
    "closing summary": ("is closed: thank you", "已结项：感谢您"),
    "logged": (
        "Logged as requirement ACME-",
        "Logged as issue ACME-",
        "记录为需求 ACME-",
        "记录为问题 ACME-",
    ),
    "thread update": ("Update on ACME-", "进展："),
}


def test_chen_writes_and_the_team_logs_triages_and_answers_in_the_thread(english: Played) -> None:
    out = english.out
    # Her message gets a triage card where only the team sees it; a click logs it and answers her thread.
    step = english.step("Bob Keller: clicks “Log as issue” on the card about Chen's message")
    assert "#acme-aftersales (in thread) — Aftercare\n   │ Logged as issue ACME-2 by @Bob Keller" in step
    assert "#acme-internal (message updated)" in step and "Logged as ACME-2 by @Bob Keller." in step
    cards = out.count("may need tracking.\n")
    assert cards == 4 + 4  # four messages of hers with a card, each card redrawn once decided
    # "thanks!" is an acknowledgement: her message, and nothing of the bot.
    thanks = out.index("│ thanks!")
    assert "Aftercare" not in out[thanks : out.index("\n── ", thanks)]
    # Bob's answer in the thread is the first response: the digest's service-level line counts it.
    assert "#acme-aftersales (in thread) — Bob Keller\n   │ Thanks Chen, we can reproduce it." in out
    assert "1 of 1 targets met (100%) · median first response 25 business minutes (1 issue)" in out
    # The :ticket: reaction logs her later message as an issue, answered in its thread.
    step = english.step("Bob Keller: reacts with 🎫 to Chen's message")
    assert "Logged as issue ACME-9 by @Bob Keller" in step and "Logged as ACME-9 by @Bob Keller." in step
    # Nobody answered by Wednesday afternoon in Shanghai: Bob, its assignee, is warned by DM.
    assert "DM · Bob Keller — Aftercare\n   │ ⏳ Service level at risk: first response due in 1 h." in out
    assert "2 of 2 targets met (100%) · median first response 420 business minutes (1 issue)" in out


def test_chen_answers_on_cards_in_the_shared_channel(english: Played) -> None:
    step = english.step("/issue resolve ACME-2")
    card = step[step.index("📋 ACME-2 Invoice PDF shows the wrong VAT rate has been resolved.") :]
    assert "[ 1 ] [ 2 ] [ 3 ] [ 4 ] [ 5 ] [ Add details ]" in card
    assert "#acme-aftersales (in thread) — Aftercare\n   │ @Chen Jing\n   │ 📋 ACME-2" in step
    answered = english.step("Chen Jing: answers “4” on the card in the thread of ACME-2")
    assert (
        "#acme-aftersales (only visible to Chen Jing)" in answered
        and "Your answer (4 / 5) is saved" in answered
    )
    assert "Issue satisfaction: 4 / 5 (1 answer)" in english.out  # in the next digest, for the team
    # The closing survey reaches her by the card in the project channel, not by DM.
    survey = english.out[english.out.index("📋 Project Acme Corp after-sales has been closed.") - 200 :]
    assert survey.index("┌ #acme-aftersales — Aftercare\n   │ @Chen Jing") < 200
    assert "Chen Jing: answers the survey on the card in the channel: 5" in english.out


def test_the_customer_report_and_the_closing_summary_are_in_the_shared_channel(english: Played) -> None:
    out = english.out
    assert out.count("┌ #acme-aftersales — Aftercare\n   │ ▌ Weekly update · Acme Corp after-sales") == 2
    step = english.step("/project close, with a summary and lessons learned")
    summary = step[step.index("┌ #acme-aftersales — Aftercare") :]
    summary = summary[: summary.index("└")]
    assert "▌ Acme Corp after-sales is closed: thank you" in summary
    assert "VAT fix and Excel export delivered; finance trained." in summary
    assert "Lessons learned" not in summary and "Log customer requests" not in summary
    retrospective = step[step.index("┌ #acme-internal") :]
    assert "Log customer requests the day they come in." in retrospective  # the lessons stay internal


def test_the_chinese_demo_plays_the_customers_side_in_chinese(chinese: Played) -> None:
    out = chinese.out
    assert "Bob Keller：用 🎫 回应陈静的消息" in out
    assert "已由 @Bob Keller 记录为问题 ACME-9" in chinese.step("用 🎫 回应陈静的消息")
    assert "[ 记为问题 ] [ 记为需求 ] [ 忽略 ]" in out
    assert "Open the message" not in out and "打开消息" in out
    assert "陈静：在频道中的调查卡片上回答：5 分" in out
    assert "已结项：感谢您" in out
