"""Overdue nudges and escalations: planning in each person's own time zone, the buttons, the form, locales."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import event, select, update

from bot.blocks.nudge import MAX_BLOCKS, NUDGE_ITEMS_SHOWN
from bot.commands.nudges import register
from bot.delivery.base import JobContext, Outgoing
from bot.domain.people import upsert_member
from bot.domain.records import NewRecord, create_record
from bot.jobs.nudges import NUDGE_GRACE, plan
from bot.slack import ids
from storage.models import HistoryEntry, Kind, Project, Record
from tests.harness import TEAM, SlackHarness, click, find_button
from tests.projects.test_closure import close

CJK = re.compile(r"[\u4e00-\u9fff]")
MONDAY = date(2026, 11, 30)
DM = "DBOB"
MESSAGE_TS = "1790000099.000100"


def utc(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC)


def local(day: date, hour: int, zone: str, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=ZoneInfo(zone))


def person(slack: SlackHarness, user: str, tz: str | None, locale: str | None = "en-US") -> None:
    member: dict[str, Any] = {"id": user, "name": user.lower()}
    if tz:
        member["tz"] = tz
    if locale:
        member["locale"] = locale
    with slack.db.write() as session:
        upsert_member(session, team_id=TEAM, member=member, now=datetime.now(UTC))


def planned(slack: SlackHarness, now: datetime, **scope: Any) -> list[Outgoing]:
    with slack.db.read() as session:
        return plan(session, JobContext(now=now, **scope))


def nudges_of(outgoing: list[Outgoing]) -> dict[str, Outgoing]:
    return {o.key: o for o in outgoing if o.kind == "nudge"}


def escalations_of(outgoing: list[Outgoing]) -> dict[str, Outgoing]:
    return {o.key: o for o in outgoing if o.kind == "escalation"}


def nudge_for(slack: SlackHarness, user: str, now: datetime) -> Outgoing:
    found = [o for o in planned(slack, now) if o.kind == "nudge" and o.channel == user]
    assert len(found) == 1, [o.key for o in planned(slack, now)]
    return found[0]


def listed_keys(message: Outgoing | dict[str, Any]) -> list[str]:
    blocks = message.blocks if isinstance(message, Outgoing) else message["blocks"]
    text = json.dumps(blocks)
    return sorted(set(re.findall(r"\*([A-Z][A-Z0-9]+-\d+)\*", text)))


def record(slack: SlackHarness, key: str) -> Record:
    return next(r for r in slack.records() if r.key == key)


def set_clock(slack: SlackHarness, now: datetime) -> None:
    slack.services.clock = lambda: now


def last_update(slack: SlackHarness) -> dict[str, Any]:
    calls = [c for c in slack.fake.calls_to("chat.update") if c.args.get("channel") == DM]
    assert calls, f"the nudge was not redrawn; calls: {[c.method for c in slack.fake.calls]}"
    args = dict(calls[-1].args)
    if isinstance(args.get("blocks"), str):
        args["blocks"] = json.loads(args["blocks"])
    return args


def buttons_for(blocks: list[dict[str, Any]], key: str) -> list[dict[str, Any]]:
    return [
        element
        for block in blocks
        if block.get("type") == "actions"
        for element in block["elements"]
        if json.loads(element["value"])["key"] == key
    ]


@pytest.fixture(autouse=True)
def nudge_listeners(slack: SlackHarness) -> None:
    """The nudge buttons and form on the app (harmless once ``register_all`` has them too: the first match runs)."""
    register(slack.app)


@pytest.fixture
def two_projects(project: SlackHarness) -> SlackHarness:
    """ACME (UTC, channel CPROJ) and BETA (channel CBETA), both owned by UALICE."""
    project.command("/project", "new BETA Beta Ltd support", channel="CBETA")
    project.fake.reset_calls()
    return project


# -- planning ---------------------------------------------------------------------------------------


def test_three_time_zones_each_get_one_nudge_at_their_own_nine(project: SlackHarness) -> None:
    people = {"UCHEN": "Asia/Shanghai", "UBERLIN": "Europe/Berlin", "UNY": "America/New_York"}
    for user, tz in people.items():
        person(project, user, tz)
        project.command("/task", f"new Overdue for {user} <@{user}|x> due:2026-11-20")
    first_seen: dict[str, datetime] = {}
    planned_keys: set[str] = set()
    # Saturday 00:00 UTC to Tuesday 00:00 UTC, hour by hour.
    start = utc(MONDAY - timedelta(days=2), 0)
    for step in range(72):
        now = start + timedelta(hours=step)
        for key in nudges_of(planned(project, now)):
            planned_keys.add(key)
            first_seen.setdefault(key, now)
    assert planned_keys == {
        "nudge:T0001:UCHEN:2026-11-30",
        "nudge:T0001:UBERLIN:2026-11-30",
        "nudge:T0001:UNY:2026-11-30",
    }
    # Each from their own 09:00 local on Monday, and not before.
    assert first_seen["nudge:T0001:UCHEN:2026-11-30"] == local(MONDAY, 9, "Asia/Shanghai")
    assert first_seen["nudge:T0001:UBERLIN:2026-11-30"] == local(MONDAY, 9, "Europe/Berlin")
    assert first_seen["nudge:T0001:UNY:2026-11-30"] == local(MONDAY, 9, "America/New_York")
    # Nobody's slot is open at 08:59 local.
    for user, tz in people.items():
        assert not [o for o in planned(project, local(MONDAY, 8, tz, 59)) if o.channel == user]


def test_weekends_have_no_nudges(project: SlackHarness) -> None:
    person(project, "UCHEN", "Asia/Shanghai")
    person(project, "UNY", "America/New_York")
    project.command("/task", "new A <@UCHEN|chen> due:2026-11-20")
    project.command("/task", "new B <@UNY|ny> due:2026-11-20")
    saturday = utc(MONDAY - timedelta(days=2), 0)
    for step in range(48):
        assert not nudges_of(planned(project, saturday + timedelta(hours=step)))


def test_a_missed_slot_is_sent_within_the_grace_window_only(project: SlackHarness) -> None:
    person(project, "UBERLIN", "Europe/Berlin")
    project.command("/task", "new A <@UBERLIN|b> due:2026-11-20")
    slot = local(MONDAY, 9, "Europe/Berlin")
    assert nudges_of(planned(project, slot + NUDGE_GRACE - timedelta(minutes=1)))
    assert not nudges_of(planned(project, slot + NUDGE_GRACE))


def test_daylight_saving_time_moves_the_utc_instant_not_the_local_hour(project: SlackHarness) -> None:
    person(project, "UNY", "America/New_York")
    project.command("/task", "new A <@UNY|ny> due:2026-11-20")
    # New York leaves EST (UTC-5) for EDT (UTC-4) on 14 March 2027.
    before, after = date(2027, 3, 12), date(2027, 3, 15)
    assert not nudges_of(planned(project, utc(before, 13, 59)))
    assert "nudge:T0001:UNY:2027-03-12" in nudges_of(planned(project, utc(before, 14)))
    assert not nudges_of(planned(project, utc(after, 12, 59)))
    assert "nudge:T0001:UNY:2027-03-15" in nudges_of(planned(project, utc(after, 13)))


def test_people_outside_the_directory_follow_their_project_zone(project: SlackHarness) -> None:
    with project.db.write() as session:
        session.execute(update(Project).values(timezone="Asia/Shanghai"))
    project.command("/task", "new A <@UNKNOWN|who> due:2026-11-20")
    assert not nudges_of(planned(project, local(MONDAY, 8, "Asia/Shanghai", 59)))
    assert "nudge:T0001:UNKNOWN:2026-11-30" in nudges_of(planned(project, local(MONDAY, 9, "Asia/Shanghai")))


def test_one_dm_lists_overdue_items_from_two_projects(two_projects: SlackHarness) -> None:
    slack = two_projects
    person(slack, "UBOB", "Europe/Berlin")
    slack.command("/task", "new Write docs <@UBOB|bob> due:2026-11-20")
    slack.command("/issue", "new Printer jams <@UBOB|bob> due:2026-11-25", channel="CBETA")
    slack.command("/task", "new Not due yet <@UBOB|bob> due:2026-12-20")
    slack.command("/task", "new Due today <@UBOB|bob> due:2026-11-30")
    nudge = nudge_for(slack, "UBOB", local(MONDAY, 9, "Europe/Berlin"))
    assert nudge.key == "nudge:T0001:UBOB:2026-11-30" and nudge.channel == "UBOB"
    assert listed_keys(nudge) == ["ACME-1", "BETA-1"]
    text = json.dumps(nudge.blocks)
    assert "Acme Corp after-sales" in text and "Beta Ltd support" in text
    assert "10 days overdue" in text and "5 days overdue" in text
    assert "Fri, Nov 20, 2026" in text
    assert "2 overdue items" in nudge.text
    for key in ("ACME-1", "BETA-1"):
        actions = {b["action_id"]: json.loads(b["value"]) for b in buttons_for(nudge.blocks, key)}
        assert set(actions) == {
            ids.ACTION_NUDGE_DONE,
            ids.ACTION_NUDGE_SNOOZE,
            ids.ACTION_NUDGE_SNOOZE_WEEK,
            ids.ACTION_NUDGE_SET_DATE,
        }
        assert actions[ids.ACTION_NUDGE_SNOOZE]["days"] == 1
        assert actions[ids.ACTION_NUDGE_SNOOZE_WEEK]["days"] == 7
        assert actions[ids.ACTION_NUDGE_DONE]["v"] == record(slack, key).version
    # Slack refuses two elements with one action_id in a block.
    for block in nudge.blocks:
        if block["type"] == "actions":
            action_ids = [e["action_id"] for e in block["elements"]]
            assert len(action_ids) == len(set(action_ids))


def test_what_is_not_nudged(two_projects: SlackHarness) -> None:
    slack = two_projects
    person(slack, "UBOB", "UTC")
    for title in ("Snoozed", "Done", "Deleted", "Still overdue", "Resolved issue"):
        kind = "/issue" if "issue" in title else "/task"
        slack.command(kind, f"new {title} <@UBOB|bob> due:2026-11-20")
    slack.command("/risk", "new Risky <@UBOB|bob> due:2026-11-20")
    slack.command("/req", "new Wanted <@UBOB|bob> due:2026-11-20")
    slack.command("/task", "new In closed project <@UBOB|bob> due:2026-11-20", channel="CBETA")
    slack.command("/task", "done ACME-2")
    slack.command("/task", "delete ACME-3")
    slack.command("/issue", "resolve ACME-5")
    close(slack, channel="CBETA", now=None)
    with slack.db.write() as session:
        session.execute(update(Record).where(Record.key == "ACME-1").values(snoozed_until=MONDAY))
    now = utc(MONDAY, 9)
    assert listed_keys(nudge_for(slack, "UBOB", now)) == ["ACME-4"]
    # The snooze ends the day after snoozed_until.
    assert listed_keys(nudge_for(slack, "UBOB", utc(MONDAY + timedelta(days=1), 9))) == ["ACME-1", "ACME-4"]
    # A project can turn nudges (and escalations) off.
    with slack.db.write() as session:
        session.execute(update(Project).where(Project.key == "ACME").values(nudges_enabled=False))
    assert planned(slack, now) == []


def test_scope_by_team_and_project(two_projects: SlackHarness) -> None:
    slack = two_projects
    slack.command("/task", "new A <@UBOB|bob> due:2026-11-20")
    slack.command("/task", "new B <@UBOB|bob> due:2026-11-20", channel="CBETA")
    now = utc(MONDAY, 9)
    assert listed_keys(nudge_for(slack, "UBOB", now)) == ["ACME-1", "BETA-1"]
    only_beta = nudges_of(planned(slack, now, team_id=TEAM, project_key="BETA"))
    assert [listed_keys(o) for o in only_beta.values()] == [["BETA-1"]]
    assert planned(slack, now, team_id="TOTHER") == []


def test_long_lists_stay_within_fifty_blocks(project: SlackHarness) -> None:
    with project.db.write() as session:
        project_id = session.scalars(select(Project.id)).one()
        for n in range(NUDGE_ITEMS_SHOWN + 7):
            new = NewRecord(kind=Kind.TASK, title=f"Item {n}", assignee_id="UBOB", due_date=date(2026, 11, 1))
            create_record(
                session, team_id=TEAM, project_id=project_id, user_id="UALICE", new=new, now=utc(MONDAY, 0)
            )
    nudge = nudge_for(project, "UBOB", utc(MONDAY, 9))
    assert len(nudge.blocks) <= MAX_BLOCKS
    assert len(listed_keys(nudge)) == NUDGE_ITEMS_SHOWN
    assert "and 7 more" in json.dumps(nudge.blocks)
    assert "27 overdue items" in nudge.text
    value = json.loads(find_button(nudge.blocks, ids.ACTION_NUDGE_DONE)["value"])
    assert len(value["list"]) == NUDGE_ITEMS_SHOWN and value["more"] == 7
    assert all(len(e["value"]) <= 2000 for b in nudge.blocks for e in b.get("elements", []) if "value" in e)


@pytest.fixture
def count_queries(project: SlackHarness) -> Iterator[list[str]]:
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            statements.append(statement)

    event.listen(project.db.engine, "before_cursor_execute", count)
    yield statements
    event.remove(project.db.engine, "before_cursor_execute", count)


def test_planning_takes_a_fixed_number_of_queries(project: SlackHarness, count_queries: list[str]) -> None:
    zones = ["Asia/Shanghai", "Europe/Berlin", "America/New_York", None]
    with project.db.write() as session:
        project_id = session.scalars(select(Project.id)).one()
        for n in range(60):
            user = f"UP{n:03d}"
            if zones[n % 4]:
                upsert_member(
                    session, team_id=TEAM, member={"id": user, "tz": zones[n % 4]}, now=utc(MONDAY, 0)
                )
            for due in (date(2026, 11, 1), date(2026, 11, 25)):
                new = NewRecord(kind=Kind.TASK, title=f"Item {n}", assignee_id=user, due_date=due)
                create_record(
                    session,
                    team_id=TEAM,
                    project_id=project_id,
                    user_id="UALICE",
                    new=new,
                    now=utc(MONDAY, 0),
                )
    count_queries.clear()
    outgoing = planned(project, utc(MONDAY, 14))  # New York's 09:00; Berlin's and UTC's within grace
    assert len(nudges_of(outgoing)) == 45
    assert len(escalations_of(outgoing)) == 1
    assert len(count_queries) <= 3, count_queries


# -- escalations ------------------------------------------------------------------------------------


def test_escalation_goes_to_the_owners_once_per_due_date(project: SlackHarness) -> None:
    person(project, "UBOB", "Asia/Shanghai")
    project.command("/task", "new Write docs <@UBOB|bob> due:2026-11-20")
    project.command("/issue", "new Unassigned and late due:2026-11-25")
    project.command("/task", "new Only three days late <@UBOB|bob> due:2026-11-27")
    now = utc(MONDAY, 3)  # not an hour anybody's nudge is tied to
    escalations = escalations_of(planned(project, now))
    assert list(escalations) == ["escalation:T0001:ACME:UALICE:2026-11-30"]
    escalation = escalations["escalation:T0001:ACME:UALICE:2026-11-30"]
    assert escalation.channel == "UALICE" and escalation.project_id is not None
    text = json.dumps(escalation.blocks)
    assert listed_keys(escalation) == ["ACME-1", "ACME-2"]  # ACME-3 is exactly 3 days late: not more
    assert "<@UBOB>" in text and "unassigned" in text and "10 days overdue" in text
    # The ledger runs on_claim in the claim's transaction.
    assert escalation.on_claim is not None
    with project.db.write() as session:
        escalation.on_claim(session)
    assert record(project, "ACME-1").escalated_for_due == date(2026, 11, 20)
    assert record(project, "ACME-1").version == 1  # not a change anybody made
    assert escalations_of(planned(project, now)) == {}
    # The next day only the item that has since passed the limit is escalated.
    tomorrow = escalations_of(planned(project, now + timedelta(days=1)))
    assert [listed_keys(o) for o in tomorrow.values()] == [["ACME-3"]]
    # A new due date (still long past) makes it eligible again.
    project.command("/task", "due ACME-1 2026-11-24")
    again = escalations_of(planned(project, now))
    assert [listed_keys(o) for o in again.values()] == [["ACME-1"]]


def test_escalation_goes_to_every_owner_in_their_language(project: SlackHarness) -> None:
    with project.db.write() as session:
        from storage.models import MemberRole, ProjectMember

        project_id = session.scalars(select(Project.id)).one()
        session.add(
            ProjectMember(team_id=TEAM, project_id=project_id, user_id="UZHANG", role=MemberRole.OWNER)
        )
    person(project, "UZHANG", "Asia/Shanghai", "zh-CN")
    project.command("/task", "new Write docs <@UBOB|bob> due:2026-11-20")
    escalations = escalations_of(planned(project, utc(MONDAY, 3)))
    assert sorted(escalations) == [
        "escalation:T0001:ACME:UALICE:2026-11-30",
        "escalation:T0001:ACME:UZHANG:2026-11-30",
    ]
    chinese = json.dumps(escalations["escalation:T0001:ACME:UZHANG:2026-11-30"].blocks, ensure_ascii=False)
    assert "已逾期 10 天" in chinese and "2026年11月20日" in chinese


# -- buttons ----------------------------------------------------------------------------------------


@pytest.fixture
def bob_nudged(project: SlackHarness) -> tuple[SlackHarness, Outgoing]:
    """UBOB (Berlin) has two overdue tasks and got Monday's nudge; the clock is Monday 10:00 in Berlin."""
    person(project, "UBOB", "Europe/Berlin")
    project.command("/task", "new Write docs <@UBOB|bob> due:2026-11-20")
    project.command("/task", "new Call customer <@UBOB|bob> due:2026-11-25")
    nudge = nudge_for(project, "UBOB", local(MONDAY, 9, "Europe/Berlin"))
    set_clock(project, local(MONDAY, 10, "Europe/Berlin"))
    project.fake.reset_calls()
    return project, nudge


