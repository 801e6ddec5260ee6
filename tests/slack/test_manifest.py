"""The Slack app manifest: valid against Slack's schema, in step with ``bot.slack.ids`` and with the real app.

``tests/data/manifest.schema.1.0.0.json`` is Slack's official app manifest schema (slackapi/manifest-schema,
``schemas/manifest.schema.1.0.0.json`` at commit c50cfa8508ff1017344550a5e5fb29a1416e5b98, MIT licensed: see
``tests/data/LICENSE.manifest-schema``), carried here so the check runs offline on a fresh machine.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from bot.slack import ids
from bot.slack.app import REDIRECT_PATH
from bot.slack.manifest import build_manifest, render_manifest
from bot.slack.server import EVENTS_PATH
from tests.harness import SlackHarness

ROOT = Path(__file__).resolve().parents[2]
SCHEMA_PATH = Path(__file__).resolve().parents[1] / "data" / "manifest.schema.1.0.0.json"
URL = "https://aftercare.example.com"

# The message shortcuts' names are part of the public contract (docs/INTERFACE.md).
SHORTCUT_NAMES = {
    ids.SHORTCUT_LOG_REQUIREMENT: "Log as requirement",
    ids.SHORTCUT_LOG_ISSUE: "Log as issue",
    ids.SHORTCUT_CREATE_TASK: "Create task",
    ids.SHORTCUT_ADD_TO_MEETING: "Add to meeting notes",
}


@pytest.fixture(scope="module")
def validator() -> Any:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    cls = jsonschema.validators.validator_for(schema)  # the schema declares draft-07
    cls.check_schema(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


def assert_valid(validator: Any, manifest: dict[str, Any]) -> None:
    errors = sorted(validator.iter_errors(manifest), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in errors)


def committed_manifest() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "manifest.yml").read_text(encoding="utf-8"))


# -- schema ------------------------------------------------------------------------------------


@pytest.mark.parametrize("url", [None, URL], ids=["socket", "http"])
def test_manifest_is_valid_against_slack_schema(validator: Any, url: str | None) -> None:
    assert_valid(validator, build_manifest(url=url))


def test_committed_manifest_is_valid_against_slack_schema(validator: Any) -> None:
    assert_valid(validator, committed_manifest())


def test_schema_check_is_not_vacuous(validator: Any) -> None:
    """The validator really rejects what Slack would reject."""
    broken = copy.deepcopy(build_manifest())
    broken["features"]["slash_commands"][0]["command"] = "project"  # no leading slash
    broken["settings"]["surprise"] = True  # unknown key
    del broken["display_information"]["name"]
    paths = {"/".join(map(str, e.absolute_path)) for e in validator.iter_errors(broken)}
    assert "features/slash_commands/0/command" in paths
    assert "settings" in paths
    assert "display_information" in paths


def test_committed_manifest_is_the_generated_one() -> None:
    generated = render_manifest()
    committed = (ROOT / "manifest.yml").read_text(encoding="utf-8")
    assert committed == generated, "manifest.yml is stale: run `aftercare manifest > manifest.yml`"


# -- contents ----------------------------------------------------------------------------------


def test_the_project_usage_hint_names_every_project_verb() -> None:
    [project] = [c for c in build_manifest()["features"]["slash_commands"] if c["command"] == "/project"]
    verbs = {part.split()[0] for part in project["usage_hint"].split(" | ")}
    assert verbs == {
        "new", "link", "unlink", "list", "status", "digest", "settings", "survey", "docs", "close", "reopen", "help"
    }  # fmt: skip


@pytest.mark.parametrize("url", [None, URL], ids=["socket", "http"])
def test_manifest_matches_bot_ids(url: str | None) -> None:
    manifest = build_manifest(url=url)
    features = manifest["features"]
    commands = [c["command"] for c in features["slash_commands"]]
    assert commands == list(ids.ALL_COMMANDS)
    assert set(commands) == {"/project", "/req", "/issue", "/task", "/risk", "/meeting"}
    assert all(c["should_escape"] is True for c in features["slash_commands"])
    assert all(c["description"] and c["usage_hint"] for c in features["slash_commands"])

    shortcuts = [s for s in features["shortcuts"] if s["type"] == "message"]
    record_shortcuts = [s["callback_id"] for s in shortcuts if s["callback_id"] in ids.MESSAGE_SHORTCUTS]
    assert record_shortcuts == list(ids.MESSAGE_SHORTCUTS)
    assert set(ids.MESSAGE_SHORTCUTS) >= {
        ids.SHORTCUT_LOG_REQUIREMENT,
        ids.SHORTCUT_LOG_ISSUE,
        ids.SHORTCUT_CREATE_TASK,
    }
    for shortcut in shortcuts:
        assert shortcut["name"] == SHORTCUT_NAMES[shortcut["callback_id"]], shortcut
    assert {s["type"] for s in features["shortcuts"]} <= {"message", "global"}

    assert manifest["oauth_config"]["scopes"]["bot"] == list(ids.BOT_SCOPES)
    assert manifest["settings"]["event_subscriptions"]["bot_events"] == list(ids.BOT_EVENTS)
    assert manifest["settings"]["interactivity"]["is_enabled"] is True


def test_the_global_new_record_shortcut_is_declared() -> None:
    """docs/INTERFACE.md: one global shortcut opens a "new record" modal with a project picker."""
    for url in (None, URL):
        shortcuts = build_manifest(url=url)["features"]["shortcuts"]
        assert [s["callback_id"] for s in shortcuts if s["type"] == "global"] == [ids.SHORTCUT_NEW_RECORD]


def test_committed_manifest_declares_every_command_with_should_escape() -> None:
    commands = committed_manifest()["features"]["slash_commands"]
    assert [c["command"] for c in commands] == list(ids.ALL_COMMANDS)
    assert [c.get("should_escape") for c in commands] == [True] * len(ids.ALL_COMMANDS)


def test_socket_manifest_has_no_request_urls() -> None:
    manifest = build_manifest()
    settings = manifest["settings"]
    assert settings["socket_mode_enabled"] is True
    assert "request_url" not in settings["event_subscriptions"]
    assert "request_url" not in settings["interactivity"]
    assert "message_menu_options_url" not in settings["interactivity"]
    assert all("url" not in c for c in manifest["features"]["slash_commands"])
    assert "redirect_urls" not in manifest["oauth_config"]


@pytest.mark.parametrize("base", [URL, URL + "/"])
def test_http_manifest_sends_everything_to_slack_events(base: str) -> None:
    manifest = build_manifest(url=base)
    settings = manifest["settings"]
    events_url = f"{URL}{EVENTS_PATH}"
    assert EVENTS_PATH == "/slack/events"
    assert settings["socket_mode_enabled"] is False
    assert settings["event_subscriptions"]["request_url"] == events_url
    assert settings["interactivity"]["request_url"] == events_url
    # External selects (the project picker beyond 100 projects) ask for their options at the same place.
    assert settings["interactivity"]["message_menu_options_url"] == events_url
    assert [c["url"] for c in manifest["features"]["slash_commands"]] == [events_url] * len(ids.ALL_COMMANDS)
    assert manifest["oauth_config"]["redirect_urls"] == [f"{URL}{REDIRECT_PATH}"]


def test_rendered_manifest_round_trips() -> None:
    for url in (None, URL):
        assert yaml.safe_load(render_manifest(url=url)) == build_manifest(url=url)


# -- the real app handles what the manifest declares ---------------------------------------------


@pytest.mark.parametrize("command", [c["command"] for c in build_manifest()["features"]["slash_commands"]])
def test_every_declared_command_is_handled(project: SlackHarness, command: str) -> None:
    response = project.command(command, "help")
    assert response.status == 200, response.body
    reply = project.last_ephemeral()
    assert command in reply, reply
    assert "went wrong" not in reply, reply
    [call] = project.fake.calls_to("response_url")
    assert call.args.get("response_type") == "ephemeral"


@pytest.mark.parametrize(
    "callback_id",
    [s["callback_id"] for s in build_manifest()["features"]["shortcuts"] if s["type"] == "message"],
)
def test_every_declared_message_shortcut_opens_the_record_form(
    project: SlackHarness, callback_id: str
) -> None:
    message = {"ts": "1790000000.000200", "user": "UBOB", "text": "The printer jams on tray 2\nevery morning"}
    response = project.message_shortcut(callback_id, message)
    assert response.status == 200, response.body
    assert len(project.fake.calls_to("views.open")) == 1, [c.method for c in project.fake.calls]
    view = project.opened_view()
    if callback_id in ids.MESSAGE_SHORTCUTS:
        assert view["callback_id"] == ids.VIEW_NEW_RECORD
    assert "The printer jams on tray 2" in json.dumps(view)
    assert not project.ephemeral_texts()


# Every global shortcut the manifest declares, and the one docs/INTERFACE.md requires even while it is undeclared.
GLOBAL_SHORTCUTS = sorted(
    {s["callback_id"] for s in build_manifest()["features"]["shortcuts"] if s["type"] == "global"}
    | {ids.SHORTCUT_NEW_RECORD}
)


@pytest.mark.parametrize("callback_id", GLOBAL_SHORTCUTS)
def test_every_global_shortcut_opens_a_modal(project: SlackHarness, callback_id: str) -> None:
    response = project.interact(
        {
            "type": "shortcut",
            "callback_id": callback_id,
            "trigger_id": "trigger-789",
            "team": {"id": "T0001", "domain": "acme"},
            "user": {"id": "UALICE", "username": "ualice", "team_id": "T0001"},
            "token": "deprecated",
            "is_enterprise_install": False,
        }
    )
    assert response.status == 200, response.body
    assert len(project.fake.calls_to("views.open")) == 1, [c.method for c in project.fake.calls]
    if callback_id == ids.SHORTCUT_NEW_RECORD:
        assert project.opened_view()["callback_id"] == ids.VIEW_NEW_RECORD


# Bolt answers 404 to an event nobody listens for; Slack retries it and, after enough failures, turns the
# app's event subscription off. So every event the manifest subscribes to must be acknowledged.
@pytest.mark.parametrize("event", list(ids.BOT_EVENTS))
def test_every_declared_event_is_acknowledged(slack: SlackHarness, event: str) -> None:
    payload: dict[str, Any] = {"type": event, "event_ts": "1790000000.000100"}
    if event == ids.EVENT_TOKENS_REVOKED:
        payload["tokens"] = {"oauth": [], "bot": ["UAFTERCARE"]}
    elif event == "app_home_opened":
        payload.update(user="UALICE", channel="DALICE", tab="home")
    elif event == "user_change":
        payload["user"] = {"id": "UALICE", "team_id": "T0001", "tz": "Asia/Shanghai", "locale": "zh-CN"}
    elif event == ids.EVENT_MESSAGE_IM:
        # The ``message.im`` subscription delivers ``message`` events from the app's DMs.
        payload.update(type="message", channel_type="im", channel="DALICE", user="UALICE", text="hello",
                       ts="1790000000.000100")  # fmt: skip
    elif event in (ids.EVENT_MESSAGE_CHANNELS, ids.EVENT_MESSAGE_GROUPS):
        channel_type, channel = (
            ("channel", "CANY") if event == ids.EVENT_MESSAGE_CHANNELS else ("group", "GANY")
        )
        payload.update(type="message", channel_type=channel_type, channel=channel, user="UALICE", text="hello",
                       ts="1790000000.000100")  # fmt: skip
    elif event == ids.EVENT_REACTION_ADDED:
        payload.update(user="UALICE", reaction="ticket", item_user="UBOB",
                       item={"type": "message", "channel": "CANY", "ts": "1789999999.000100"})  # fmt: skip
    elif event == ids.EVENT_CHANNEL_SHARED:
        payload.update(connected_team_id="TOTHER", channel="CANY")
    response = slack.event(payload)
    assert response.status == 200, response.body
