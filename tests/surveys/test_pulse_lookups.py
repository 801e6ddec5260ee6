"""Before a pulse survey's invitations are planned, the surveys job asks Slack (``users.info``) about the
participants the directory cannot place: once per person in all, however many scheduler replicas run, a
chunk of projects prepared by the replica planning it, just before planning it (so a person of another
organisation gets the card in the project channel, never a DM). SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from slack_sdk import WebClient
from sqlalchemy import delete, select, update

from bot.delivery import planning
from bot.delivery.base import JobContext
from bot.delivery.runner import Runner, job_client_factory
from bot.delivery.scheduler import run_job
from bot.demo.clock import Clock
from bot.domain.surveys import KIND_PULSE, start_survey
from bot.jobs.surveys import prepare
from bot.slack.services import Services
from storage.db import Database
from storage.models import MemberRole, Person, Project, ProjectMember, Survey, SurveyParticipant
from tests.harness import TEAM, SlackHarness, answer_first_two_together, job_runner, joined, statements
from tests.surveys.test_surveys import person

# Monday 7 December 2026, 10:00 UTC: working hours in every project (UTC) and for every participant.
NOW = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)
SHARED = "UFARX"  # of the customer's organisation, asked by every project's survey
REPLICA_2 = "xoxb-replica-2"


def _pulses(slack: SlackHarness, numbers: range, *, shared: bool) -> list[int]:
    """A project per number, channel ``C<n>``, with a pulse survey just started whose participants the
    directory does not know: ``UFAR<n>`` of the customer's organisation, ``UNEAR<n>`` of this workspace (and
    :data:`SHARED` in every project, with ``shared``). Returns the surveys' ids."""
    people = [(f"UFAR{n}", "TCUSTOMER") for n in numbers] + [(f"UNEAR{n}", TEAM) for n in numbers]
    for user, team in [*people, (SHARED, "TCUSTOMER")]:
        slack.fake.add_user(user, team_id=team, tz="UTC")
    survey_ids: list[int] = []
    with slack.db.write() as session:
        for n in numbers:
            project = Project(
                team_id=TEAM, key=f"P{n:02d}", name=f"Project {n}", channel_id=f"C{n:02d}", timezone="UTC",
                locale="en", created_by="UALICE", created_at=NOW - timedelta(days=60),
            )  # fmt: skip
            session.add(project)
            session.flush()
            members = [("UALICE", MemberRole.OWNER), (f"UFAR{n}", MemberRole.CUSTOMER_CONTACT),
                       (f"UNEAR{n}", MemberRole.CUSTOMER_CONTACT)]  # fmt: skip
            for user, role in [*members, *([(SHARED, MemberRole.CUSTOMER_CONTACT)] if shared else [])]:
                session.add(ProjectMember(team_id=TEAM, project_id=project.id, user_id=user, role=role))
            session.flush()
            survey = start_survey(session, team_id=TEAM, project_id=project.id, kind=KIND_PULSE,
                                  created_by=None, now=NOW - timedelta(minutes=5))  # fmt: skip
            survey_ids.append(survey)
    joined(slack.fake, *(f"C{n:02d}" for n in numbers))
    return survey_ids


def _asked(slack: SlackHarness, token: str | None = None) -> list[str]:
    """Whom ``users.info`` asked about, in order (by the replica using ``token`` only, when given)."""
    return [
        str(call.args["user"])
        for call in slack.fake.calls_to("users.info")
        if token is None or token in call.headers.get("authorization", "")
    ]


def _forget(slack: SlackHarness, *users: str) -> None:
    """The directory forgets ``users`` (as before anyone asked Slack about them)."""
    with slack.db.write() as session:
        session.execute(delete(Person).where(Person.user_id.in_(users)))