def press(
    slack: SlackHarness, blocks: list[dict[str, Any]], key: str, action_id: str, *, user: str = "UBOB"
) -> None:
    button = next(b for b in buttons_for(blocks, key) if b["action_id"] == action_id)
    response = click(slack, button, user=user, channel=DM, message_ts=MESSAGE_TS)
    assert response.status == 200


def test_done_button_and_the_redraw(bob_nudged: tuple[SlackHarness, Outgoing]) -> None:
    slack, nudge = bob_nudged
    press(slack, nudge.blocks, "ACME-1", ids.ACTION_NUDGE_DONE)
    assert record(slack, "ACME-1").status == "done"
    redrawn = last_update(slack)
    assert redrawn["ts"] == MESSAGE_TS
    assert buttons_for(redrawn["blocks"], "ACME-1") == []
    assert len(buttons_for(redrawn["blocks"], "ACME-2")) == 4
    text = json.dumps(redrawn["blocks"])
    assert "~*ACME-1* Write docs~" in text and "done" in text
    assert "1 overdue item" in redrawn["text"]
    # A second click of the old button changes nothing and says so.
    press(slack, nudge.blocks, "ACME-1", ids.ACTION_NUDGE_DONE)
    assert "had changed since this reminder was sent" in slack.last_ephemeral()
    with slack.db.read() as session:
        moves = session.scalars(select(HistoryEntry).where(HistoryEntry.field == "status")).all()
    assert len(moves) == 1


