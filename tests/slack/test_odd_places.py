"""Odd places people reach the bot from: a group DM, and the Messages tab of the app."""

from __future__ import annotations

from sqlalchemy import select

from bot.demo.simulator import BOT_ID
from bot.domain.people import upsert_member
from storage.models import Project
from tests.harness import HARNESS_NOW, TEAM, SlackHarness

DM_REFUSAL = "Projects live in channels, not in direct messages. Run this in the project's channel."
# How Slack sends a slash command typed in a group DM: a G… id and an ``mpdm-…`` channel name.
MPIM = "G0MPIM0001"
MPIM_NAME = "mpdm-alice--bob--carol-1"


def _projects(slack: SlackHarness) -> list[str]:
    with slack.db.read() as session:
        return list(session.scalars(select(Project.key)))


def test_project_new_in_a_group_dm_gets_the_friendly_refusal(slack: SlackHarness) -> None:
    response = slack.command("/project", "new ACME Acme Corp", channel=MPIM, channel_name=MPIM_NAME)
    assert response.status == 200
    assert slack.last_ephemeral() == DM_REFUSAL
    assert "missing_scope" not in " ".join(slack.ephemeral_texts())
    # Refused before asking Slack about a conversation the bot may not read.
    assert slack.fake.calls_to("conversations.info") == []
    assert _projects(slack) == []


def test_project_link_in_a_group_dm_gets_the_friendly_refusal(project: SlackHarness) -> None:
    project.command("/project", "link ACME", channel=MPIM, channel_name=MPIM_NAME)
    assert project.last_ephemeral() == DM_REFUSAL


def test_a_conversation_slack_will_not_describe_is_treated_as_a_dm(slack: SlackHarness) -> None:
    """Without mpim:read, conversations.info answers missing_scope for a group DM: still the friendly line."""
    slack.fake.fail("conversations.info", error="missing_scope")
    slack.command("/project", "new ACME Acme Corp", channel=MPIM, channel_name="privategroup")
    assert slack.last_ephemeral() == DM_REFUSAL
    assert _projects(slack) == []


def test_project_new_in_a_private_channel_still_works(slack: SlackHarness) -> None:
    slack.fake.add_channel("G0PRIVATE1", name="acme-private", is_private=True, is_member=True)
    slack.command("/project", "new ACME Acme Corp", channel="G0PRIVATE1", channel_name="acme-private")
    assert _projects(slack) == ["ACME"]


def _dm_event(text: str, **extra: object) -> dict[str, object]:
    return {
        "type": "message",
        "channel_type": "im",
        "channel": "DALICE",
        "user": "UALICE",
        "text": text,
        "ts": "1790000000.000100",
        "event_ts": "1790000000.000100",
        **extra,
    }


def _replies(slack: SlackHarness) -> list[str]:
    return [
        str(c.args.get("text"))
        for c in slack.fake.calls_to("chat.postMessage")
        if c.args["channel"] == "DALICE"
    ]


def test_a_message_in_the_messages_tab_gets_a_short_help_reply(slack: SlackHarness) -> None:
    slack.fake.add_channel("DALICE", is_im=True, is_private=True)
    assert slack.event(_dm_event("hello? how do I log an issue")).status == 200
    (reply,) = _replies(slack)
    assert reply.startswith("I don't read messages here.")
    assert "/issue" in reply and "Home tab" in reply


def test_the_help_reply_speaks_the_persons_language(slack: SlackHarness) -> None:
    slack.fake.add_channel("DALICE", is_im=True, is_private=True)
    with slack.db.write() as session:
        upsert_member(session, team_id=TEAM, member={"id": "UALICE", "locale": "zh-CN"}, now=HARNESS_NOW)
    slack.event(_dm_event("你好"))
    (reply,) = _replies(slack)
    assert reply.startswith("我不读这里的消息")


def test_the_bots_own_messages_and_edits_get_no_reply(slack: SlackHarness) -> None:
    slack.fake.add_channel("DALICE", is_im=True, is_private=True)
    slack.event(_dm_event("Your task is overdue", bot_id=BOT_ID, user="UAFTERCARE"), event_id="Ev1")
    slack.event(_dm_event("edited", subtype="message_changed"), event_id="Ev2")
    assert _replies(slack) == []
