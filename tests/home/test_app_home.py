"""App Home: the dashboard a person sees, through signed requests, the real Bolt app and the fake Slack API."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select

from bot.features.home import publish_home, refresh_homes
from bot.slack import ids
from bot.slack.app import web_client
from bot.slack.directory import sync_directory
from storage.models import Person
from tests.harness import TEAM, SlackHarness

CJK = re.compile(r"[\u4e00-\u9fff]")
# 2026-11-10 09:00 UTC: a task due 2026-11-01 is nine days late.
NOW = datetime(2026, 11, 10, 9, 0, tzinfo=UTC)


@pytest.fixture
def home(project: SlackHarness) -> SlackHarness:
    project.services.clock = lambda: NOW
    return project


def open_home(slack: SlackHarness, user: str = "UALICE", *, team: str = TEAM, tab: str = "home") -> None:
    response = slack.event(
        {"type": "app_home_opened", "user": user, "channel": "D0ALICE", "tab": tab, "event_ts": "1.0"},
        team=team,
    )
    assert response.status == 200


def published(slack: SlackHarness) -> list[dict[str, Any]]:
    """Every ``views.publish`` call's arguments, with the view decoded."""
    calls = []
    for call in slack.fake.calls_to("views.publish"):
        args = dict(call.args)
        if isinstance(args["view"], str):
            args["view"] = json.loads(args["view"])
        calls.append(args)
    return calls


def block_text(block: dict[str, Any]) -> str:
    if block["type"] in ("section", "header"):
        return str(block.get("text", {}).get("text", ""))
    if block["type"] == "context":
        return " ".join(str(e.get("text", "")) for e in block["elements"])
    if block["type"] == "actions":
        return " ".join(str(e["text"]["text"]) for e in block["elements"])
    return ""


