"""`/project new` and `/project list`: keys, channels, and making sure the bot can post."""

import pytest

from bot.ops.export import export_data
from tests.harness import SlackHarness


def _projects(slack: SlackHarness) -> list[dict]:
    with slack.db.read() as session:
        return export_data(session)["projects"]


def test_new_project_links_the_channel_and_announces_it(slack: SlackHarness) -> None:
    response = slack.command("/project", "new ACME Acme Corp after-sales", user="UALICE", channel="CPROJ")
    assert response.status == 200
    [project] = _projects(slack)
    assert (project["key"], project["name"], project["channel_id"]) == (
        "ACME",
        "Acme Corp after-sales",
        "CPROJ",
    )
    assert project["owners"] == ["UALICE"] and project["status"] == "active"
    assert (project["timezone"], project["locale"]) == ("UTC", "en")
    [post] = slack.fake.calls_to("chat.postMessage")
    assert post.args["channel"] == "CPROJ" and "ACME" in post.args["text"]


def test_public_channel_the_bot_is_not_in_is_joined(slack: SlackHarness) -> None:
    slack.fake.add_channel("CPUB", is_member=False)
    slack.command("/project", "new ACME Acme", channel="CPUB")
    assert [c.args["channel"] for c in slack.fake.calls_to("conversations.join")] == ["CPUB"]
    assert _projects(slack)[0]["channel_id"] == "CPUB"


def test_private_channel_asks_for_an_invite_and_links_nothing(slack: SlackHarness) -> None:
    slack.fake.add_channel("GPRIV", is_private=True, is_member=False)
    slack.command("/project", "new ACME Acme", channel="GPRIV", channel_name="privategroup")
    assert "/invite @Aftercare" in slack.last_ephemeral()
    assert _projects(slack) == []
    # Once invited, the same command works.
    slack.fake.state.channels["GPRIV"].is_member = True
    slack.command("/project", "new ACME Acme", channel="GPRIV")
    assert _projects(slack)[0]["channel_id"] == "GPRIV"


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("new acme Acme", "can't be a project key"),
        ("new A Acme", "can't be a project key"),
        ("new TOOLONGKEY1 Acme", "can't be a project key"),
        ("new ACME", "Give the project a name"),
        ("new", "Give a key and a name"),
        ("explode", "Unknown subcommand explode"),
    ],
)
def test_bad_project_input(slack: SlackHarness, text: str, needle: str) -> None:
    slack.command("/project", text)
    assert needle in slack.last_ephemeral()
    assert _projects(slack) == []


def test_duplicate_key_and_linked_channel_are_refused(slack: SlackHarness) -> None:
    slack.command("/project", "new ACME Acme", channel="C1")
    slack.command("/project", "new ACME Another", channel="C2")
    assert "already a project ACME" in slack.last_ephemeral()
    slack.command("/project", "new BETA Beta", channel="C1")
    assert "already linked to project ACME" in slack.last_ephemeral()
    assert [p["key"] for p in _projects(slack)] == ["ACME"]


def test_direct_messages_cannot_hold_a_project(slack: SlackHarness) -> None:
    slack.command("/project", "new ACME Acme", channel="D0123", channel_name="directmessage")
    assert "not in direct messages" in slack.last_ephemeral()
    assert _projects(slack) == []


def test_same_key_in_two_workspaces_is_fine(slack: SlackHarness) -> None:
    slack.command("/project", "new ACME Acme", team="T0001", channel="C1")
    slack.command("/project", "new ACME Acme too", team="T0002", channel="C1")
    assert sorted((p["team_id"], p["key"]) for p in _projects(slack)) == [
        ("T0001", "ACME"),
        ("T0002", "ACME"),
    ]


def test_list_and_help(slack: SlackHarness) -> None:
    slack.command("/project", "list")
    assert "No projects yet" in slack.last_ephemeral()
    slack.command("/project", "new ACME Acme &amp; Co")
    slack.command("/project", "list")
    assert "*ACME* Acme &amp; Co" in slack.last_ephemeral()  # escaped on the way out
    assert _projects(slack)[0]["name"] == "Acme & Co"  # plain on the way in
    slack.command("/project", "help")
    assert "/project new" in slack.last_ephemeral()
