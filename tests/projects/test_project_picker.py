"""The project picker works with any number of projects: over 100, an external select served by the app.

Slack asks for options with a ``block_suggestion`` payload (signed like any interaction, or over Socket
Mode) and shows at most 100 of what the app answers.
"""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any

import pytest
from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_sdk.socket_mode.request import SocketModeRequest
from sqlalchemy import update

from bot.demo.simulator import FakeSlack
from bot.domain.projects import create_project
from bot.slack import ids
from storage.models import Project
from tests.harness import HARNESS_NOW, TEAM, SlackHarness

PROJECTS = 150


def _add_projects(slack: SlackHarness, count: int, *, team: str = TEAM, prefix: str = "P") -> None:
    with slack.db.write() as session:
        for n in range(1, count + 1):
            create_project(
                session, team_id=team, key=f"{prefix}{n:03d}", name=f"Customer number {n}",
                channel_id=f"C{team}{n:03d}", user_id="UALICE", timezone="UTC", locale="en", now=HARNESS_NOW,
            )  # fmt: skip


@pytest.fixture
def many(project: SlackHarness) -> SlackHarness:
    """ACME plus P001…P150 in this workspace; P145 closed; another workspace's Q-projects."""
    _add_projects(project, PROJECTS)
    _add_projects(project, 20, team="T0002", prefix="P9")
    with project.db.write() as session:
        session.execute(update(Project).where(Project.key == "P145").values(status="closed"))
    return project


def _open_global_form(slack: SlackHarness) -> dict[str, Any]:
    response = slack.interact(
        {
            "type": "shortcut",
            "callback_id": ids.SHORTCUT_NEW_RECORD,
            "trigger_id": "trigger-789",
            "team": {"id": TEAM, "domain": "acme"},
            "user": {"id": "UALICE", "username": "ualice", "team_id": TEAM},
            "token": "deprecated",
            "is_enterprise_install": False,
        }
    )
    assert response.status == 200
    return slack.opened_view()


def _picker(view: dict[str, Any]) -> dict[str, Any]:
    (block,) = [b for b in view["blocks"] if b.get("block_id") == ids.BLOCK_PROJECT]
    return dict(block["element"])


def suggestion(view: dict[str, Any], typed: str, *, team: str = TEAM) -> dict[str, Any]:
    """A ``block_suggestion`` payload as Slack sends it when someone types in the picker of ``view``."""
    return {
        "type": "block_suggestion",
        "user": {"id": "UALICE", "username": "ualice", "name": "ualice", "team_id": team},
        "container": {"type": "view", "view_id": "V123"},
        "api_app_id": "A0001",
        "token": "deprecated",
        "action_id": ids.ACTION_PROJECT,
        "block_id": ids.BLOCK_PROJECT,
        "value": typed,
        "team": {"id": team, "domain": "acme"},
        "enterprise": None,
        "is_enterprise_install": False,
        "view": {**view, "id": "V123", "team_id": team, "state": {"values": {}}},
    }


def _options(slack: SlackHarness, view: dict[str, Any], typed: str) -> list[dict[str, Any]]:
    response = slack.interact(suggestion(view, typed))
    assert response.status == 200, response.body
    answer = response.json()
    assert FakeSlack.options_problems(answer) == []
    return list(answer["options"])


def test_a_workspace_with_few_projects_keeps_a_static_select(project: SlackHarness) -> None:
    _add_projects(project, 99)  # with ACME: 100, what one static select holds
    picker = _picker(_open_global_form(project))
    assert picker["type"] == "static_select" and len(picker["options"]) == 100


def test_over_100_projects_the_form_offers_an_external_select(many: SlackHarness) -> None:
    picker = _picker(_open_global_form(many))
    assert picker["type"] == "external_select"
    assert picker["min_query_length"] == 0
    assert "options" not in picker


