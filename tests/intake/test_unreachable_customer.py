"""No silence: when the customer cannot be reached at all, the owners are told once and `check` lists it."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from slack_sdk import WebClient
from sqlalchemy import select, update

from bot.ops.check import run_check
from storage.models import Delivery, Project, Record
from tests.harness import HARNESS_NOW, SlackHarness, run_job
from tests.projects.test_closure import close
from tests.projects.test_closure import data as data  # the known data set, closed below

SLOT = HARNESS_NOW  # Monday 09:00 UTC: ACME's digest slot


@pytest.fixture
def project(project: SlackHarness) -> SlackHarness:
    """ACME (created a week before its slot) with work the customer hears about: a task in progress."""
    with project.db.write() as session:
        session.execute(
            update(Project).where(Project.key == "ACME").values(created_at=SLOT - timedelta(days=7))
        )
    assert project.command("/task", "new Install the printer driver").status == 200
    assert project.command("/task", "start ACME-1").status == 200
    with project.db.write() as session:  # logged during the week the report covers
        session.execute(update(Record).values(created_at=SLOT - timedelta(days=1)))
    project.fake.add_user("UCUST", team_id="TOTHER")
    project.fake.reset_calls()
    return project


def _notices(slack: SlackHarness, user: str = "UALICE") -> list[str]:
    return [str(m.get("text")) for m in slack.fake.posted(user) if "reach the customer" in str(m.get("text"))]


def _check_problems(slack: SlackHarness) -> list[str]:
    client = lambda token: WebClient(token=token, base_url=slack.fake.url)  # noqa: E731
    return [p for p in run_check(slack.settings, client=client).problems if "cannot be reached" in p]


@pytest.mark.parametrize(
    ("channel", "error"),
    [
        ({"is_ext_shared": True, "is_archived": True}, "is_archived"),
        # The bot was removed from a private channel shared with the customer: to the bot it no longer exists.
        ({"is_ext_shared": True, "is_private": True, "is_member": False}, "channel_not_found"),
    ],
    ids=["archived", "bot-removed"],
)
def test_an_unreachable_customer_is_told_to_the_owners_once_and_listed_by_check(
    project: SlackHarness, channel: dict[str, Any], error: str
) -> None:
    project.fake.add_channel("CPROJ", members=["UALICE", "UCUST"], **channel)

    first = run_job(project, "digest", SLOT)

    assert first.failed == 1
    with project.db.read() as session:
        row = session.scalar(select(Delivery).where(Delivery.key.startswith("customer_report:")))
        assert row is not None and (row.status, row.error) == ("failed", error)
    [notice] = _notices(project)
    assert f"I can't reach the customer in <#CPROJ> (project ACME): Slack said {error}." in notice
    assert _check_problems(project) == [
        f"customer of project ACME (T0001) cannot be reached in CPROJ: {error} "
        "(unarchive the channel, invite the bot back, or link the project to another channel)"
    ]

    # A week later the report fails again: the owners are not told twice.
    run_job(project, "digest", SLOT + timedelta(days=7))
    assert len(_notices(project)) == 1
    assert len(_check_problems(project)) == 1


def test_a_reachable_customer_is_not_listed(project: SlackHarness) -> None:
    project.fake.add_channel("CPROJ", is_ext_shared=True, members=["UALICE", "UCUST"])
    run_job(project, "digest", SLOT)
    assert _notices(project) == [] and _check_problems(project) == []


def test_a_closing_summary_to_an_archived_channel_is_told_to_the_owners(data: SlackHarness) -> None:
    data.fake.add_channel("CPROJ", is_ext_shared=True, is_archived=True, members=["UALICE"])
    close(data, channel="CPROJ")

    [notice] = _notices(data)
    assert "Slack said is_archived" in notice
