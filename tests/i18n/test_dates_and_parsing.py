"""Reading what people type: dates in two languages, options, keys, Slack's escaping."""

from datetime import date

import pytest

from bot.domain.dates import parse_date
from bot.domain.errors import UserError
from bot.domain.parsing import parse_project_key, parse_record_key, parse_record_options
from bot.slack.text import decode_slack_text, escape
from storage.models import Kind, Priority

THURSDAY = date(2026, 11, 26)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-12-01", date(2026, 12, 1)),
        ("2026/12/1", date(2026, 12, 1)),
        ("today", THURSDAY),
        ("tomorrow", date(2026, 11, 27)),
        ("Friday", date(2026, 11, 27)),
        ("thursday", THURSDAY),
        ("wed", date(2026, 12, 2)),
        ("next friday", date(2026, 12, 4)),
        ("next monday", date(2026, 11, 30)),
        ("in 3 days", date(2026, 11, 29)),
        ("3d", date(2026, 11, 29)),
        ("2w", date(2026, 12, 10)),
        ("今天", THURSDAY),
        ("明天", date(2026, 11, 27)),
        ("后天", date(2026, 11, 28)),
        ("周五", date(2026, 11, 27)),
        ("星期一", date(2026, 11, 30)),
        ("下周五", date(2026, 12, 4)),
        ("下星期一", date(2026, 11, 30)),
        ("本周日", date(2026, 11, 29)),
        ("3天后", date(2026, 11, 29)),
    ],
)
def test_dates_people_write(text: str, expected: date) -> None:
    assert parse_date(text, today=THURSDAY) == expected


@pytest.mark.parametrize("text", ["2026-02-30", "2026-13-01", "someday", "下周八", "next blursday"])
def test_impossible_or_unknown_dates_are_refused_naming_the_text(text: str) -> None:
    with pytest.raises(UserError) as caught:
        parse_date(text, today=THURSDAY)
    assert text in str(caught.value)


def test_options_anywhere_in_the_text() -> None:
    opts = parse_record_options("Printer jams <@UBOB|bob> on tray 2 due:2026-12-01 !high", Kind.ISSUE)
    assert opts.title == "Printer jams on tray 2"
    assert opts.assignee_id == "UBOB"
    assert opts.due_text == "2026-12-01"
    assert opts.priority is Priority.HIGH


def test_due_next_weekday_spans_two_words() -> None:
    assert parse_record_options("Ship it due:next friday", Kind.TASK).due_text == "next friday"


def test_task_estimates_and_risk_scores() -> None:
    task = parse_record_options("Write docs est:4h", Kind.TASK)
    assert (task.title, task.estimate_hours) == ("Write docs", 4.0)
    assert parse_record_options("x est:30m", Kind.TASK).estimate_hours == 0.5
    assert parse_record_options("x est:2d", Kind.TASK).estimate_hours == 16.0
    risk = parse_record_options("Supplier may fail p:4 i:5", Kind.RISK)
    assert (risk.probability, risk.impact) == (4, 5)


@pytest.mark.parametrize(
    ("text", "kind", "needle"),
    [
        ("Title !urgent", Kind.ISSUE, "!urgent"),
        ("Title p:9", Kind.RISK, "p:"),
        ("Title est:lots", Kind.TASK, "est:lots"),
        ("Title <@UA|a> <@UB|b>", Kind.ISSUE, "one"),
        ("Title @ghost", Kind.ISSUE, "@ghost"),
    ],
)
def test_bad_options_are_refused_by_name(text: str, kind: Kind, needle: str) -> None:
    with pytest.raises(UserError) as caught:
        parse_record_options(text, kind)
    assert needle in str(caught.value)


def test_words_that_only_look_like_options_stay_in_the_title() -> None:
    # est: is an option for tasks only; "!!!" is not a priority.
    opts = parse_record_options("Meet at est:9am wow !!!", Kind.ISSUE)
    assert opts.title == "Meet at est:9am wow !!!"


def test_slack_escaping_is_decoded_into_plain_words() -> None:
    wire = "Fix &lt;div&gt; &amp; <!channel> <!here> <#C1|general> <https://evil.example|google.com> <https://ok.example>"
    assert decode_slack_text(wire) == (
        "Fix <div> & @channel @here #general google.com (https://evil.example) https://ok.example"
    )


def test_escape_neutralises_mentions_and_links() -> None:
    assert (
        escape("<!channel> & <@U1> <https://x|y>") == "&lt;!channel&gt; &amp; &lt;@U1&gt; &lt;https://x|y&gt;"
    )


def test_keys() -> None:
    assert parse_project_key("ACME") == "ACME"
    assert parse_record_key("acme-12") == ("ACME", 12)
    for bad in ("A", "acme", "1ACME", "ACME-X", "TOOLONGKEY1", "AC ME"):
        with pytest.raises(UserError):
            parse_project_key(bad)