def test_typed_text_finds_the_open_projects_of_this_workspace(many: SlackHarness) -> None:
    view = _open_global_form(many)
    found = [o["text"]["text"] for o in _options(many, view, "p14")]
    # P140…P149, without the closed P145 and without the other workspace's P914…
    assert found == [f"P{n} — Customer number {n}" for n in range(140, 150) if n != 145]
    # Every word counts, in the key or the name, as does the text shown in the picker.
    assert [o["text"]["text"][:4] for o in _options(many, view, "customer P14")] == [
        f"P{n}" for n in range(140, 150) if n != 145
    ]
    acme = [str(_project_id(many, "ACME"))]
    assert [o["value"] for o in _options(many, view, "acme")] == acme
    assert [o["value"] for o in _options(many, view, "acme after")] == acme
    assert [o["value"] for o in _options(many, view, "ACME — Acme Corp")] == acme
    assert _options(many, view, "nothing like it") == []


def test_an_empty_query_lists_at_most_100(many: SlackHarness) -> None:
    options = _options(many, _open_global_form(many), "")
    assert len(options) == 100
    assert options[0]["text"]["text"] == "ACME — Acme Corp after-sales"


def test_typed_percent_and_underscore_match_literally(many: SlackHarness) -> None:
    assert _options(many, _open_global_form(many), "%") == []
    assert _options(many, _open_global_form(many), "_") == []


def _project_id(slack: SlackHarness, key: str) -> int:
    with slack.db.read() as session:
        from sqlalchemy import select

        found = session.scalar(select(Project.id).where(Project.key == key, Project.team_id == TEAM))
        assert found is not None
        return int(found)


def test_submitting_the_form_with_a_chosen_project_logs_the_record(many: SlackHarness) -> None:
    view = _open_global_form(many)
    (chosen,) = _options(many, view, "P147")
    values: dict[str, dict[str, Any]] = {
        ids.BLOCK_PROJECT: {ids.ACTION_PROJECT: {"type": "external_select", "selected_option": chosen}},
        ids.BLOCK_KIND: {
            ids.ACTION_KIND: {"type": "static_select", "selected_option": {"text": {}, "value": "task"}}
        },
        ids.BLOCK_TITLE: {ids.ACTION_TITLE: {"type": "plain_text_input", "value": "Renew the licence"}},
    }
    assert many.submit_view(view, values).status == 200
    (record,) = many.records()
    assert (record.key, record.kind, record.title) == ("P147-1", "task", "Renew the licence")
    assert "P147-1" in " ".join(str(c.args.get("text")) for c in many.fake.calls_to("chat.postMessage"))


def test_a_record_form_opened_in_a_project_channel_preselects_it(many: SlackHarness) -> None:
    message = {"ts": "1790000000.000200", "user": "UBOB", "text": "The printer jams"}
    assert many.message_shortcut(ids.SHORTCUT_LOG_ISSUE, message, channel=f"C{TEAM}120").status == 200
    picker = _picker(many.opened_view())
    assert picker["type"] == "external_select"
    assert picker["initial_option"]["text"]["text"] == "P120 — Customer number 120"


def test_the_meeting_form_uses_the_same_picker(many: SlackHarness) -> None:
    message = {"ts": "1790000000.000200", "user": "UBOB", "text": "Weekly sync"}
    many.message_shortcut(ids.SHORTCUT_ADD_TO_MEETING, message, channel="CNOWHERE")
    picker = _picker(many.opened_view())
    assert picker["type"] == "external_select"
    assert _options(many, many.opened_view(), "p120")[0]["value"] == str(_project_id(many, "P120"))


def test_socket_mode_delivers_options_requests(many: SlackHarness) -> None:
    """Over Socket Mode Slack sends the same payload in an ``interactive`` envelope; the answer goes back on it."""
    view = _open_global_form(many)
    handler = SocketModeHandler(many.app, app_token="xapp-1-test")
    sent: list[Any] = []
    client = SimpleNamespace(send_socket_mode_response=sent.append, logger=handler.client.logger)
    request = SocketModeRequest(type="interactive", envelope_id="env-1", payload=suggestion(view, "p13"))
    handler.handle(client, request)  # type: ignore[arg-type]
    (response,) = sent
    assert response.envelope_id == "env-1"
    options = response.payload["options"]
    assert FakeSlack.options_problems(response.payload) == []
    assert [o["text"]["text"][:4] for o in options] == [f"P{n}" for n in range(130, 140)]
    assert json.dumps(options)  # JSON, as it travels over the socket
