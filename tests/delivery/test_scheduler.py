"""The scheduler's tick with an injected clock: things go out at each person's and project's own local time, once."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from pytest_mock import MockerFixture
from sqlalchemy.orm import Session

from bot.delivery.base import JobContext
from bot.delivery.runner import Runner
from bot.delivery.scheduler import tick
from bot.demo.clock import Clock
from bot.domain.people import upsert_member
from bot.slack.services import Services
from tests.harness import SlackHarness, job_runner, joined

PEOPLE = {"USHA": "Asia/Shanghai", "UBER": "Europe/Berlin", "UNYC": "America/New_York"}


def _runner(slack: SlackHarness, clock: Clock) -> tuple[Services, Runner]:
    runner = job_runner(slack, clock)
    return runner.services, runner


def test_people_in_three_time_zones_get_one_nudge_at_their_own_nine(project: SlackHarness) -> None:
    with project.db.write() as session:
        for user, zone in PEOPLE.items():
            upsert_member(session, team_id="T0001", member={"id": user, "tz": zone}, now=datetime.now(UTC))
    for user in PEOPLE:
        project.command("/task", f"new Late work of {user} <@{user}|{user.lower()}> due:2026-12-01")
    project.fake.reset_calls()
    # From Sunday noon UTC to Tuesday 00:00 UTC, a tick every 15 minutes.
    clock = Clock(datetime(2026, 12, 6, 12, 0, tzinfo=UTC))
    services, runner = _runner(project, clock)
    while clock.now < datetime(2026, 12, 8, 0, 0, tzinfo=UTC):
        tick(services, runner)
        clock.advance(minutes=15)
    for user, zone in PEOPLE.items():
        [dm] = [m for m in project.fake.posted(user) if m.get("metadata")]
        local = datetime.fromtimestamp(int(float(dm["ts"])), UTC).astimezone(ZoneInfo(zone))
        # Monday, at the first tick from 09:00 on their own wall clock.
        assert (local.weekday(), local.hour, local.minute) == (0, 9, 0), (user, local)


def test_a_restart_mid_day_sends_a_missed_nudge_once(project: SlackHarness) -> None:
    with project.db.write() as session:
        upsert_member(
            session, team_id="T0001", member={"id": "UBER", "tz": "Europe/Berlin"}, now=datetime.now(UTC)
        )
    project.command("/task", "new Late <@UBER|ber> due:2026-12-01")
    # The scheduler was down at 09:00 Berlin; it comes back at 11:40 local.
    clock = Clock(datetime(2026, 12, 7, 10, 40, tzinfo=UTC))
    services, runner = _runner(project, clock)
    for _ in range(6):
        tick(services, runner)
        clock.advance(minutes=5)
    # A second process (a fresh runner) at the same time does not send it again.
    tick(services, _runner(project, clock)[1])
    assert len([m for m in project.fake.posted("UBER") if m.get("metadata")]) == 1
    # Out of the grace window, a missed slot is not sent late in the evening.
    clock.at(datetime(2026, 12, 8, 20, 0, tzinfo=UTC))
    tick(services, runner)
    assert len([m for m in project.fake.posted("UBER") if m.get("metadata")]) == 1


def test_one_failing_job_does_not_stop_the_others(project: SlackHarness, mocker: MockerFixture) -> None:
    from bot.delivery.base import Outgoing
    from bot.jobs import JOBS, Job

    joined(project.fake, "C1")

    def fine(session: Session, ctx: JobContext) -> list[Outgoing]:
        return [
            Outgoing(
                key="fine:T0001:1", team_id="T0001", kind="fine", text="still here", blocks=[], channel="C1"
            )
        ]

    mocker.patch("bot.jobs.nudges.plan", side_effect=RuntimeError("boom"))
    mocker.patch.dict(
        JOBS, {"zz-fine": Job("zz-fine", "test.fine", ("fine",), "tests.delivery.test_scheduler:FINE")}
    )
    mocker.patch("tests.delivery.test_scheduler.FINE", fine, create=True)
    clock = Clock(datetime(2026, 12, 7, 8, 0, tzinfo=UTC))
    services, runner = _runner(project, clock)
    tick(services, runner)
    assert [m["text"] for m in project.fake.posted("C1")] == ["still here"]


def test_weekly_digests_follow_each_projects_time_zone_across_dst(slack: SlackHarness) -> None:
    from sqlalchemy import update

    from storage.models import Project

    joined(slack.fake, "CRSHA", "CRNYC")  # the report channels
    slack.command("/project", "new SHA Shanghai customer", channel="CSHA")
    slack.command("/project", "new NYC New York customer", channel="CNYC")
    slack.command("/task", "new Something to report", channel="CSHA")
    slack.command("/task", "new Something to report", channel="CNYC")
    # Internal report channels, declared: a channel Slack does not know counts as shared.
    for report_channel in ("CRSHA", "CRNYC"):
        slack.fake.add_channel(report_channel)
    with slack.db.write() as session:
        session.execute(
            update(Project)
            .where(Project.key == "SHA")
            .values(
                timezone="Asia/Shanghai",
                report_channel_id="CRSHA",
                created_at=datetime(2026, 10, 1, tzinfo=UTC),
            )
        )
        session.execute(
            update(Project)
            .where(Project.key == "NYC")
            .values(
                timezone="America/New_York",
                report_channel_id="CRNYC",
                created_at=datetime(2026, 10, 1, tzinfo=UTC),
            )
        )
    # Hourly ticks from Sunday 25 October to Monday 2 November (New York leaves summer time on 1 November).
    clock = Clock(datetime(2026, 10, 25, 12, 0, tzinfo=UTC))
    services, runner = _runner(slack, clock)
    while clock.now <= datetime(2026, 11, 2, 16, 0, tzinfo=UTC):
        tick(services, runner)
        clock.advance(hours=1)

    def posted_at(channel: str) -> list[datetime]:
        return [
            datetime.fromtimestamp(int(float(m["ts"])), UTC)
            for m in slack.fake.posted(channel)
            if str((m.get("metadata") or {}).get("event_payload", {}).get("key", "")).startswith("digest:")
        ]

    # Monday 09:00 in Shanghai is 01:00 UTC; in New York 13:00 UTC in summer time, 14:00 UTC after it.
    assert posted_at("CRSHA") == [datetime(2026, 10, 26, 1, tzinfo=UTC), datetime(2026, 11, 2, 1, tzinfo=UTC)]
    assert posted_at("CRNYC") == [
        datetime(2026, 10, 26, 13, tzinfo=UTC),
        datetime(2026, 11, 2, 14, tzinfo=UTC),
    ]


def test_every_delivery_kind_has_a_job_that_retries_it() -> None:
    from bot.delivery.base import DeliveryKind
    from bot.jobs import JOBS

    retried = {kind for job in JOBS.values() for kind in job.kinds}
    # Failure notices are retried by the runner itself at the end of every run.
    assert retried | {DeliveryKind.DELIVERY_FAILED} == set(DeliveryKind)
