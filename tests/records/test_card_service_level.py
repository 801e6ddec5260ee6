"""Internal cards show the service-level state (issue 13 item 7): a card posted or redrawn in a channel gets
the line only when the audience policy finds the channel internal; shared or unknown channels never do."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from bot.domain.service_levels import start_clocks
from storage.models import MemberRole, Priority, Project, ProjectMember, Record
from tests.harness import SlackHarness
from tests.intake.test_sla_job import MON


def _at(slack: SlackHarness, when: datetime) -> None:
    slack.services.clock = lambda: when


def _customer_issue(slack: SlackHarness) -> str:
    """An issue logged with its card in CPROJ, then given a customer requester (clocks from Monday 09:00)."""
    slack.command("/issue", "new Printer down")
    with slack.db.write() as session:
        record = session.scalars(select(Record).order_by(Record.id.desc())).first()
        assert record is not None and record.card_channel_id == "CPROJ"
        project = session.get(Project, record.project_id)
        assert project is not None
        project.timezone = "UTC"
        record.priority = Priority.HIGH
        record.requester_id, record.requester_external = "UCUST", True
        start_clocks(record, project, start=MON)
        return record.key


def _card_updates(slack: SlackHarness) -> list[str]:
    return [json.dumps(c.args.get("blocks"), ensure_ascii=False) for c in slack.fake.calls_to("chat.update")
            if c.args.get("channel") == "CPROJ"]  # fmt: skip


@pytest.fixture
def acme(project: SlackHarness) -> SlackHarness:
    project.fake.add_user("UALICE")
    project.fake.add_user("UBOB")
    project.fake.add_channel("CPROJ", members=["UALICE", "UBOB"])
    return project


def test_the_card_in_an_internal_channel_shows_the_service_level(acme: SlackHarness) -> None:
    key = _customer_issue(acme)
    _at(acme, MON + timedelta(hours=2, minutes=40))
    acme.fake.reset_calls()

    acme.command("/issue", f"assign {key} <@UBOB|bob>")

    [card] = _card_updates(acme)
    assert "first response due in 1 h 20 m" in card
    assert [c.args["channel"] for c in acme.fake.calls_to("conversations.info")] == ["CPROJ"]
    # Within a minute the decision is remembered: Slack (Tier 3) is not asked again.
    _at(acme, MON + timedelta(hours=2, minutes=40, seconds=30))
    acme.command("/issue", f"assign {key} <@UALICE|alice>")
    assert "first response due in 1 h 19 m" in _card_updates(acme)[-1]
    assert len(acme.fake.calls_to("conversations.info")) == 1
    # Later it is asked again.
    _at(acme, MON + timedelta(hours=2, minutes=45))
    acme.command("/issue", f"assign {key} <@UBOB|bob>")
    assert len(acme.fake.calls_to("conversations.info")) == 2


@pytest.mark.parametrize("case", ["ext-shared", "guest", "customer-contact", "slack-cannot-tell"])
def test_a_card_in_a_shared_or_unknown_channel_shows_no_figures(acme: SlackHarness, case: str) -> None:
    if case == "ext-shared":
        acme.fake.state.channels["CPROJ"].is_ext_shared = True
    elif case == "guest":
        acme.fake.add_user("UGUEST", is_restricted=True)
        acme.fake.state.channels["CPROJ"].members.add("UGUEST")
    key = _customer_issue(acme)
    if case == "customer-contact":  # UBOB, a member of CPROJ, is the project's customer contact
        with acme.db.write() as session:
            record = session.scalar(select(Record).where(Record.key == key))
            assert record is not None
            session.add(ProjectMember(team_id=record.team_id, project_id=record.project_id, user_id="UBOB",
                                      role=MemberRole.CUSTOMER_CONTACT))  # fmt: skip
    if case == "slack-cannot-tell":
        acme.fake.fail("conversations.info", error="ratelimited")
    _at(acme, MON + timedelta(hours=2, minutes=40))
    acme.fake.reset_calls()

    acme.command("/issue", f"assign {key} <@UALICE|alice>")

    [card] = _card_updates(acme)
    assert key in card and "first response" not in card


def test_a_card_without_a_service_level_asks_slack_nothing(acme: SlackHarness) -> None:
    acme.command("/issue", "new Not a customer issue")
    acme.fake.reset_calls()
    acme.command("/issue", "assign ACME-1 <@UBOB|bob>")
    [card] = _card_updates(acme)
    assert "first response" not in card and acme.fake.calls_to("conversations.info") == []


def test_once_the_channel_is_shared_its_cards_lose_the_figures_at_once(acme: SlackHarness) -> None:
    key = _customer_issue(acme)
    _at(acme, MON + timedelta(hours=2, minutes=40))
    acme.command("/issue", f"assign {key} <@UBOB|bob>")
    assert "first response due" in _card_updates(acme)[-1]
    acme.fake.state.channels["CPROJ"].is_ext_shared = True
    acme.event(
        {"type": "channel_shared", "connected_team_id": "TOTHER", "channel": "CPROJ", "event_ts": "1.0"},
        event_id="EvShared",
    )

    acme.command("/issue", f"assign {key} <@UALICE|alice>")  # within the minute the decision was cached

    assert "first response" not in _card_updates(acme)[-1]
