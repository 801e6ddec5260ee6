"""The user directory: paged ``users.list``, ``user_change`` events, and what the app does when it loses access."""

from __future__ import annotations

import json
import logging
import threading
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from bot.domain.people import get_person
from bot.slack import directory, ids
from bot.slack.app import web_client
from bot.slack.directory import ensure_directory, sync_directory
from storage.models import DirectorySync, Person
from tests.harness import HARNESS_NOW, TEAM, SlackHarness, acked_before, click
from tests.home.test_app_home import open_home, published, sections, texts

PAGE_1 = [
    {"id": "UALICE", "name": "alice", "real_name": "Alice Liddell", "tz": "Asia/Shanghai", "locale": "zh-CN",
     "profile": {"display_name": "alice"}},
    {"id": "UBOB", "name": "bob", "tz": "Europe/Berlin", "locale": "en-US", "is_admin": True},
]  # fmt: skip
PAGE_2 = [
    {"id": "UCAROL", "name": "carol", "tz": "America/New_York", "locale": "en-GB"},
    {"id": "UHELPER", "name": "helper", "is_bot": True},
]


def two_pages(args: dict[str, Any]) -> dict[str, Any]:
    if args.get("cursor") == "dXNlcjpVQ0FST0w=":
        return {"ok": True, "members": PAGE_2, "response_metadata": {"next_cursor": ""}}
    return {"ok": True, "members": PAGE_1, "response_metadata": {"next_cursor": "dXNlcjpVQ0FST0w="}}


def people(slack: SlackHarness, team: str = TEAM) -> dict[str, Person]:
    with slack.db.read() as session:
        return {p.user_id: p for p in session.scalars(select(Person).where(Person.team_id == team))}


def test_opening_app_home_fills_the_directory_from_every_page(slack: SlackHarness) -> None:
    slack.fake.responders["users.list"] = two_pages

    open_home(slack)

    calls = slack.fake.calls_to("users.list")
    assert len(calls) == 2
    assert [c.args.get("cursor") for c in calls] == [None, "dXNlcjpVQ0FST0w="]
    assert all(c.args["limit"] == "200" and c.args["include_locale"] == "true" for c in calls)
    found = people(slack)
    assert set(found) == {"UALICE", "UBOB", "UCAROL", "UHELPER"}
    assert (found["UALICE"].timezone, found["UALICE"].locale) == ("Asia/Shanghai", "zh-CN")
    assert (found["UCAROL"].timezone, found["UCAROL"].locale) == ("America/New_York", "en-GB")
    assert found["UBOB"].is_admin and found["UHELPER"].is_bot
    # Alice's home is drawn after the sync (so in her language once there is something to show).
    assert [c.method for c in slack.fake.calls] == ["users.list", "users.list", "views.publish"]
    assert published(slack)[0]["user_id"] == "UALICE"


def test_the_directory_is_synced_once_not_on_every_visit(slack: SlackHarness) -> None:
    slack.fake.responders["users.list"] = two_pages
    open_home(slack)
    open_home(slack, "UBOB")
    open_home(slack)
    assert len(slack.fake.calls_to("users.list")) == 2  # the two pages of the first visit only
    assert len(published(slack)) == 3


def test_someone_who_joined_after_the_sync_is_fetched_alone(slack: SlackHarness) -> None:
    slack.fake.responders["users.list"] = two_pages
    slack.fake.responders["users.info"] = lambda args: {
        "ok": True,
        "user": {"id": args["user"], "name": "dave", "tz": "Asia/Tokyo", "locale": "en-US"},
    }
    open_home(slack)
    slack.fake.reset_calls()

    open_home(slack, "UDAVE")

    assert slack.fake.calls_to("users.list") == []
    [info] = slack.fake.calls_to("users.info")
    assert info.args["user"] == "UDAVE"
    assert people(slack)["UDAVE"].timezone == "Asia/Tokyo"


