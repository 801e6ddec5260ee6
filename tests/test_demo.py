"""`aftercare demo`: the whole product offline, in English and in Chinese, leaving only its HTML page."""

from __future__ import annotations

import contextlib
import io
import logging
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.cli import main
from bot.demo.script import DemoError, button
from bot.demo.transcript import blocks_html, home_changes, mrkdwn_html, mrkdwn_text
from tests.test_i18n import mixed_punctuation


@dataclass(frozen=True)
class Played:
    out: str  # the terminal transcript
    page: str  # the HTML transcript
    files: list[str]  # what the run left in its working directory
    refused: list[str]  # Slack calls the stand-in refused, as the app logged them

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
        try:
            with contextlib.redirect_stdout(out):
                assert main(["demo", *args]) == 0
        finally:
            gateway_log.removeHandler(refused)
        # Nothing left running: the fake Slack and the listener pool are stopped.
        assert {t.ident for t in threading.enumerate() if t.is_alive()} <= before
    files = sorted(p.name for p in tmp.iterdir())
    page = next(tmp.glob("*.html")).read_text(encoding="utf-8")
    return Played(out=out.getvalue(), page=page, files=files, refused=refused.lines)


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
        "Your answer: 5 / 5",  # the survey answer
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
    assert 'alt="Open vs done per week: W49 open 5 done 2, W50 open 0 done 5, W51 open 0 done 0.' in page


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
    # ACME-2 was logged on Monday 30 November and resolved on Wednesday 2 December (closed on the 8th).
    figures = re.findall(r"Median issue resolution time: (.+)", english.out)
    assert figures == ["2.1 days"] * 4  # two digests, closing form, report


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
    assert "陈静（客户联系人，Asia/Shanghai）" in chinese.out


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
        'alt="每周未完成与已完成：W49 未完成 5 完成 2，W50 未完成 0 完成 5，W51 未完成 0 完成 0。'
        in chinese.page
    )