def test_done_on_an_issue_resolves_it(project: SlackHarness) -> None:
    project.command("/issue", "new Printer jams <@UBOB|bob> due:2026-11-20")
    nudge = nudge_for(project, "UBOB", utc(MONDAY, 9))
    set_clock(project, utc(MONDAY, 10))
    press(project, nudge.blocks, "ACME-1", ids.ACTION_NUDGE_DONE)
    assert record(project, "ACME-1").status == "resolved"
    assert not nudges_of(planned(project, utc(MONDAY + timedelta(days=1), 9)))


def test_snooze_one_day_hides_it_from_tomorrows_nudge(bob_nudged: tuple[SlackHarness, Outgoing]) -> None:
    slack, nudge = bob_nudged
    press(slack, nudge.blocks, "ACME-2", ids.ACTION_NUDGE_SNOOZE)
    r = record(slack, "ACME-2")
    assert r.snoozed_until == MONDAY + timedelta(days=1) and r.version == 2
    with slack.db.read() as session:
        entry = session.scalars(select(HistoryEntry).where(HistoryEntry.field == "snoozed_until")).one()
    assert (entry.record_key, entry.old, entry.new, entry.by) == ("ACME-2", None, "2026-12-01", "UBOB")
    redrawn = last_update(slack)
    assert buttons_for(redrawn["blocks"], "ACME-2") == []
    assert "snoozed until Tue, Dec 1, 2026" in json.dumps(redrawn["blocks"])
    assert len(buttons_for(redrawn["blocks"], "ACME-1")) == 4
    tuesday = local(MONDAY + timedelta(days=1), 9, "Europe/Berlin")
    assert listed_keys(nudge_for(slack, "UBOB", tuesday)) == ["ACME-1"]
    wednesday = local(MONDAY + timedelta(days=2), 9, "Europe/Berlin")
    assert listed_keys(nudge_for(slack, "UBOB", wednesday)) == ["ACME-1", "ACME-2"]