def test_sync_directory_returns_the_count_and_survives_slack_errors(slack: SlackHarness) -> None:
    client = web_client(slack.services, slack.settings.slack_bot_token)
    slack.fake.fail("users.list", error="missing_scope")
    assert sync_directory(slack.services, client, TEAM) == 0
    assert people(slack) == {}

    slack.fake.responders["users.list"] = two_pages
    assert sync_directory(slack.services, client, TEAM) == 0  # not again within five minutes
    slack.services.clock = lambda: HARNESS_NOW + timedelta(minutes=5)
    assert sync_directory(slack.services, client, TEAM) == 4
    assert len(people(slack)) == 4
    ensure_directory(slack.services, client, TEAM)  # already filled: no call
    assert len(slack.fake.calls_to("users.list")) == 3


def test_a_failing_second_page_keeps_the_first(slack: SlackHarness) -> None:
    client = web_client(slack.services, slack.settings.slack_bot_token)
    pages = iter(
        [
            {"ok": True, "members": PAGE_1, "response_metadata": {"next_cursor": "next"}},
            {"ok": False, "error": "internal_error"},
        ]
    )
    slack.fake.responders["users.list"] = lambda args: next(pages)

    assert sync_directory(slack.services, client, TEAM) == 2
    assert set(people(slack)) == {"UALICE", "UBOB"}


def test_app_home_still_drawn_when_the_directory_cannot_be_read(slack: SlackHarness) -> None:
    slack.fake.fail("users.list", status=500)
    open_home(slack)
    [call] = published(slack)
    assert "Nothing overdue" in texts(sections(call["view"])["Overdue"])  # default locale
    # A failed sync is not retried on every visit (it would be a Slack call per event).
    open_home(slack)
    assert len(slack.fake.calls_to("users.list")) == 1
    assert len(published(slack)) == 2


def test_user_change_updates_the_cached_person(slack: SlackHarness) -> None:
    slack.fake.responders["users.list"] = two_pages
    open_home(slack, "UBOB")
    assert people(slack)["UBOB"].locale == "en-US"

    response = slack.event(
        {
            "type": "user_change",
            "user": {"id": "UBOB", "team_id": TEAM, "name": "bob", "real_name": "Bob B.",
                     "tz": "Asia/Shanghai", "locale": "zh-CN", "is_admin": False,
                     "profile": {"display_name": "bobby"}},
            "cache_ts": 1700000000,
            "event_ts": "1700000000.000100",
        },
        event_id="Ev0002",
    )  # fmt: skip

    assert response.status == 200
    bob = people(slack)["UBOB"]
    assert (bob.locale, bob.timezone, bob.name, bob.is_admin) == ("zh-CN", "Asia/Shanghai", "bobby", False)
    assert len(people(slack)) == 4  # no duplicate row


def test_user_change_of_someone_new_and_their_home_in_zh_cn(project: SlackHarness) -> None:
    project.command("/task", "new Write docs <@UALICE|alice> due:2026-11-01")
    project.fake.responders["users.list"] = lambda args: {
        "ok": True,
        "members": [{"id": "UBOB", "name": "bob"}],
    }
    project.event(
        {"type": "user_change", "user": {"id": "UALICE", "name": "alice", "locale": "zh-CN", "tz": "UTC"}},
        event_id="Ev0003",
    )
    assert people(project)["UALICE"].locale == "zh-CN"
    project.fake.reset_calls()

    open_home(project)

    assert project.fake.calls_to("users.list") == []  # synced once already, when the task was assigned
    blocks = published(project)[0]["view"]["blocks"]
    assert "2026年11月1日" in texts(blocks)


def test_user_change_keeps_the_persons_preferences(home_toggled: SlackHarness) -> None:
    home_toggled.event(
        {"type": "user_change", "user": {"id": "UALICE", "name": "alice", "locale": "en-US"}},
        event_id="Ev0004",
    )
    assert people(home_toggled)["UALICE"].notify_assignments is False


