"""Every kind of listener, broken on purpose through the signed request path: Slack still gets its answer,
the person gets the private apology with a reference, and the log has the error under that reference."""

from __future__ import annotations

import json
import logging
import re
from typing import Any

import pytest
from slack_bolt import Ack

from bot.commands.guard import guarding
from bot.slack import ids
from tests.harness import TEAM, SlackHarness, click, find_button
from tests.home.test_app_home import open_home

APOLOGY = re.compile(r"Sorry, something went wrong on our side \(ref ([0-9a-f]{8})\)")


def boom(*args: Any, **kwargs: Any) -> Any:
    raise RuntimeError("disk on fire")


def logged_ref(caplog: pytest.LogCaptureFixture) -> str:
    """The reference of the one error logged, with its traceback."""
    [record] = [r for r in caplog.records if r.levelno >= logging.ERROR and "(ref " in r.getMessage()]
    assert record.exc_info and "disk on fire" in str(record.exc_info[1])
    match = re.search(r"\(ref ([0-9a-f]{8})\)", record.getMessage())
    assert match
    return match[1]


def told(text: str, caplog: pytest.LogCaptureFixture) -> None:
    """``text`` is the apology, with the reference the log has, and nothing of the error itself."""
    match = APOLOGY.search(text)
    assert match, text
    assert match[1] == logged_ref(caplog)
    assert "disk on fire" not in text and "Traceback" not in text


def dms(slack: SlackHarness, user: str = "UALICE") -> list[str]:
    return [str(c.args["text"]) for c in slack.fake.calls_to("chat.postMessage") if c.args["channel"] == user]


def test_a_slash_command(project: SlackHarness, mocker: Any, caplog: pytest.LogCaptureFixture) -> None:
    mocker.patch("bot.features.record_steps.list_records", side_effect=boom)
    response = project.command("/issue", "list")
    assert (response.status, response.body) == (200, "")
    told(project.last_ephemeral(), caplog)


def test_a_button_that_fails_right_after_its_ack(
    project: SlackHarness, mocker: Any, caplog: pytest.LogCaptureFixture
) -> None:
    project.command("/issue", "new Printer jams")
    [card] = project.fake.calls_to("chat.postMessage")
    mocker.patch("bot.domain.lifecycle.move", side_effect=boom)
    response = click(
        project, find_button(card.args["blocks"], ids.ACTION_CARD_MOVE, "start"), message_ts="1.1"
    )
    # Acked and then failed within a millisecond: the ack still reached Slack (no 3-second error).
    assert (response.status, response.body) == (200, "")
    told(project.last_ephemeral(), caplog)
    assert project.records()[0].status == "open"


def test_a_button_in_app_home_apologises_by_dm(
    home_ready: SlackHarness, mocker: Any, caplog: pytest.LogCaptureFixture
) -> None:
    mocker.patch("bot.features.home.set_notify_assignments", side_effect=boom)
    button = {"action_id": ids.ACTION_HOME_NOTIFY_ASSIGNMENTS, "value": json.dumps({"notify": False})}
    response = click(home_ready, button, in_home=True)
    assert response.status == 200
    [dm] = dms(home_ready)
    told(dm, caplog)


def test_a_form_shows_the_apology_in_place_and_keeps_what_was_typed(
    project: SlackHarness, mocker: Any, caplog: pytest.LogCaptureFixture
) -> None:
    project.command("/issue", "new")
    view = project.opened_view()
    mocker.patch("bot.features.record_forms.create_record", side_effect=boom)
    response = project.submit_view(
        view,
        {
            ids.BLOCK_PROJECT: {
                ids.ACTION_PROJECT: {"type": "static_select", "selected_option": {"value": "1"}}
            },
            ids.BLOCK_TITLE: {ids.ACTION_TITLE: {"type": "plain_text_input", "value": "Printer jams"}},
        },
    )
    assert response.status == 200
    body = response.json()
    assert body["response_action"] == "errors"
    first_input = next(b["block_id"] for b in view["blocks"] if b["type"] == "input")
    assert list(body["errors"]) == [first_input]
    told(body["errors"][first_input], caplog)
    assert project.records() == []