def test_snooze_one_week(bob_nudged: tuple[SlackHarness, Outgoing]) -> None:
    slack, nudge = bob_nudged
    press(slack, nudge.blocks, "ACME-1", ids.ACTION_NUDGE_SNOOZE_WEEK)
    assert record(slack, "ACME-1").snoozed_until == MONDAY + timedelta(days=7)
    # Snoozed items are not escalated either.
    later = escalations_of(planned(slack, utc(MONDAY + timedelta(days=3), 3)))
    assert [listed_keys(o) for o in later.values()] == [["ACME-2"]]


def test_set_new_date_through_the_form(bob_nudged: tuple[SlackHarness, Outgoing]) -> None:
    slack, nudge = bob_nudged
    press(slack, nudge.blocks, "ACME-1", ids.ACTION_NUDGE_SET_DATE)
    view = slack.opened_view()
    assert view["callback_id"] == ids.VIEW_SET_DUE
    picker = next(b for b in view["blocks"] if b.get("block_id") == ids.BLOCK_NEW_DUE)["element"]
    assert (picker["type"], picker["action_id"], picker["initial_date"]) == (
        "datepicker",
        ids.ACTION_NEW_DUE,
        "2026-12-01",
    )

    def pick(day: str) -> Any:
        return slack.submit_view(
            view,
            {ids.BLOCK_NEW_DUE: {ids.ACTION_NEW_DUE: {"type": "datepicker", "selected_date": day}}},
            user="UBOB",
        )

    refused = pick("2026-11-29")
    assert refused.json()["response_action"] == "errors" and ids.BLOCK_NEW_DUE in refused.json()["errors"]
    assert record(slack, "ACME-1").due_date == date(2026, 11, 20)
    assert pick("2026-12-10").status == 200
    r = record(slack, "ACME-1")
    assert (r.due_date, r.version) == (date(2026, 12, 10), 2)
    redrawn = last_update(slack)
    assert buttons_for(redrawn["blocks"], "ACME-1") == []
    assert "due Thu, Dec 10, 2026" in json.dumps(redrawn["blocks"])
    assert len(buttons_for(redrawn["blocks"], "ACME-2")) == 4
    assert listed_keys(nudge_for(slack, "UBOB", local(MONDAY + timedelta(days=1), 9, "Europe/Berlin"))) == [
        "ACME-2"
    ]
    # The same form again is stale: nothing changes.
    stale = pick("2026-12-24")
    assert stale.json()["response_action"] == "update"
    assert record(slack, "ACME-1").due_date == date(2026, 12, 10)


