"""The weekly digest: when it is due (per project time zone, DST, grace), what it says, how it is split."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update

from bot.blocks.digest import MAX_BLOCKS, split_text
from bot.delivery.base import JobContext, Outgoing
from bot.demo.simulator import block_problems
from bot.domain.digest import weekly_digest
from bot.domain.records import NewRecord, create_record
from bot.jobs import digest
from bot.jobs.customer_report import digest_job
from storage import ledger
from storage.models import Kind, Project, Record
from tests.harness import TEAM, SlackHarness, job_runner, statements

SHANGHAI = ZoneInfo("Asia/Shanghai")
NEW_YORK = ZoneInfo("America/New_York")
# Monday 9 November 2026, 09:00 in Shanghai (01:00 UTC): ISO week 46. Its week: from Monday 2 November 09:00.
SLOT = datetime(2026, 11, 9, 9, 0, tzinfo=SHANGHAI)
CJK = re.compile(r"[\u4e00-\u9fff]")


def at(year: int, month: int, day: int, hour: int = 12) -> datetime:
    return datetime(year, month, day, hour, 0, tzinfo=UTC)


def _set_project(slack: SlackHarness, key: str = "ACME", **values: Any) -> None:
    with slack.db.write() as session:
        session.execute(update(Project).where(Project.key == key).values(**values))


def _plan(slack: SlackHarness, now: datetime, **scope: Any) -> list[Outgoing]:
    with slack.db.read() as session:
        return digest.plan(session, JobContext(now=now, **scope))


def _do(slack: SlackHarness, when: datetime, command: str, text: str, **kwargs: Any) -> None:
    slack.services.clock = lambda: when
    response = slack.command(command, text, **kwargs)
    assert response.status == 200


def _build(slack: SlackHarness) -> None:
    """A known week in Shanghai. Each line says what it must count as."""
    _set_project(slack, timezone="Asia/Shanghai")
    before = at(2026, 10, 20, 0)
    _do(slack, before, "/task", "new Old done due:2026-10-25")  # 1 done on time, before this week
    _do(slack, before, "/task", "new Late done due:2026-10-22")  # 2 done late, before this week
    _do(slack, before, "/issue", "new Old issue")  # 3 closed after 2 days
    _do(slack, before, "/req", "new Dark mode due:2026-11-30")  # 4 accepted; due moved this week: scope
    _do(slack, before, "/task", "new Overdue task <@UBOB|bob> due:2026-11-01 est:10h")  # 5 overdue 8 days
    _do(slack, before, "/risk", "new Vendor delay <@UBOB|bob> p:4 i:5")  # 6 score 20
    _do(slack, before, "/risk", "new Budget cut p:2 i:3")  # 7 score 6
    _do(slack, at(2026, 10, 21), "/req", "accept ACME-4")
    _do(slack, at(2026, 10, 22, 0), "/issue", "close ACME-3")
    _do(slack, at(2026, 10, 24), "/task", "done ACME-1")
    _do(slack, at(2026, 10, 24), "/task", "done ACME-2")

    week = at(2026, 11, 3, 0)
    _do(slack, week, "/task", "new Write docs <@UBOB|bob> due:2026-11-20 est:4h")  # 8 done this week
    _do(slack, week, "/issue", "new Printer &amp; jams &lt;b&gt; !high <@UCAROL|carol>")  # 9 new, in progress
    _do(slack, week, "/req", "new CSV export")  # 10 new, delivered this week
    _do(slack, week, "/issue", "new Login slow")  # 11 new, closed after 3 days
    _do(slack, at(2026, 11, 4), "/task", "done ACME-8")
    _do(slack, at(2026, 11, 4), "/issue", "start ACME-9")
    _do(slack, at(2026, 11, 4), "/req", "due ACME-4 2026-12-15")
    _do(slack, at(2026, 11, 5), "/req", "deliver ACME-10")
    _do(slack, at(2026, 11, 6, 0), "/issue", "close ACME-11")
    # After the slot: next week's news.
    _do(slack, at(2026, 11, 9, 3), "/issue", "new After the slot")  # 12
    # Another project's work never counts.
    _do(slack, week, "/project", "new BETA Beta", channel="C2")
    _do(slack, week, "/task", "new Elsewhere <@UBOB|bob> due:2026-01-01", channel="C2")
    slack.fake.reset_calls()


@pytest.fixture
def project(project: SlackHarness) -> SlackHarness:
    """ACME as created in September: the weeks these tests report on come after its creation."""
    _set_project(project, created_at=at(2026, 9, 1))
    return project


@pytest.fixture
def data(project: SlackHarness) -> SlackHarness:
    _build(project)
    return project


def _acme(slack: SlackHarness) -> Project:
    with slack.db.read() as session:
        found = session.scalar(select(Project).where(Project.key == "ACME"))
        assert found is not None
        session.expunge(found)
        return found


# -- when ---------------------------------------------------------------------------------------


def test_due_at_nine_in_shanghai_within_grace_and_once_a_week(data: SlackHarness) -> None:
    planned = _plan(data, SLOT, project_key="ACME")
    assert [(o.key, o.kind, o.report_project_id, o.channel) for o in planned] == [
        ("digest:T0001:ACME:2026-W46:1", "digest", _acme(data).id, None)
    ]
    assert planned[0].project_id == planned[0].report_project_id and planned[0].team_id == TEAM
    assert _plan(data, SLOT - timedelta(minutes=1), project_key="ACME") == []
    later = _plan(data, datetime(2026, 11, 9, 20, 0, tzinfo=SHANGHAI), project_key="ACME")
    assert [o.key for o in later] == ["digest:T0001:ACME:2026-W46:1"]
    assert later[0].text == planned[0].text  # the same week, read at the slot
    assert _plan(data, datetime(2026, 11, 10, 9, 0, tzinfo=SHANGHAI), project_key="ACME") == []
    # BETA is still on UTC: its Monday 09:00 comes 8 hours later; ACME's grace ends 12 hours after its slot.
    assert [o.key for o in _plan(data, SLOT)] == ["digest:T0001:ACME:2026-W46:1"]
    assert [o.key for o in _plan(data, at(2026, 11, 9, 9))] == [
        "digest:T0001:ACME:2026-W46:1",
        "digest:T0001:BETA:2026-W46:1",
    ]
    assert [o.key for o in _plan(data, at(2026, 11, 9, 13))] == ["digest:T0001:BETA:2026-W46:1"]
    assert _plan(data, SLOT, team_id="T9999") == []


def test_new_york_gets_its_digest_at_nine_local_across_the_dst_change(project: SlackHarness) -> None:
    _set_project(project, timezone="America/New_York")
    project.services.clock = lambda: at(2026, 10, 1)
    project.command("/task", "new Something open")
    # Summer time: 09:00 EDT is 13:00 UTC.
    assert _plan(project, at(2026, 10, 26, 12) + timedelta(minutes=59)) == []
    assert [o.key for o in _plan(project, at(2026, 10, 26, 13))] == ["digest:T0001:ACME:2026-W44:1"]
    # Winter time from 1 November: 09:00 EST is 14:00 UTC.
    assert _plan(project, at(2026, 11, 2, 13)) == []
    assert _plan(project, at(2026, 11, 2, 13) + timedelta(minutes=59)) == []
    assert [o.key for o in _plan(project, at(2026, 11, 2, 14))] == ["digest:T0001:ACME:2026-W45:1"]


def test_settings_move_the_slot_and_closed_projects_get_none(data: SlackHarness) -> None:
    _set_project(data, digest_weekday=4, digest_time="17:30")  # Friday 17:30 Shanghai
    assert _plan(data, SLOT, project_key="ACME") == []
    friday = datetime(2026, 11, 13, 17, 30, tzinfo=SHANGHAI)
    assert [o.key for o in _plan(data, friday, project_key="ACME")] == ["digest:T0001:ACME:2026-W46:1"]
    _set_project(data, status="closed")
    assert _plan(data, friday, project_key="ACME") == []


def test_a_claimed_digest_is_planned_again_only_as_claimed(data: SlackHarness) -> None:
    planned = _plan(data, SLOT, project_key="ACME")
    with data.db.write() as session:
        for item in planned:
            ledger.claim(
                session, key=item.key, team_id=item.team_id, kind=item.kind, channel="CREPORT",
                project_id=item.project_id, payload={"text": item.text, "blocks": item.blocks}, now=SLOT,
            )  # fmt: skip
    # The week grew a lot since: still exactly the claimed message, never an extra part.
    data.services.clock = lambda: at(2026, 11, 5)
    for n in range(40):
        data.command("/task", f"new {'Long title ' * 15}{n} due:2026-11-06")
    again = _plan(data, datetime(2026, 11, 9, 15, 0, tzinfo=SHANGHAI), project_key="ACME")
    assert [(o.key, o.text) for o in again] == [(p.key, p.text) for p in planned]


# -- what -------------------------------------------------------------------------------------


def test_figures_of_the_week(data: SlackHarness) -> None:
    project = _acme(data)
    with data.db.read() as session:
        week = weekly_digest(session, project=project, slot=SLOT, now=SLOT + timedelta(hours=3))
    assert week.week_start == datetime(2026, 11, 2, 9, 0, tzinfo=SHANGHAI)
    assert week.today == date(2026, 11, 9)
    assert [i.key for i in week.done] == ["ACME-8", "ACME-11"]
    assert [i.key for i in week.delivered] == ["ACME-10"]
    assert [i.key for i in week.in_progress] == ["ACME-9"]
    assert [i.key for i in week.new] == ["ACME-10", "ACME-9", "ACME-11"]  # requirements first
    assert [(c.key, c.field, c.old, c.new) for c in week.scope_changes] == [
        ("ACME-4", "due_date", "2026-11-30", "2026-12-15")
    ]
    assert [(i.key, i.days_overdue) for i in week.overdue] == [("ACME-5", 8)]
    assert [(r.priority, r.count, r.oldest_key) for r in week.issues] == [("high", 1, "ACME-9")]
    assert [(r.key, r.score) for r in week.top_risks] == [("ACME-6", 20), ("ACME-7", 6)]
    assert [(w.user_id, w.tasks, w.issues, w.estimate_hours) for w in week.workload] == [
        ("UBOB", 1, 0, 10.0),
        ("UCAROL", 0, 1, 0.0),
    ]
    assert week.open_total == 5  # ACME-4, 5, 6, 7, 9 (ACME-12 came after the slot)
    kpis = week.kpis
    assert (kpis.on_time, kpis.with_due_date) == (2, 3)  # ACME-1 and ACME-8 on time, ACME-2 late
    assert kpis.issues_closed == 2 and kpis.median_resolution == timedelta(days=2, hours=12)
    assert (kpis.risk_exposure, kpis.open_risks, kpis.satisfaction) == (26, 2, None)
    assert not week.quiet


def test_the_digest_message(data: SlackHarness) -> None:
    (item,) = _plan(data, SLOT, project_key="ACME")
    text = item.text
    assert block_problems(item.blocks, max_blocks=MAX_BLOCKS) == []
    assert "*Weekly digest · ACME* — Acme Corp after-sales" in text
    assert "Week of Mon, Nov 2, 2026 to Mon, Nov 9, 2026" not in text  # the week ends the day before
    assert "Week of Mon, Nov 2, 2026 to Sun, Nov 8, 2026" in text
    assert (
        "*Done this week* (2)" in text and "• *ACME-8* Write docs · task · <@UBOB> · Wed, Nov 4, 2026" in text
    )
    assert "*Delivered this week* (1)" in text and "• *ACME-10* CSV export · requirement" in text
    # User text is escaped: the title's markup can never format or ping.
    assert "*ACME-9* Printer &amp; jams &lt;b&gt; · issue · high · <@UCAROL>" in text
    assert "*Scope changes* (1)" in text
    assert "• *ACME-4* Dark mode · due date: Mon, Nov 30, 2026 → Tue, Dec 15, 2026 · <@UALICE>" in text
    assert (
        "*:warning: Overdue* (1)" in text
        and "ACME-5* Overdue task · task · <@UBOB> · Due: Sun, Nov 1, 2026" in text
    )
    assert "8 days overdue" in text
    assert "• High: 1 · median age 6 days · oldest: ACME-9, 6 days" in text
    assert "• *ACME-6* Vendor delay — Risk score: 20 (p4 × i5) · open · <@UBOB>" in text
    assert "• <@UBOB>: tasks: 1 · issues: 0 · estimated: 10h" in text
    assert "*KPIs* — last 90 days" in text
    assert "• Tasks done on time: 67% (2 of 3)" in text
    assert "• Median issue resolution time: 2.5 days" in text
    assert "• Open risk exposure: 26 (open risks: 2)" in text
    assert "• Latest satisfaction score: —" in text
    assert "Elsewhere" not in text and "After the slot" not in text
    # The text is the blocks' text.
    assert all(block["text"]["text"] in text for block in item.blocks if block["type"] == "section")


def test_chinese_project_gets_a_chinese_digest(data: SlackHarness) -> None:
    _set_project(data, locale="zh-CN")
    (item,) = _plan(data, SLOT, project_key="ACME")
    assert CJK.search(item.text)
    assert "主要风险" in item.text and "工作量" in item.text  # Top risks, Workload
    assert "2026年11月2日 周一" in item.text  # dates the Chinese way
    assert "Top risks" not in item.text


def test_a_quiet_week_is_one_line(project: SlackHarness) -> None:
    _set_project(project, timezone="Asia/Shanghai")
    # Work long finished does not make a week busy.
    _do(project, at(2026, 9, 1), "/task", "new Long done")
    _do(project, at(2026, 9, 2), "/task", "done ACME-1")
    (item,) = _plan(project, SLOT, project_key="ACME")
    assert item.key == "digest:T0001:ACME:2026-W46:1"
    assert "\n" not in item.text and "quiet week" in item.text and "ACME" in item.text
    assert len(item.blocks) == 1 and item.blocks[0]["text"]["text"] == item.text


def test_no_digest_for_a_week_before_the_project_existed(project: SlackHarness) -> None:
    # Created on Monday 9 November at 10:00 in Shanghai, an hour after that Monday's slot.
    _set_project(project, timezone="Asia/Shanghai", created_at=SLOT + timedelta(hours=1))
    _do(project, SLOT + timedelta(hours=2), "/issue", "new Already open")
    # The job runs at 11:00, within the slot's grace: the week before the project gets no digest.
    assert _plan(project, SLOT + timedelta(hours=2), project_key="ACME") == []
    # Its first digest is the next Monday's, on its first week.
    (first,) = _plan(project, SLOT + timedelta(days=7), project_key="ACME")
    assert first.key == "digest:T0001:ACME:2026-W47:1"
    assert "quiet week" not in first.text and "Already open" in first.text


def test_a_digest_sent_late_is_not_quiet_while_work_logged_since_is_open(project: SlackHarness) -> None:
    _set_project(project, timezone="Asia/Shanghai")
    _do(project, SLOT + timedelta(hours=1), "/task", "new Logged after the slot")
    (item,) = _plan(project, SLOT + timedelta(hours=2), project_key="ACME")
    assert "quiet week" not in item.text and "nothing open" not in item.text
    with project.db.read() as session:
        late = weekly_digest(session, project=_acme(project), slot=SLOT, now=SLOT + timedelta(hours=2))
    assert (late.open_total, late.open_since, late.quiet) == (0, 1, False)


def test_resolution_time_is_measured_at_resolved_in_the_digest_and_the_retrospective(
    project: SlackHarness,
) -> None:
    from bot.domain.retrospective import retrospective

    _set_project(project, timezone="Asia/Shanghai")
    _do(project, at(2026, 11, 3, 0), "/issue", "new VAT rate wrong")  # ACME-1
    _do(project, at(2026, 11, 3, 0), "/issue", "new Printer jams")  # ACME-2
    _do(project, at(2026, 11, 5, 0), "/issue", "resolve ACME-1")  # resolved after 2 days, still open
    _do(project, at(2026, 11, 7, 0), "/issue", "close ACME-2")  # closed as it stood after 4 days
    acme = _acme(project)
    with project.db.read() as session:
        week = weekly_digest(session, project=acme, slot=SLOT, now=SLOT)
    assert (week.kpis.issues_closed, week.kpis.median_resolution) == (2, timedelta(days=3))
    (item,) = _plan(project, SLOT, project_key="ACME")
    assert "• Median issue resolution time: 3 days" in item.text
    # Closed a week after it was resolved: its resolution is still the day it was resolved.
    _do(project, at(2026, 11, 12, 0), "/issue", "close ACME-1")
    with project.db.read() as session:
        report = retrospective(session, team_id=TEAM, project_id=acme.id, now=at(2026, 11, 13))
        later = weekly_digest(
            session, project=acme, slot=SLOT + timedelta(days=7), now=SLOT + timedelta(days=7)
        )
    assert (report.issues_resolved, report.median_resolution) == (2, timedelta(days=3))
    assert later.kpis.median_resolution == timedelta(days=3)


def test_a_big_project_is_split_into_parts_within_block_kit_limits(project: SlackHarness) -> None:
    _set_project(project, timezone="Asia/Shanghai")
    acme = _acme(project)
    kinds = [Kind.TASK, Kind.ISSUE, Kind.REQUIREMENT, Kind.RISK]
    with project.db.write() as session:
        for n in range(300):
            kind = kinds[n % 4]
            create_record(
                session, team_id=TEAM, project_id=acme.id, user_id="UALICE", now=at(2026, 11, 3),
                new=NewRecord(
                    kind=kind, title=f"Record {n} " + "with a rather long title " * 7,
                    assignee_id=f"U{n % 7:04d}", due_date=date(2026, 10, 1) + timedelta(days=n % 30),
                    estimate_hours=3.0 if kind is Kind.TASK else None,
                    probability=1 + n % 5 if kind is Kind.RISK else None,
                    impact=1 + n % 3 if kind is Kind.RISK else None,
                ),
            )  # fmt: skip
        session.execute(
            update(Record).where(Record.kind == Kind.TASK, Record.seq % 8 == 1).values(status="in_progress")
        )
    planned = _plan(project, SLOT, project_key="ACME")
    assert len(planned) > 1
    assert [o.key for o in planned] == [f"digest:T0001:ACME:2026-W46:{n}" for n in range(1, len(planned) + 1)]
    for item in planned:
        assert block_problems(item.blocks, max_blocks=MAX_BLOCKS) == [], item.key
        assert len(item.blocks) <= 50
        assert all(len(b["text"]["text"]) <= 3000 for b in item.blocks if b["type"] == "section")
        assert len(json.dumps(item.blocks)) < 40_000
    joined = "\n".join(o.text for o in planned)
    assert "part 1 of" in planned[0].text and f"part {len(planned)} of {len(planned)}" in planned[-1].text
    assert "*KPIs*" in planned[-1].text and "*Weekly digest · ACME*" in planned[0].text
    # Long lists show 100 records and count the rest.
    assert "*New requirements and issues* (150)" in joined and "…and 100 more." in joined
    assert "*:warning: Overdue* (300)" in joined and "…and 250 more." in joined


def test_split_text_keeps_lines_whole() -> None:
    lines = [f"• line {n} " + "x" * 90 for n in range(100)]
    pieces = split_text("\n".join(lines), 1000)
    assert all(len(p) <= 1000 for p in pieces)
    assert "\n".join(pieces).split("\n") == lines
    assert split_text("y" * 2500, 1000) == ["y" * 1000, "y" * 1000, "y" * 500]


# -- /project digest ------------------------------------------------------------------------------


def test_project_digest_previews_the_next_digest_only_to_the_asker(data: SlackHarness) -> None:
    data.services.clock = lambda: at(2026, 11, 7)  # Saturday: the next digest is Monday 9 November
    response = data.command("/project", "digest", user="UDAVE")
    assert response.status == 200
    assert data.fake.calls_to("chat.postMessage") == [] and data.fake.calls_to("chat.postEphemeral") == []
    (reply,) = data.fake.calls_to("response_url")
    assert reply.args["response_type"] == "ephemeral" and reply.args.get("replace_original") is False
    text = reply.args["text"]
    assert "Preview of the digest due Mon, Nov 9, 2026 at 09:00 (Asia/Shanghai)" in text
    assert "Only you can see this." in text and "*Done this week* (2)" in text
    blocks = reply.args["blocks"]
    assert block_problems(blocks, max_blocks=50) == [] and blocks[0]["type"] == "context"
    assert data.fake.invalid == []


def test_project_digest_needs_a_project_and_no_options(slack: SlackHarness) -> None:
    slack.command("/project", "digest")
    assert "project" in slack.last_ephemeral().lower()
    slack.command("/project", "new ACME Acme")
    slack.command("/project", "digest now")
    assert "takes no options" in slack.last_ephemeral()
    assert "not available" not in slack.last_ephemeral()


# -- through the delivery ledger -------------------------------------------------------------------


def test_the_digest_goes_out_once_through_the_ledger(data: SlackHarness) -> None:
    data.fake.add_channel("CREPORT", name="acme-internal")
    _set_project(data, report_channel_id="CREPORT")
    first = job_runner(data, SLOT).run([digest.plan], JobContext(now=SLOT))
    assert (first.sent, first.pending, first.failed) == (1, 0, 0)
    (posted,) = data.fake.calls_to("chat.postMessage")
    assert posted.args["channel"] == "CREPORT" and "*Weekly digest · ACME*" in posted.args["text"]
    # Later in the grace window, and after a restart: nothing more, whatever happened meanwhile.
    later = datetime(2026, 11, 9, 16, 0, tzinfo=SHANGHAI)  # BETA (UTC) is not due yet
    _do(data, later, "/task", "new Something new this afternoon due:2026-11-01")
    data.fake.reset_calls()
    second = job_runner(data, later).run([digest.plan], JobContext(now=later))
    assert (second.sent, second.already_sent) == (0, 1)
    assert data.fake.calls_to("chat.postMessage") == []
    dry = job_runner(data, later).dry_run([digest.plan], JobContext(now=later))
    assert (dry.planned, dry.already_sent) == (0, 1)


def test_dry_run_prints_the_digest_and_claims_nothing(data: SlackHarness) -> None:
    report = job_runner(data, SLOT).dry_run([digest.plan], JobContext(now=SLOT, project_key="ACME"))
    assert report.planned == 1 and "*Weekly digest · ACME*" in report.lines[0]
    with data.db.read() as session:
        assert ledger.statuses(session, keys=["digest:T0001:ACME:2026-W46:1"]) == {}


def test_dry_run_statements_grow_neither_with_records_nor_with_projects(data: SlackHarness) -> None:
    """The digest job (digests and customer reports) reads a chunk of projects per query: a week with
    ten times the records and six more projects costs the same statements."""

    def count() -> tuple[int, int]:
        with statements(data.db) as seen:
            report = job_runner(data, SLOT).dry_run([digest_job], JobContext(now=SLOT))
        return len(seen), sum(line.startswith("--- digest:") for line in report.lines)

    alone, before = count()
    assert before == 1  # ACME's (BETA's slot, in UTC, is still to come)
    created = at(2026, 9, 1)
    kinds = (Kind.TASK, Kind.ISSUE, Kind.REQUIREMENT, Kind.RISK)
    statuses = {Kind.TASK: "in_progress", Kind.ISSUE: "open", Kind.REQUIREMENT: "accepted", Kind.RISK: "open"}
    with data.db.write() as session:
        for n in range(6):
            project = Project(
                team_id=TEAM, key=f"P{n}", name=f"Project {n}", channel_id=f"CP{n}", status="active",
                timezone="Asia/Shanghai", locale="en", created_by="UALICE", created_at=created, last_seq=40,
            )  # fmt: skip
            session.add(project)
            session.flush()
            for seq in range(1, 41):
                kind = kinds[seq % 4]
                session.add(
                    Record(
                        team_id=TEAM, project_id=project.id, kind=kind, seq=seq, key=f"P{n}-{seq}",
                        title=f"Item {seq}", description="", status=statuses[kind], priority="medium",
                        assignee_id=f"U{seq % 7}", due_date=date(2026, 11, seq % 28 + 1), created_by="UALICE",
                        created_at=SLOT - timedelta(days=seq % 10), updated_at=SLOT - timedelta(days=1),
                        version=1,
                    )
                )  # fmt: skip
    many, digests = count()
    assert digests >= before + 6  # every new project's digest
    assert many == alone
