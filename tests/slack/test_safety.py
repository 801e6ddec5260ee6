"""Forged and stale requests are refused; user text never pings or links anybody; limits are enforced."""

import time

import pytest
from pytest_mock import MockerFixture

from bot.demo.simulator import command_body
from tests.harness import SlackHarness


def _body(slack: SlackHarness, text: str) -> str:
    return command_body(
        command="/issue", text=text, user_id="UALICE", channel_id="CPROJ", team_id="T0001",
        response_url=slack.next_response_url(),
    )  # fmt: skip


@pytest.mark.parametrize(
    "how",
    ["wrong-secret", "stale", "no-signature", "tampered-body"],
)
def test_forged_or_stale_requests_get_401_and_change_nothing(project: SlackHarness, how: str) -> None:
    body = _body(project, "new Forged issue")
    if how == "wrong-secret":
        response = project.post_signed(body, secret="0123456789abcdef0123456789abcdef")
    elif how == "stale":
        response = project.post_signed(body, timestamp=int(time.time()) - 10 * 60)
    elif how == "no-signature":
        response = project.request("POST", "/slack/events", body)
    else:
        from bot.demo.simulator import sign
        from tests.harness import SIGNING_SECRET

        headers = sign(SIGNING_SECRET, body)
        response = project.request("POST", "/slack/events", body.replace("Forged", "Tampered"), headers)
    assert response.status == 401
    assert project.records() == []
    assert project.fake.calls == []


def test_mentions_and_disguised_links_in_titles_ping_and_link_nobody(project: SlackHarness) -> None:
    wire = "new <!channel> <!here> <!subteam^S123|@oncall> call <https://evil.example|https://bank.example> &lt;!everyone&gt;"
    project.command("/issue", wire)
    [record] = project.records()
    assert (
        record.title == "@channel @here @oncall call https://bank.example (https://evil.example) <!everyone>"
    )
    [card] = project.fake.calls_to("chat.postMessage")
    shown = card.args["text"] + str(card.args["blocks"])
    for forbidden in ("<!channel>", "<!here>", "<!subteam", "<!everyone>", "<https://evil"):
        assert forbidden not in shown
    assert "&lt;!everyone&gt;" in card.args["text"]


def test_project_names_are_escaped_in_announcements(slack: SlackHarness) -> None:
    slack.command("/project", "new ACME <!channel> Corp")
    [post] = slack.fake.calls_to("chat.postMessage")
    assert "<!channel>" not in post.args["text"] and "@channel Corp" in post.args["text"]


def test_long_text_emoji_chinese_and_quotes_are_kept_intact(project: SlackHarness) -> None:
    title = "打印机 “卡纸” it's <b>bold</b> 🧾 " + "é" * 150
    project.command("/issue", "new " + title.replace("<", "&lt;").replace(">", "&gt;"))
    [record] = project.records()
    assert record.title == title.strip()
    card = project.fake.calls_to("chat.postMessage")[0].args["text"]
    assert "it's" in card and "&lt;b&gt;bold&lt;/b&gt;" in card and "🧾" in card


def test_control_characters_are_dropped(project: SlackHarness) -> None:
    project.command("/issue", "new Bell\x07 and\x00 null")
    assert project.records()[0].title == "Bell and null"


@pytest.mark.parametrize(
    "failing",
    [
        "bot.features.record_steps.store_records",  # before the rows are written
        "bot.features.record_steps.RecordView.of",  # after: the transaction is still open, nothing stays
    ],
)
def test_an_error_after_ack_is_reported_not_swallowed(
    project: SlackHarness, mocker: MockerFixture, failing: str
) -> None:
    mocker.patch(failing, side_effect=RuntimeError("disk on fire"))
    response = project.command("/issue", "new Something")
    assert response.status == 200
    text = project.last_ephemeral()
    assert "Sorry, something went wrong on our side" in text and "disk on fire" not in text
    assert project.records() == []


def test_unknown_paths_and_methods(project: SlackHarness) -> None:
    assert project.request("GET", "/nope").status == 404
    assert project.request("GET", "/slack/events").status == 405
    health = project.request("GET", "/healthz")
    assert health.status == 200 and health.json() == {"status": "ok", "database": "ok"}
