""" "Log as requirement" / "Log as issue" / "Create task": any message becomes a record linked back to it."""

from typing import Any

import pytest

from bot.slack import ids
from tests.harness import SlackHarness


def _submit_as_opened(slack: SlackHarness, **overrides: Any) -> Any:
    """Submit the modal the shortcut opened, keeping its prefilled values unless overridden."""
    view = slack.opened_view()
    blocks = {b.get("block_id"): b for b in view["blocks"]}
    project_option = blocks[ids.BLOCK_PROJECT]["element"].get("initial_option")
    values = {
        ids.BLOCK_PROJECT: {
            ids.ACTION_PROJECT: {
                "type": "static_select",
                "selected_option": project_option or overrides.get("project"),
            }
        },
        ids.BLOCK_TITLE: {
            ids.ACTION_TITLE: {
                "type": "plain_text_input",
                "value": overrides.get("title", blocks[ids.BLOCK_TITLE]["element"].get("initial_value")),
            }
        },
        ids.BLOCK_DESCRIPTION: {
            ids.ACTION_DESCRIPTION: {
                "type": "plain_text_input",
                "value": overrides.get(
                    "description", blocks[ids.BLOCK_DESCRIPTION]["element"].get("initial_value")
                ),
            }
        },
    }
    return slack.submit_view(view, values, user=overrides.get("user", "UALICE"))


def test_log_as_requirement_end_to_end(project: SlackHarness) -> None:
    message = {
        "ts": "1790000000.000200",
        "user": "UCUSTOMER",
        "text": "Please add CSV export\nWe need it for the audit.",
    }
    response = project.message_shortcut(ids.SHORTCUT_LOG_REQUIREMENT, message, user="UALICE")
    assert response.status == 200

    view = project.opened_view()
    blocks = {b.get("block_id"): b for b in view["blocks"]}
    assert blocks[ids.BLOCK_TITLE]["element"]["initial_value"] == "Please add CSV export"
    assert blocks[ids.BLOCK_DESCRIPTION]["element"]["initial_value"] == message["text"]
    assert blocks[ids.BLOCK_PROJECT]["element"]["initial_option"]["text"]["text"].startswith("ACME")
    assert view["title"]["text"] == "New requirement"

    assert _submit_as_opened(project).status == 200
    [record] = project.records()
    assert (record.key, record.kind, record.status) == ("ACME-1", "requirement", "proposed")
    assert record.requester_id == "UCUSTOMER" and record.created_by == "UALICE"
    assert record.source_url == "https://acme.slack.com/archives/CPROJ/p1790000000000200"
    assert record.description == message["text"]

    [reply] = project.fake.calls_to("chat.postMessage")
    assert reply.args["channel"] == "CPROJ"
    assert reply.args["thread_ts"] == "1790000000.000200"
    assert reply.args["text"] == "Logged as requirement ACME-1 by <@UALICE>"


def test_reply_goes_to_the_parent_thread_of_a_reply(project: SlackHarness) -> None:
    message = {
        "ts": "1790000000.000300",
        "thread_ts": "1790000000.000100",
        "user": "UCUSTOMER",
        "text": "Also PDF",
    }
    project.message_shortcut(ids.SHORTCUT_LOG_ISSUE, message)
    _submit_as_opened(project)
    [record] = project.records()
    assert record.kind == "issue"
    [reply] = project.fake.calls_to("chat.postMessage")
    assert reply.args["thread_ts"] == "1790000000.000100"
    assert reply.args["text"] == "Logged as issue ACME-1 by <@UALICE>"


def test_create_task_from_a_message(project: SlackHarness) -> None:
    project.message_shortcut(
        ids.SHORTCUT_CREATE_TASK, {"ts": "1790000000.000400", "user": "UBOB", "text": "Renew cert"}
    )
    _submit_as_opened(project)
    [record] = project.records()
    assert (record.kind, record.status, record.title) == ("task", "open", "Renew cert")


def test_long_message_is_cut_in_the_form_but_stored_whole(project: SlackHarness) -> None:
    text = "Title line\n" + ("长" * 3500)
    project.message_shortcut(
        ids.SHORTCUT_LOG_REQUIREMENT, {"ts": "1790000000.000500", "user": "UC", "text": text}
    )
    view = project.opened_view()
    blocks = {b.get("block_id"): b for b in view["blocks"]}
    assert len(blocks[ids.BLOCK_DESCRIPTION]["element"]["initial_value"]) == 3000
    assert "longer than 3000 characters" in view["blocks"][0]["elements"][0]["text"]
    _submit_as_opened(project)
    [record] = project.records()
    assert record.description == text


def test_edited_description_is_what_gets_stored(project: SlackHarness) -> None:
    project.message_shortcut(
        ids.SHORTCUT_LOG_REQUIREMENT, {"ts": "1790000000.000600", "user": "UC", "text": "x" * 3500}
    )
    _submit_as_opened(project, description="My summary")
    assert project.records()[0].description == "My summary"


@pytest.mark.parametrize(
    "message",
    [
        {"ts": "1790000000.000700", "user": "UC", "text": ""},
        {"ts": "1790000000.000700", "bot_id": "B123", "subtype": "bot_message", "text": "Alert: disk full"},
        {"ts": "1790000000.000700", "user": "UC", "text": "", "files": [{"name": "screenshot.png"}]},
    ],
    ids=["no-text", "from-a-bot", "only-a-file"],
)
def test_odd_messages_are_handled_gracefully(project: SlackHarness, message: dict[str, Any]) -> None:
    assert project.message_shortcut(ids.SHORTCUT_LOG_ISSUE, message).status == 200
    view = project.opened_view()
    title = {b.get("block_id"): b for b in view["blocks"]}[ids.BLOCK_TITLE]["element"].get(
        "initial_value", ""
    )
    response = _submit_as_opened(project, title=title or "Something from a message")
    assert response.status == 200
    [record] = project.records()
    if message.get("bot_id"):
        assert record.requester_id is None and record.title == "Alert: disk full"
    if message.get("files"):
        assert "screenshot.png" in record.description


def test_without_any_project_the_shortcut_explains_what_to_do(slack: SlackHarness) -> None:
    slack.message_shortcut(
        ids.SHORTCUT_LOG_REQUIREMENT, {"ts": "1790000000.000800", "user": "UC", "text": "Hi"}
    )
    view = slack.opened_view()
    assert view["callback_id"] == ids.VIEW_NOTICE
    assert "/project new" in view["blocks"][0]["text"]["text"]


def test_when_the_thread_reply_fails_the_record_stays_and_the_user_is_told(project: SlackHarness) -> None:
    project.fake.add_channel("CELSE", is_private=True, is_member=False)  # a private channel without the bot
    message = {"ts": "1790000000.000900", "user": "UC", "text": "From a channel I am not in"}
    project.message_shortcut(ids.SHORTCUT_LOG_REQUIREMENT, message, channel="CELSE")
    view = project.opened_view()
    # No project is linked to CELSE: nothing preselected, the person picks ACME.
    options = {b.get("block_id"): b for b in view["blocks"]}[ids.BLOCK_PROJECT]["element"]["options"]
    assert (
        "initial_option" not in {b.get("block_id"): b for b in view["blocks"]}[ids.BLOCK_PROJECT]["element"]
    )
    _submit_as_opened(project, project=options[0])
    [record] = project.records()
    assert record.key == "ACME-1"
    posts = project.fake.calls_to("chat.postMessage")
    assert [p.args["channel"] for p in posts] == ["CELSE", "UALICE"]
    assert "ACME-1" in posts[1].args["text"] and "channel_not_found" in posts[1].args["text"]