@pytest.fixture
def home_toggled(slack: SlackHarness) -> SlackHarness:
    from bot.domain.people import set_notify_assignments

    with slack.db.write() as session:
        set_notify_assignments(session, team_id=TEAM, user_id="UALICE", enabled=False)
    return slack


@pytest.mark.parametrize("event_type", ["app_uninstalled", "tokens_revoked"])
def test_losing_access_is_logged_in_single_workspace_mode(
    slack: SlackHarness, event_type: str, caplog: pytest.LogCaptureFixture
) -> None:
    event: dict[str, Any] = {"type": event_type}
    if event_type == "tokens_revoked":
        event["tokens"] = {"oauth": [], "bot": ["UAFTERCARE"]}
    with caplog.at_level(logging.WARNING, logger="aftercare.listeners.events"):
        response = slack.event(event, event_id="Ev0005")
    assert response.status == 200
    assert any(event_type in r.getMessage() and TEAM in r.getMessage() for r in caplog.records)
    assert [c.method for c in slack.fake.calls] == []


# -- Slack's limits: a sync that resumes, never in a listener thread; other organisations by users.info --

PAGE_3 = [{"id": "UDAVE", "name": "dave", "tz": "Asia/Tokyo"}]


def three_pages_limited_on_the_second(slack: SlackHarness, retry_after: int = 30) -> None:
    """users.list in three pages; the first call for page 2 is refused with 429 and ``Retry-After``."""
    pages = {None: (PAGE_1, "c2"), "c2": (PAGE_2, "c3"), "c3": (PAGE_3, "")}
    limited: list[bool] = []

    def answer(args: dict[str, Any]) -> dict[str, Any]:
        members, next_cursor = pages[args.get("cursor")]
        if not limited:
            limited.append(True)
            slack.fake.fail("users.list", status=429, retry_after=retry_after)  # the next call: page 2
        return {"ok": True, "members": members, "response_metadata": {"next_cursor": next_cursor}}

    slack.fake.responders["users.list"] = answer


def sync_row(slack: SlackHarness) -> DirectorySync:
    with slack.db.read() as session:
        row = session.get(DirectorySync, TEAM)
        assert row is not None
        session.expunge(row)
        return row


def cursors(slack: SlackHarness) -> list[str | None]:
    return [c.args.get("cursor") for c in slack.fake.calls_to("users.list")]


def test_a_rate_limited_sync_resumes_later_from_the_page_it_stopped_at(slack: SlackHarness) -> None:
    three_pages_limited_on_the_second(slack)

    open_home(slack)

    assert cursors(slack) == [None, "c2"]  # page 1, then page 2 refused
    assert set(people(slack)) == {"UALICE", "UBOB"}
    row = sync_row(slack)
    assert (row.cursor, row.complete, row.next_at) == ("c2", False, HARNESS_NOW + timedelta(seconds=30))
    assert len(published(slack)) == 1  # the home is drawn all the same
    assert slack.slept == []  # nobody slept on the 429

    # Before the instant Slack gave, no call at all.
    slack.services.clock = lambda: HARNESS_NOW + timedelta(seconds=29)
    open_home(slack, "UBOB")
    assert cursors(slack) == [None, "c2"]

    slack.services.clock = lambda: HARNESS_NOW + timedelta(seconds=30)
    open_home(slack, "UCAROL")

    assert cursors(slack) == [None, "c2", "c2", "c3"]  # from page 2 on, not from the start
    assert set(people(slack)) == {"UALICE", "UBOB", "UCAROL", "UHELPER", "UDAVE"}
    row = sync_row(slack)
    assert (row.cursor, row.complete, row.next_at, row.stored) == (None, True, None, 5)
    assert published(slack)[-1]["user_id"] == "UCAROL"
    open_home(slack, "UDAVE")
    assert len(cursors(slack)) == 4  # synced: no more users.list