def sections(view: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """The view's blocks grouped under each header's text (the count in brackets dropped)."""
    grouped: dict[str, list[dict[str, Any]]] = {}
    current = "top"
    for block in view["blocks"]:
        if block["type"] == "header":
            current = re.sub(r"\s*[(（]\d+[)）]$", "", block["text"]["text"])
            grouped[current] = []
        else:
            grouped.setdefault(current, []).append(block)
    return grouped


def texts(blocks: list[dict[str, Any]]) -> str:
    return "\n".join(block_text(b) for b in blocks)


def buttons(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [e for b in blocks if b["type"] == "actions" for e in b["elements"]]


def test_my_overdue_task_shows_under_overdue_with_card_buttons(home: SlackHarness) -> None:
    home.command("/task", "new Write docs <@UALICE|alice> due:2026-11-01")  # ACME-1, overdue
    home.command("/task", "new Bob's chore <@UBOB|bob> due:2026-10-01")  # ACME-2, someone else's
    home.command("/task", "new Plan rollout <@UALICE|alice> due:2026-12-01")  # ACME-3, not yet due
    home.command("/issue", "new Printer jams <@UALICE|alice> !high")  # ACME-4
    home.command("/risk", "new Supplier delay <@UALICE|alice> p:2 i:2")  # ACME-5, score 4
    home.command("/risk", "new Key engineer leaves <@UALICE|alice> p:4 i:5")  # ACME-6, score 20
    home.command("/task", "new Unassigned thing")  # ACME-7
    home.fake.reset_calls()

    open_home(home)

    [call] = published(home)
    assert call["user_id"] == "UALICE"
    view = call["view"]
    assert view["type"] == "home"
    assert len(view["blocks"]) <= 100
    parts = sections(view)
    overdue = texts(parts["Overdue"])
    assert "ACME-1" in overdue and "Write docs" in overdue
    assert "9 days overdue" in overdue and "Sun, Nov 1, 2026" in overdue
    assert "ACME-3" not in overdue
    tasks = texts(parts["My open tasks"])
    assert "ACME-3" in tasks and "Plan rollout" in tasks
    assert "ACME-1" not in tasks  # listed once, under Overdue
    assert "ACME-4" in texts(parts["My open issues"])
    risks = texts(parts["Risks I own"])
    assert risks.index("ACME-6") < risks.index("ACME-5")  # highest score first
    assert "Risk score: 20" in risks
    everything = texts(view["blocks"])
    assert "ACME-2" not in everything and "Bob's chore" not in everything
    assert "ACME-7" not in everything
    assert "*ACME* Acme Corp after-sales" in texts(parts["My projects"])
    assert "owner" in texts(parts["My projects"])

    # The same buttons as the card, carrying the record's key and version.
    overdue_buttons = buttons(parts["Overdue"])
    assert {b["action_id"].split(":")[0] for b in overdue_buttons} >= {
        ids.ACTION_CARD_MOVE,
        ids.ACTION_CARD_CLOSE,
    }
    done = next(b for b in overdue_buttons if json.loads(b["value"]).get("verb") == "done")
    assert json.loads(done["value"]) == {"key": "ACME-1", "v": 1, "verb": "done"}
    # Block ids stay unique within the view.
    block_ids = [b["block_id"] for b in view["blocks"] if "block_id" in b]
    assert len(block_ids) == len(set(block_ids))


def test_user_text_is_escaped_on_app_home(home: SlackHarness) -> None:
    home.command("/task", "new Ping &lt;!channel&gt; now <@UALICE|alice>")
    home.fake.reset_calls()
    open_home(home)
    text = texts(published(home)[0]["view"]["blocks"])
    assert "&lt;!channel&gt;" in text
    assert "<!channel>" not in text


def test_another_workspace_never_shows(home: SlackHarness) -> None:
    home.command("/project", "new OTHER Other workspace", team="T0002", channel="COTHER")
    home.command(
        "/task", "new Secret of T0002 <@UALICE|alice> due:2026-01-01", team="T0002", channel="COTHER"
    )
    home.command("/task", "new Mine here <@UALICE|alice>")
    home.fake.reset_calls()

    open_home(home)

    view = published(home)[0]["view"]
    everything = texts(view["blocks"])
    assert "ACME-1" in everything
    assert "OTHER" not in everything and "Secret of T0002" not in everything
    assert "Nothing overdue" in texts(sections(view)["Overdue"])


def test_closed_and_finished_work_leaves_the_dashboard(home: SlackHarness) -> None:
    home.command("/task", "new Still open <@UALICE|alice>")
    home.command("/project", "new BETA Beta", channel="CBETA")
    home.command("/task", "new In a closed project <@UALICE|alice>", channel="CBETA")
    from storage.models import Project

    with home.db.write() as session:
        beta = session.scalar(select(Project).where(Project.key == "BETA"))
        assert beta is not None
        beta.status = "closed"
    home.fake.reset_calls()

    open_home(home)

    everything = texts(published(home)[0]["view"]["blocks"])
    assert "ACME-1" in everything
    assert "BETA-1" not in everything and "*BETA*" not in everything


def test_an_engineer_whose_work_is_done_is_still_on_the_project(home: SlackHarness) -> None:
    home.command("/task", "new Train the finance team <@UBOB|bob>")  # ACME-1
    home.command("/task", "done ACME-1", user="UBOB")
    home.fake.reset_calls()

    open_home(home, "UBOB")

    parts = sections(published(home)[0]["view"])
    mine = texts(parts["My projects"])
    assert "*ACME* Acme Corp after-sales" in mine
    assert "not part of any active project" not in mine
    assert "open item" not in mine  # nothing of his is open any more
    assert "No open tasks assigned to you" in texts(parts["My open tasks"])


def test_messages_tab_draws_nothing(home: SlackHarness) -> None:
    open_home(home, tab="messages")
    assert home.fake.calls_to("views.publish") == []


def test_empty_dashboard_has_friendly_lines(home: SlackHarness) -> None:
    open_home(home, "UNEWBIE")
    view = published(home)[0]["view"]
    parts = sections(view)
    assert "Nothing overdue" in texts(parts["Overdue"])
    assert "No open tasks assigned to you" in texts(parts["My open tasks"])
    assert "No open issues assigned to you" in texts(parts["My open issues"])
    assert "don't own any open risks" in texts(parts["Risks I own"])
    assert "not part of any active project" in texts(parts["My projects"])
    assert buttons(parts["Overdue"]) == []


def test_long_lists_stay_within_slack_limits(home: SlackHarness) -> None:
    for n in range(40):
        home.command("/task", f"new Task number {n} <@UALICE|alice> due:2026-11-0{1 + n % 5}")
    for n in range(5):
        home.command("/issue", f"new Issue number {n} <@UALICE|alice>")
    home.fake.reset_calls()

    open_home(home)

    view = published(home)[0]["view"]
    assert len(view["blocks"]) <= 100
    parts = sections(view)
    overdue = parts["Overdue"]
    shown = sum(1 for b in overdue if b["type"] == "actions")
    assert 0 < shown < 40
    assert f"…and {40 - shown} more." in texts(overdue)
    # The short list keeps all its entries; preferences are still there at the end.
    assert sum(1 for b in parts["My open issues"] if b["type"] == "actions") == 5
    assert view["blocks"][-1]["accessory"]["action_id"] == ids.ACTION_HOME_NOTIFY_ASSIGNMENTS


def _toggle(slack: SlackHarness, view: dict[str, Any], user: str = "UALICE") -> None:
    """Click the preference button of ``view`` as Slack sends it: a block_actions from a home view."""
    block = next(b for b in view["blocks"] if b.get("accessory", {}).get("action_id"))
    button = block["accessory"]
    response = slack.interact(
        {
            "type": "block_actions",
            "user": {"id": user, "username": user.lower(), "name": user.lower(), "team_id": TEAM},
            "api_app_id": "A0001",
            "token": "deprecated",
            "container": {"type": "view", "view_id": "V0HOME"},
            "trigger_id": "trigger-789",
            "team": {"id": TEAM, "domain": "acme"},
            "enterprise": None,
            "is_enterprise_install": False,
            "view": {
                **view,
                "id": "V0HOME",
                "team_id": TEAM,
                "state": {"values": {}},
                "hash": "1700000000.abc",
                "app_id": "A0001",
                "bot_id": "BAFTERCARE",
            },
            "actions": [
                {
                    "action_id": button["action_id"],
                    "block_id": block["block_id"],
                    "text": button["text"],
                    "value": button["value"],
                    "type": "button",
                    "action_ts": "1700000001.000200",
                }
            ],
        }
    )
    assert response.status == 200


def notify_setting(slack: SlackHarness, user: str = "UALICE") -> bool | None:
    with slack.db.read() as session:
        person = session.scalar(select(Person).where(Person.team_id == TEAM, Person.user_id == user))
        return person.notify_assignments if person else None


def test_preference_toggle_persists_and_republishes(home: SlackHarness) -> None:
    open_home(home)
    first = published(home)[-1]["view"]
    assert "Assignment messages: on" in texts(first["blocks"])

    _toggle(home, first)

    assert notify_setting(home) is False
    [_, second] = published(home)
    assert second["user_id"] == "UALICE"
    assert "Assignment messages: off" in texts(second["view"]["blocks"])
    assert second["view"]["blocks"][-1]["accessory"]["text"]["text"] == "Turn on"

    _toggle(home, second["view"])

    assert notify_setting(home) is True
    assert "Assignment messages: on" in texts(published(home)[-1]["view"]["blocks"])


def test_clicking_a_stale_off_button_twice_stays_off(home: SlackHarness) -> None:
    open_home(home)
    view = published(home)[-1]["view"]
    _toggle(home, view)
    _toggle(home, view)  # the same old button again (a retry or a second click before the redraw)
    assert notify_setting(home) is False


def test_app_home_renders_in_the_persons_slack_locale(home: SlackHarness) -> None:
    home.fake.add_user("UALICE", name="alice", tz="Asia/Shanghai", locale="zh-CN")
    home.command("/task", "new Write docs <@UALICE|alice> due:2026-11-01")
    home.fake.reset_calls()

    open_home(home)

    view = published(home)[0]["view"]
    record = next(b for b in view["blocks"] if "ACME-1" in block_text(b))
    facts = view["blocks"][view["blocks"].index(record) + 1]
    assert "2026年11月1日" in block_text(facts)  # the date as zh-CN writes it
    assert CJK.search(block_text(facts).split("·")[1])  # "状态: …" rather than "Status: …"
    labels = [b["text"]["text"] for b in buttons(view["blocks"])]
    assert labels and all(CJK.search(label) for label in labels)  # 关闭, 编辑, 完成 …
    assert "Nov 1, 2026" not in texts(view["blocks"])


def test_refresh_homes_dedupes_and_skips_bots(home: SlackHarness) -> None:
    home.fake.add_user("UROBOT", name="robot", is_bot=True)
    home.fake.add_user("UGONE", name="gone", deleted=True)
    client = web_client(home.services, home.settings.slack_bot_token)
    everyone = ["UALICE", None, "UROBOT", "UALICE", "UGONE", "UBOB"]

    # The directory is empty: the homes are drawn after its sync, in the background.
    assert refresh_homes(home.services, client, TEAM, everyone) == 0
    home.drain()
    assert [c["user_id"] for c in published(home)] == ["UALICE", "UBOB"]
    # Once it is there, at once.
    assert refresh_homes(home.services, client, TEAM, everyone) == 2
    assert [c["user_id"] for c in published(home)][2:] == ["UALICE", "UBOB"]


def test_a_failed_publish_is_reported_not_raised(home: SlackHarness) -> None:
    client = web_client(home.services, home.settings.slack_bot_token)
    sync_directory(home.services, client, TEAM)  # a directory that needs no more sync
    home.fake.fail("views.publish", error="not_enabled")
    assert publish_home(home.services, client, TEAM, "UALICE") is False
    home.fake.fail("views.publish", status=500, times=2)  # the retry of a 500 fails too
    assert refresh_homes(home.services, client, TEAM, ["UALICE"]) == 0
    assert publish_home(home.services, client, TEAM, "UALICE") is True
    assert len(home.fake.calls_to("views.publish")) == 4
    assert len(home.slept) == 1  # one wait before the retry, through the injected sleeper
