"""Surveys reach everyone: DMs to people of this workspace, one card in the project channel for people of
another organisation, and one reminder there that mentions only those who have not answered."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from bot.delivery.base import JobContext
from bot.delivery.runner import Runner, job_client_factory
from bot.delivery.scheduler import run_job as scheduler_run_job
from bot.demo.clock import Clock
from bot.domain.survey_channel import of_another_organisation
from bot.jobs.surveys import plan
from storage.models import Person, Project, SurveyResponse
from tests.harness import TEAM, SlackHarness
from tests.surveys.test_surveys import (
    START,
    add_member,
    cards,
    dms,
    participants,
    person,
    press_card,
    run_job,
    runner_for,
    set_project,
    surveys,
)


@pytest.fixture
def clock(slack: SlackHarness) -> Clock:
    return slack.use_clock(Clock(START))


@pytest.fixture
def mixed(project: SlackHarness, clock: Clock) -> SlackHarness:
    """ACME in a channel shared with the customer: two people of the customer's organisation, a contact who
    is a member here and a guest of this workspace."""
    person(project, "UALICE", "UTC")
    person(project, "UCHEN", "Asia/Shanghai", "zh-CN", team_id="TCUSTOMER")
    person(project, "UKIM", "Asia/Shanghai", team_id="TCUSTOMER")
    person(project, "UNY", "UTC")
    person(project, "UGUEST", "UTC", is_restricted=True)
    for user in ("UCHEN", "UKIM", "UNY", "UGUEST"):
        add_member(project, user)
    project.fake.state.channels["CPROJ"].is_ext_shared = True
    project.fake.add_user("UCHEN", team_id="TCUSTOMER")
    project.fake.add_user("UKIM", team_id="TCUSTOMER")
    return project


def start(slack: SlackHarness) -> int:
    slack.command("/project", "survey")
    return surveys(slack)[-1].id


def test_one_card_for_the_other_organisation_and_dms_for_this_workspace(
    mixed: SlackHarness, clock: Clock
) -> None:
    slack = mixed
    survey_id = start(slack)
    noon = START + timedelta(hours=3)  # 11:00 in Shanghai, 04:00 UTC: only the Shanghai people's hours
    run_job(slack, clock, noon)
    [card] = cards(slack)
    assert card["key"] == f"survey-card:{TEAM}:{survey_id}"
    assert card["text"].startswith("<@UCHEN> <@UKIM>")
    assert "<@UNY>" not in card["text"] and "<@UGUEST>" not in card["text"]
    assert dms(slack, "UNY") == [] and dms(slack, "UGUEST") == []  # not their hours yet
    assert dms(slack, "UCHEN") == [] and dms(slack, "UKIM") == []
    # Monday 09:00 UTC: the member and the guest of this workspace get their DMs; no second card.
    run_job(slack, clock, START + timedelta(hours=8))
    assert len(dms(slack, "UNY")) == 1 and len(dms(slack, "UGUEST")) == 1
    assert len(cards(slack)) == 1
    assert not [c for c in slack.fake.calls_to("chat.postMessage") if c.args["channel"] in ("UCHEN", "UKIM")]

    # UCHEN answers on the card; UKIM does not. Three days later one reminder mentions only UKIM.
    press_card(slack, "UCHEN", 5, card)
    run_job(slack, clock, noon + timedelta(days=3) - timedelta(minutes=5))
    assert len(cards(slack)) == 1
    run_job(slack, clock, noon + timedelta(days=3))
    reminder = cards(slack)[1]
    assert reminder["key"] == f"survey-card-reminder:{TEAM}:{survey_id}"
    assert "<@UKIM>" in reminder["text"] and "<@UCHEN>" not in reminder["text"]
    assert "A gentle reminder" in reminder["text"]
    # UKIM answers on the reminder; only the reminder is ever sent once.
    press_card(slack, "UKIM", 3, reminder)
    run_job(slack, clock, noon + timedelta(days=4))
    assert len(cards(slack)) == 2
    with slack.db.read() as session:
        assert sorted(score or 0 for score in session.scalars(select(SurveyResponse.score))) == [3, 5]

    # Closed: the card refuses answers privately, and is never redrawn.
    closing = START + timedelta(days=7)
    run_job(slack, clock, closing)
    clock.at(closing + timedelta(hours=1))
    press_card(slack, "UKIM", 1, card)
    assert "This survey is closed" in slack.last_ephemeral()
    assert slack.fake.calls_to("chat.update") == []
    # The results (with comments) stay internal: never in the shared project channel.
    assert [c["key"] for c in cards(slack)] == [f"survey-card:{TEAM}:{survey_id}",
                                                f"survey-card-reminder:{TEAM}:{survey_id}"]  # fmt: skip
    assert not [m for m in slack.fake.posted("CPROJ") if "Answered:" in str(m.get("text"))]
    assert "Answered: 2 of 4" in dms(slack, "UALICE")[-1]["text"]


def test_someone_the_directory_does_not_place_is_looked_up_when_the_survey_starts(
    project: SlackHarness, clock: Clock
) -> None:
    project.fake.add_user("UFAR", team_id="TCUSTOMER", tz="Asia/Tokyo")
    add_member(project, "UFAR")
    project.fake.add_user("UFAR", team_id="TCUSTOMER", tz="Asia/Tokyo")  # add_member made them one of ours
    survey_id = start(project)
    with project.db.read() as session:
        far = session.scalars(select(Person).where(Person.user_id == "UFAR")).one()
    assert far.home_team_id == "TCUSTOMER"
    assert [c.args["user"] for c in project.fake.calls_to("users.info")] == ["UFAR"]
    run_job(project, clock, START + timedelta(hours=1))  # 10:00 in Tokyo
    [card] = cards(project)
    assert card["key"] == f"survey-card:{TEAM}:{survey_id}" and "<@UFAR>" in card["text"]
    assert project.fake.calls_to("conversations.open") == []


def test_no_card_when_the_project_has_no_channel(project: SlackHarness, clock: Clock) -> None:
    person(project, "UCHEN", "UTC", team_id="TCUSTOMER")
    add_member(project, "UCHEN")
    start(project)
    with project.db.write() as session:
        session.execute(update(Project).values(channel_id=None))
    report = run_job(project, clock, START + timedelta(hours=8))
    assert report.planned == 0 and cards(project) == [] and dms(project, "UCHEN") == []


def test_the_card_in_chinese(project: SlackHarness, clock: Clock) -> None:
    person(project, "UCHEN", "Asia/Shanghai", "zh-CN", team_id="TCUSTOMER")
    add_member(project, "UCHEN")
    with project.db.write() as session:
        session.execute(update(Project).values(locale="zh-CN"))
    start(project)
    run_job(project, clock, START + timedelta(minutes=30))
    [card] = cards(project)
    assert "<@UCHEN>" in card["text"] and "只有被提及的人可以作答" in card["text"]
    assert "2026年12月7日" in card["text"]


def test_a_dry_run_shows_the_card_and_claims_nothing(mixed: SlackHarness, clock: Clock) -> None:
    survey_id = start(mixed)
    when = START + timedelta(hours=3)
    clock.at(when)
    runner = Runner(
        mixed.services, job_client_factory(mixed.services), sleep=clock.sleep, monotonic=clock.monotonic
    )
    dry = runner.dry_run([plan], JobContext(now=when))
    [line] = dry.lines
    assert line.split()[1] == f"survey-card:{TEAM}:{survey_id}" and "→ CPROJ" in line
    assert cards(mixed) == []
    assert participants(mixed)["UCHEN"].invited_at is None and participants(mixed)["UKIM"].invited_at is None


@pytest.mark.parametrize(
    ("home", "team", "other"),
    [("TCUSTOMER", "T0001", True), ("T0001", "T0001", False), (None, "T0001", False), ("", "T0001", False)],
)
def test_another_organisation_is_read_from_the_home_workspace(
    home: str | None, team: str, other: bool
) -> None:
    assert of_another_organisation(home, team) is other


def test_the_closing_survey_reaches_a_customer_of_another_organisation(
    project: SlackHarness, clock: Clock
) -> None:
    from tests.projects.test_closure import close

    project.fake.add_user("UFAR", team_id="TCUSTOMER", tz="UTC")
    add_member(project, "UFAR")
    project.fake.add_user("UFAR", team_id="TCUSTOMER", tz="UTC")
    close(project, now=START)
    [survey] = surveys(project)
    assert survey.kind == "closing"
    with project.db.read() as session:
        assert (
            session.scalars(select(Person.home_team_id).where(Person.user_id == "UFAR")).one() == "TCUSTOMER"
        )
    project.services.clock = clock
    run_job(project, clock, START + timedelta(hours=8))
    [card] = cards(project)
    assert "<@UFAR>" in card["text"] and "has been closed" in card["text"]
    assert dms(project, "UFAR") == []


def test_a_colleague_of_a_sibling_grid_workspace_is_asked_by_dm_not_on_the_card(
    project: SlackHarness, clock: Clock
) -> None:
    project.fake.script_install(enterprise_id="E0001")
    set_project(project, enterprise_id="E0001")
    for user, team, grid in (
        ("UGRID", "T0002", "E0001"),
        ("UFAR", "TCUST", "E0999"),
    ):  # UFAR: another org's Grid
        add_member(project, user)
        person(project, user, "UTC", team_id=team, enterprise_id=grid)
        project.fake.add_user(user, team_id=team, enterprise_id=grid, tz="UTC")
    survey_id = start(project)

    run_job(project, clock, START + timedelta(hours=8))  # Monday 09:00 UTC

    assert len(dms(project, "UGRID")) == 1
    [card] = cards(project)
    assert card["key"] == f"survey-card:{TEAM}:{survey_id}"
    assert "<@UFAR>" in card["text"] and "<@UGRID>" not in card["text"]
    assert dms(project, "UFAR") == []


@pytest.mark.parametrize(
    ("grid", "home", "home_enterprise", "other"),
    [
        ("E0001", "T0002", "E0001", False),  # a sibling workspace of the same Grid
        ("E0001", "T0002", "E0999", True),
        (
            "E0001",
            "T0002",
            None,
            False,
        ),  # stored before the directory kept organisations: DM (ledger reports)
        (None, "T0002", "E0001", True),
        ("E0001", "T0001", None, False),
    ],
)
def test_another_organisation_reads_the_grid_of_the_home_workspace(
    grid: str | None, home: str, home_enterprise: str | None, other: bool
) -> None:
    assert (
        of_another_organisation(home, "T0001", home_enterprise_id=home_enterprise, enterprise_id=grid)
        is other
    )


def _asked(slack: SlackHarness) -> list[str]:
    """Whom the bot asked ``users.info`` about, apart from the owner (the audience policy asks about her)."""
    return [c.args["user"] for c in slack.fake.calls_to("users.info") if c.args["user"] != "UALICE"]


def test_a_pulse_survey_looks_up_people_the_directory_does_not_place(
    project: SlackHarness, clock: Clock
) -> None:
    add_member(project, "UFAR")
    project.fake.add_user("UFAR", team_id="TCUSTOMER", tz="UTC")  # add_member made them one of ours
    set_project(project, survey_pulse_days=30, created_at=START - timedelta(days=40))
    noon = START + timedelta(hours=11)  # Monday 12:00 UTC
    services = project.services
    runner = runner_for(project, clock)

    clock.at(noon)
    scheduler_run_job("surveys", services, runner, JobContext(now=noon))  # the pulse starts
    [survey] = surveys(project)
    assert survey.kind == "pulse" and _asked(project) == []
    clock.at(noon + timedelta(minutes=5))
    scheduler_run_job("surveys", services, runner, JobContext(now=noon + timedelta(minutes=5)))

    assert _asked(project) == ["UFAR"]
    with project.db.read() as session:
        far = session.scalars(select(Person).where(Person.user_id == "UFAR")).one()
    assert far.home_team_id == "TCUSTOMER"
    [card] = cards(project)
    assert card["key"] == f"survey-card:{TEAM}:{survey.id}" and "<@UFAR>" in card["text"]
    assert dms(project, "UFAR") == [] and project.fake.calls_to("conversations.open") == []
    # Known now: the next run asks Slack nothing more.
    project.fake.reset_calls()
    clock.at(noon + timedelta(minutes=10))
    scheduler_run_job("surveys", services, runner, JobContext(now=noon + timedelta(minutes=10)))
    assert _asked(project) == []