def test_a_listener_that_needs_the_directory_does_not_wait_for_its_sync(
    slack: SlackHarness, mocker: Any
) -> None:
    slack.fake.responders["users.list"] = two_pages
    ran_on: list[str] = []
    real_sync = directory.sync_directory

    def sync(*args: Any) -> int:
        ran_on.append(threading.current_thread().name)
        return real_sync(*args)

    mocker.patch("bot.slack.directory.sync_directory", side_effect=sync)
    button = {"action_id": ids.ACTION_HOME_NOTIFY_ASSIGNMENTS, "value": json.dumps({"notify": False})}

    with acked_before(slack, "users.list") as acked:
        response = click(slack, button, in_home=True)

    assert response.status == 200
    assert acked == [True, True]
    # The sync ran in the background pool, not on a thread that acknowledges requests.
    assert len(ran_on) == 1 and ran_on[0].startswith("test-background")
    assert len(people(slack)) == 4
    [home] = published(slack)  # drawn once the directory was there
    assert home["user_id"] == "UALICE"


def test_someone_of_another_organisation_is_fetched_with_users_info(project: SlackHarness) -> None:
    project.fake.responders["users.list"] = two_pages
    project.fake.responders["users.info"] = lambda args: {
        "ok": True,
        "user": {"id": args["user"], "team_id": "TCUSTOMER", "name": "cathy", "tz": "Europe/Paris",
                 "is_stranger": True},
    }  # fmt: skip
    open_home(project)
    project.fake.reset_calls()

    project.command("/issue", "new Printer jams <@UCATHY|cathy>")

    [info] = project.fake.calls_to("users.info")
    assert info.args["user"] == "UCATHY"
    assert project.fake.calls_to("users.list") == []  # users.list never lists other organisations
    with project.db.read() as session:
        cathy = get_person(session, team_id=TEAM, user_id="UCATHY")
    assert cathy is not None and cathy.is_external
    assert people(project)["UCATHY"].home_team_id == "TCUSTOMER"


def test_directories_filled_before_the_sync_state_existed_count_as_synced(tmp_path: Any) -> None:
    from sqlalchemy import text

    from storage import migrate
    from storage.db import Database

    old = Database(f"sqlite:///{tmp_path / 'old.db'}")
    migrate.upgrade(old, "0004")
    with old.engine.begin() as conn:
        conn.execute(text("INSERT INTO people (team_id, user_id, name, is_admin, is_bot, is_deleted, "
                          "notify_assignments) VALUES ('T0001', 'UALICE', 'alice', 0, 0, 0, 1)"))  # fmt: skip
    migrate.upgrade(old)
    with old.read() as session:
        [row] = session.scalars(select(DirectorySync)).all()
        assert (row.team_id, row.complete, row.cursor, row.stored) == ("T0001", True, None, 1)
    old.dispose()


def test_with_the_background_pool_closed_the_home_is_drawn_without_a_sync(slack: SlackHarness) -> None:
    from bot.features.home import publish_home

    slack.background.shutdown(wait=True)  # a process on its way down
    client = web_client(slack.services, slack.settings.slack_bot_token)
    assert publish_home(slack.services, client, TEAM, "UALICE") is True
    assert [c.method for c in slack.fake.calls] == ["users.info", "views.publish"]


def test_the_scheduler_tick_resumes_an_interrupted_sync_once_slack_allows(slack: SlackHarness) -> None:
    from bot.delivery.runner import Runner, job_client_factory
    from bot.delivery.scheduler import tick

    three_pages_limited_on_the_second(slack)
    sync_directory(slack.services, web_client(slack.services, slack.settings.slack_bot_token), TEAM)
    runner = Runner(slack.services, job_client_factory(slack.services), sleep=slack.slept.append)

    slack.services.clock = lambda: HARNESS_NOW + timedelta(seconds=29)
    tick(slack.services, runner)
    assert cursors(slack) == [None, "c2"]

    slack.services.clock = lambda: HARNESS_NOW + timedelta(seconds=30)
    tick(slack.services, runner)
    assert cursors(slack) == [None, "c2", "c2", "c3"]
    assert sync_row(slack).complete
    assert len(people(slack)) == 5
