"""`/project close`: the private confirmation says where the closing summary for the customer went (the
project channel) and where the retrospective went."""

from __future__ import annotations

import pytest
from sqlalchemy import update

from storage.models import Project
from tests.harness import SlackHarness
from tests.projects.test_closing_customer import shared as shared  # ACME's channel shared with the customer
from tests.projects.test_closure import CLOSED, close
from tests.projects.test_closure import data as data


def _told(slack: SlackHarness) -> str:
    """What the person who closed the project was told privately (in the channel they closed it from)."""
    [confirmation] = [
        c.args for c in slack.fake.calls_to("chat.postEphemeral") if c.args.get("user") == "UALICE"
    ]
    return str(confirmation["text"])


def test_shared_channel_the_summary_is_there_and_the_retrospective_went_to_the_owners(
    shared: SlackHarness,
) -> None:
    close(shared)
    told = _told(shared)
    assert "The closing summary for the customer is in <#CPROJ>." in told
    assert "The report channel" not in told
    assert "retrospective report went to the project's owners by direct message" in told


def test_internal_channel_both_are_there(data: SlackHarness) -> None:
    data.fake.clock = lambda: CLOSED.timestamp()
    close(data)
    told = _told(data)
    assert "The retrospective report is in <#CPROJ>." in told
    assert "The closing summary for the customer is in <#CPROJ>." in told


def test_a_summary_slack_holds_back_is_said_to_come_later(shared: SlackHarness) -> None:
    shared.fake.fail("chat.postMessage", status=429, retry_after=120, times=50)
    close(shared)
    told = _told(shared)
    assert "The closing summary for the customer is not in <#CPROJ> yet (ratelimited)" in told
    assert "as soon as Slack allows" in told


def test_a_summary_slack_refuses_is_said_so(shared: SlackHarness) -> None:
    shared.fake.fail("chat.postMessage", error="not_in_channel", times=50)
    close(shared)
    told = _told(shared)
    assert "I couldn't post the closing summary for the customer in <#CPROJ> (not_in_channel)." in told


def test_in_chinese(shared: SlackHarness) -> None:
    with shared.db.write() as session:
        session.execute(update(Project).values(locale="zh-CN"))
    close(shared)
    assert "给客户的结项总结已发布到 <#CPROJ>。" in _told(shared)


@pytest.mark.parametrize("channel", ["CPROJ"])
def test_no_channel_no_summary_line(data: SlackHarness, channel: str) -> None:
    data.fake.clock = lambda: CLOSED.timestamp()
    with data.db.write() as session:
        session.execute(update(Project).values(channel_id=None))
    close(data, channel=channel)
    assert "closing summary" not in _told(data)