def test_a_form_that_fails_after_its_ack_apologises_by_dm(
    project: SlackHarness, mocker: Any, caplog: pytest.LogCaptureFixture
) -> None:
    project.command("/issue", "new Printer jams")
    project.command("/issue", "edit ACME-1")
    view = project.opened_view()
    mocker.patch("bot.commands.forms.after_change", side_effect=boom)
    response = project.submit_view(
        view,
        {ids.BLOCK_TITLE: {ids.ACTION_TITLE: {"type": "plain_text_input", "value": "Printer jams a lot"}}},
    )
    assert (response.status, response.body) == (200, "")  # saved, and the form closed
    assert project.records()[0].title == "Printer jams a lot"
    [dm] = dms(project)
    told(dm, caplog)


def test_a_message_shortcut(project: SlackHarness, mocker: Any, caplog: pytest.LogCaptureFixture) -> None:
    mocker.patch("bot.features.shortcut_steps.prefill", side_effect=boom)
    response = project.message_shortcut(
        ids.SHORTCUT_LOG_ISSUE, {"ts": "1700000000.000100", "text": "It broke", "user": "UCUST"}
    )
    assert (response.status, response.body) == (200, "")
    told(project.last_ephemeral(), caplog)


def test_the_global_shortcut_apologises_by_dm(
    project: SlackHarness, mocker: Any, caplog: pytest.LogCaptureFixture
) -> None:
    mocker.patch("bot.features.record_forms.list_projects", side_effect=boom)
    response = project.interact(
        {
            "type": "shortcut",
            "callback_id": ids.SHORTCUT_NEW_RECORD,
            "trigger_id": "trigger-1",
            "team": {"id": TEAM, "domain": "acme"},
            "user": {"id": "UALICE", "username": "alice", "team_id": TEAM},
            "token": "deprecated",
            "is_enterprise_install": False,
        }
    )
    assert (response.status, response.body) == (200, "")
    [dm] = dms(project)
    told(dm, caplog)


def test_an_event_apologises_to_the_person_who_caused_it(
    home_ready: SlackHarness, mocker: Any, caplog: pytest.LogCaptureFixture
) -> None:
    mocker.patch("bot.commands.home.publish_home", side_effect=boom)
    open_home(home_ready)
    [dm] = dms(home_ready)
    told(dm, caplog)


def test_an_event_with_no_one_to_tell_is_logged(
    slack: SlackHarness, mocker: Any, caplog: pytest.LogCaptureFixture
) -> None:
    mocker.patch("bot.commands.events.store_members", side_effect=boom)
    response = slack.event({"type": "user_change", "user": {"id": "UBOB", "name": "bob"}}, event_id="Ev9")
    assert response.status == 200
    logged_ref(caplog)
    assert slack.fake.calls == []


def test_an_options_request_is_answered_and_the_person_told(
    slack: SlackHarness, caplog: pytest.LogCaptureFixture
) -> None:
    def options(ack: Ack, payload: dict[str, Any]) -> None:
        boom()

    guarding(slack.app).options("test_picker")(options)
    response = slack.interact(
        {
            "type": "block_suggestion",
            "action_id": "test_picker",
            "block_id": "b",
            "value": "acm",
            "team": {"id": TEAM, "domain": "acme"},
            "user": {"id": "UALICE", "username": "alice", "team_id": TEAM},
            "container": {"type": "view", "view_id": "V1"},
            "view": {"id": "V1", "type": "modal", "callback_id": "x", "team_id": TEAM, "blocks": []},
            "api_app_id": "A0001",
            "token": "deprecated",
        }
    )
    assert response.status == 200
    assert response.json() == {"options": []}
    [dm] = dms(slack)
    told(dm, caplog)


def test_an_error_outside_any_listener_is_answered_200_with_the_apology(
    project: SlackHarness, caplog: pytest.LogCaptureFixture
) -> None:
    def broken_middleware(next: Any) -> None:
        boom()

    project.app.use(broken_middleware)
    response = project.command("/issue", "list")
    assert (response.status, response.body) == (200, "")
    told(project.last_ephemeral(), caplog)


def test_a_mistake_is_told_without_an_apology(
    project: SlackHarness, caplog: pytest.LogCaptureFixture
) -> None:
    response = project.command("/issue", "show ACME-99")
    assert response.status == 200
    assert "ACME-99" in project.last_ephemeral()
    assert not APOLOGY.search(project.last_ephemeral())
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