def test_two_replicas_ask_about_each_person_once_in_all_and_card_them(
    slack: SlackHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(planning, "PLAN_CHUNK", 1)  # a chunk per project: both replicas prepare some
    survey_ids = _pulses(slack, range(6), shared=False)
    clock = slack.use_clock(Clock(NOW))
    other_db = Database(slack.db.url.render_as_string(hide_password=False))
    first = job_runner(slack, clock)
    second = Runner(
        Services(settings=slack.settings, db=other_db, clock=clock),
        lambda _team: WebClient(token=REPLICA_2, base_url=slack.settings.api_url, retry_handlers=[]),
        sleep=clock.sleep,
        monotonic=clock.monotonic,
    )
    together = answer_first_two_together(slack, monkeypatch, "users.info")  # both replicas at it at once
    start = threading.Barrier(2)

    def go(runner: Runner) -> None:
        start.wait()
        run_job("surveys", runner.services, runner, JobContext(now=NOW))

    threads = [threading.Thread(target=go, args=(runner,)) for runner in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    other_db.dispose()

    everyone = [f"UFAR{n}" for n in range(6)] + [f"UNEAR{n}" for n in range(6)]
    assert sorted(_asked(slack)) == sorted(everyone)  # each once, in all
    assert together == [True, True]
    assert 0 < len(_asked(slack, REPLICA_2)) < len(everyone)  # both replicas asked about some
    # Each chunk was prepared before it was planned: the customer's people on their project's card, never DMed.
    posted = sorted(m["metadata"]["event_payload"]["key"] for m in slack.fake.posted() if m.get("metadata"))
    cards = [f"survey-card:{TEAM}:{survey_id}" for survey_id in survey_ids]
    dms = [f"survey:{TEAM}:{survey_id}:UNEAR{n}" for n, survey_id in enumerate(survey_ids)]
    assert posted == sorted([*cards, *dms])
    for n in range(6):
        [card] = slack.fake.posted(f"C{n:02d}")
        assert f"<@UFAR{n}>" in card["text"]


def test_a_run_scoped_to_a_project_prepares_that_project_only(slack: SlackHarness) -> None:
    """Planned whole (a scope, not chunks): prepared whole, just before it is planned."""
    survey_ids = _pulses(slack, range(3), shared=False)
    runner = job_runner(slack, slack.use_clock(Clock(NOW)))
    run_job("surveys", slack.services, runner, JobContext(now=NOW, project_key="P01"))
    assert _asked(slack) == ["UFAR1", "UNEAR1"]
    posted = sorted(m["metadata"]["event_payload"]["key"] for m in slack.fake.posted() if m.get("metadata"))
    assert posted == [f"survey-card:{TEAM}:{survey_ids[1]}", f"survey:{TEAM}:{survey_ids[1]}:UNEAR1"]


def test_a_chunked_preparation_asks_what_the_whole_one_asks(
    slack: SlackHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(planning, "PLAN_CHUNK", 1)
    survey_ids = _pulses(slack, range(4), shared=True)
    with slack.db.write() as session:  # already invited: nobody asks about them any more
        session.execute(
            update(SurveyParticipant)
            .where(SurveyParticipant.survey_id == survey_ids[1], SurveyParticipant.user_id == "UNEAR1")
            .values(invited_at=NOW)
        )
        session.execute(update(Survey).where(Survey.id == survey_ids[3]).values(closes_at=NOW))  # closed
    services = slack.services
    client_for = job_client_factory(services)
    chunks = planning.PlanningTurns(services, "surveys").chunks()
    assert len(chunks) == 4

    for chunk in chunks:
        prepare(services, client_for, JobContext(now=NOW, projects=chunk.projects))
    by_chunk = _asked(slack)
    _forget(slack, *by_chunk)
    slack.fake.reset_calls()
    prepare(services, client_for, JobContext(now=NOW))
    whole = _asked(slack)

    assert by_chunk == whole == ["UFAR0", "UNEAR0", SHARED, "UFAR1", "UFAR2", "UNEAR2"]
    with slack.db.read() as session:
        homes = {user: home for user, home in session.execute(select(Person.user_id, Person.home_team_id))}
    assert homes == {"UFAR0": "TCUSTOMER", "UNEAR0": TEAM, SHARED: "TCUSTOMER", "UFAR1": "TCUSTOMER",
                     "UFAR2": "TCUSTOMER", "UNEAR2": TEAM}  # fmt: skip


def test_the_preparations_statements_do_not_grow_with_the_surveys(slack: SlackHarness) -> None:
    """Everyone but :data:`SHARED` is in the directory already: two surveys or six, the same statements."""

    def prepared_with(numbers: range) -> list[str]:
        _pulses(slack, numbers, shared=True)
        for n in numbers:
            person(slack, f"UFAR{n}", "UTC", team_id="TCUSTOMER")
            person(slack, f"UNEAR{n}", "UTC", team_id=TEAM)
        _forget(slack, SHARED)
        slack.fake.reset_calls()
        with statements(slack.db) as seen:
            prepare(slack.services, job_client_factory(slack.services), JobContext(now=NOW))
        assert _asked(slack) == [SHARED]
        return seen

    two = prepared_with(range(2))
    six = prepared_with(range(2, 6))
    with slack.db.read() as session:
        assert len(session.scalars(select(Survey.id)).all()) == 6
    assert len(six) == len(two)
