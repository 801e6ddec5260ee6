"""`aftercare demo`: the whole product offline, in English and in Chinese, leaving only its HTML page."""

from __future__ import annotations

import re
import threading
from pathlib import Path

import pytest

from bot.cli import main
from bot.demo.transcript import blocks_html, mrkdwn_html, mrkdwn_text


def _run(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *args: str
) -> str:
    monkeypatch.chdir(tmp_path)
    for name in (
        "SLACK_BOT_TOKEN",
        "SLACK_SIGNING_SECRET",
        "SLACK_APP_TOKEN",
        "DATABASE_URL",
        "SLACK_API_URL",
    ):
        monkeypatch.delenv(name, raising=False)
    before = {t.ident for t in threading.enumerate()}
    assert main(["demo", *args]) == 0
    # Nothing left running: the fake Slack and the listener pool are stopped.
    assert {t.ident for t in threading.enumerate() if t.is_alive()} <= before
    return capsys.readouterr().out


def test_the_english_demo_plays_the_whole_fortnight(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = _run(capsys, tmp_path, monkeypatch)
    for expected in (
        "created project ACME",
        "Logged as requirement ACME-1",  # from Chen's message, by the shortcut
        "Excel export of the monthly report",
        "Weekly digest · ACME",
        "You have 1 overdue item",  # the nudge DM
        "DM · Bob Keller",
        "Risk review · ACME",
        "Retrospective · ACME",  # the closing report
        "Your answer: 5 / 5",  # the survey answer
        "Survey results · ACME",
        "App Home · Alice Martin",
    ):
        assert expected in out, expected
    # Only the HTML page is left behind: no aftercare.db, no temporary database.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["aftercare-demo.html"]
    page = (tmp_path / "aftercare-demo.html").read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and "ACME-1" in page and 'class="btn' in page
    # User text with markup is shown, escaped, never as markup.
    assert "&lt;b&gt;thank you&lt;/b&gt;" in page or "&lt;urgent&gt;" in page
    assert "<b>thank you</b>" not in page and "<urgent>" not in page
    assert "<script" not in page.lower()


def test_the_chinese_demo_speaks_chinese(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = _run(capsys, tmp_path, monkeypatch, "--locale", "zh-CN", "--html", "demo.html")
    assert "ACME" in out and "记录为需求" in out
    page = (tmp_path / "demo.html").read_text(encoding="utf-8")
    assert re.search(r"[\u4e00-\u9fff]", page) and 'lang="zh-CN"' in page
    assert "<script" not in page.lower()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["demo.html"]


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