def test_buttons_refuse_people_who_may_not_change_the_record(
    bob_nudged: tuple[SlackHarness, Outgoing],
) -> None:
    slack, nudge = bob_nudged
    press(slack, nudge.blocks, "ACME-1", ids.ACTION_NUDGE_DONE, user="UCAROL")
    assert "Only the reporter, the assignee or an owner" in slack.last_ephemeral()
    assert record(slack, "ACME-1").status == "open"
    press(slack, nudge.blocks, "ACME-1", ids.ACTION_NUDGE_SET_DATE, user="UCAROL")
    assert not slack.fake.calls_to("views.open")


# -- locales ----------------------------------------------------------------------------------------


def test_a_chinese_speaker_gets_chinese_text(project: SlackHarness) -> None:
    person(project, "UZHANG", "Asia/Shanghai", "zh-CN")
    person(project, "UBOB", "Asia/Shanghai", "en-US")
    project.command("/task", "new Write docs <@UZHANG|zhang> due:2026-11-20")
    project.command("/task", "new Write tests <@UBOB|bob> due:2026-11-20")
    now = local(MONDAY, 9, "Asia/Shanghai")
    chinese = nudge_for(project, "UZHANG", now)
    english = nudge_for(project, "UBOB", now)
    done = find_button(chinese.blocks, ids.ACTION_NUDGE_DONE)["text"]["text"]
    assert done == "完成"
    zh_text = json.dumps(chinese.blocks, ensure_ascii=False)
    assert "已逾期 10 天" in zh_text and "2026年11月20日" in zh_text
    assert not CJK.search(json.dumps(english.blocks, ensure_ascii=False))
    assert find_button(english.blocks, ids.ACTION_NUDGE_DONE)["text"]["text"] == "Done"
    # The redraw after a click speaks the same language.
    project.command("/task", "new Second <@UZHANG|zhang> due:2026-11-21")
    chinese = nudge_for(project, "UZHANG", now)
    set_clock(project, now + timedelta(hours=1))
    button = next(b for b in buttons_for(chinese.blocks, "ACME-1") if b["action_id"] == ids.ACTION_NUDGE_DONE)
    click(project, button, user="UZHANG", channel="DZHANG", message_ts=MESSAGE_TS)
    redrawn = [c for c in project.fake.calls_to("chat.update") if c.args.get("channel") == "DZHANG"][-1].args
    blocks = redrawn["blocks"] if isinstance(redrawn["blocks"], list) else json.loads(redrawn["blocks"])
    assert buttons_for(blocks, "ACME-1") == []
    assert next(b["text"]["text"] for b in buttons_for(blocks, "ACME-3")) == "完成"
    assert "已完成" in json.dumps(blocks, ensure_ascii=False)
