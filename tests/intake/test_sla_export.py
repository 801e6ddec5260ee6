"""Service levels survive export → import → export with real values; an import floods no one."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update

from bot.demo.simulator import FakeSlack
from bot.domain.service_levels import note_first_response
from storage.db import Database
from storage.models import Priority, Project, Record
from tests.harness import SlackHarness
from tests.intake.test_sla_job import MON, _log, _ours, _run, acme  # noqa: F401  (acme: the fixture)
from tests.ops.test_import import db2, exported, pg_second, restore  # noqa: F401  (fixtures)


def test_service_level_fields_round_trip_and_a_restore_sends_nothing_already_past(
    acme: SlackHarness,  # noqa: F811  (the fixture)
    db2: Database,  # noqa: F811  (the fixture)
    fake_slack: FakeSlack,
) -> None:
    project = acme
    with project.db.write() as session:
        session.execute(
            update(Project).values(
                sla={"first_response": {"critical": 2.0}, "resolution": {"low": 100.0}},
                business_hours="Mon-Fri 08:00-17:00, Sat 10:00-12:00",
                holidays=["2026-12-25", "2027-01-01"],
                intake="auto", intake_emoji="admission_tickets", thread_updates=False,
            )
        )  # fmt: skip
    breached = _log(
        project, "Site down", priority=Priority.CRITICAL
    )  # first response due 11:00 (2 h override)
    answered = _log(project, "Printer down", priority=Priority.HIGH)
    reopened = _log(project, "Slow VPN", priority=Priority.LOW)
    with project.db.write() as session:
        record = session.scalar(select(Record).where(Record.key == answered))
        assert record is not None
        note_first_response(record, at=MON + timedelta(minutes=30))
    project.services.clock = lambda: MON + timedelta(hours=1)
    project.command("/issue", f"resolve {reopened}")
    project.services.clock = lambda: MON + timedelta(hours=3)
    project.command("/issue", f"reopen {reopened}")
    assert _run(project, MON + timedelta(hours=2, minutes=5)).sent == 2  # the breach: post + DM
    before = exported(project.db)
    issues = {i["key"]: i for i in before["issues"]}
    assert issues[breached]["sla_breached"] == ["first_response"]
    assert issues[breached]["first_response_due"] == (MON + timedelta(hours=2)).isoformat()
    assert issues[answered]["first_response_at"] == (MON + timedelta(minutes=30)).isoformat()
    assert issues[reopened]["sla_paused_minutes"] == 120
    assert issues[reopened]["resolved_at"] == (MON + timedelta(hours=1)).isoformat()
    assert issues[reopened]["requester_external"] is True and issues[reopened]["sla_start"] == MON.isoformat()
    exported_project = before["projects"][0]
    assert exported_project["sla"] == {"first_response": {"critical": 2.0}, "resolution": {"low": 100.0}}
    assert (exported_project["business_hours"], exported_project["holidays"]) == (
        "Mon-Fri 08:00-17:00, Sat 10:00-12:00",
        ["2026-12-25", "2027-01-01"],
    )
    assert (
        exported_project["intake"],
        exported_project["intake_emoji"],
        exported_project["thread_updates"],
    ) == (
        "auto",
        "admission_tickets",
        False,
    )

    restore(db2, copy.deepcopy(before))
    assert exported(db2) == before

    # The restored database's scheduler runs at once: the stored breach is not told again; later,
    # resolutions crossed more than a day before the run are not told either.
    restored = SlackHarness(fake_slack, db2)
    try:
        fake_slack.reset_calls()
        assert _run(restored, MON + timedelta(hours=2, minutes=30)).sent == 0
        later = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)  # Thursday: every resolution crossed > 24 h before
        assert _run(restored, later).sent == 0
        assert fake_slack.calls_to("chat.postMessage") == []
    finally:
        restored.close()
    assert len(_ours(project, "CPROJ")) == 1


def test_a_warning_sent_before_the_export_is_not_sent_again_after_a_restore(
    acme: SlackHarness,  # noqa: F811  (the fixture)
    db2: Database,  # noqa: F811  (the fixture)
    fake_slack: FakeSlack,
) -> None:
    project = acme
    key = _log(project, "Printer down")  # high: first response due 13:00, its warning at 12:12
    assert _run(project, MON + timedelta(hours=3, minutes=12)).sent == 1
    assert len(_ours(project, "UBOB")) == 1
    before = exported(project.db)
    (issue,) = [i for i in before["issues"] if i["key"] == key]
    assert issue["sla_warned"] == ["first_response"]

    restore(db2, copy.deepcopy(before))  # a fresh database: its delivery ledger is empty
    assert exported(db2) == before
    restored = SlackHarness(fake_slack, db2)
    try:
        fake_slack.reset_calls()
        assert _run(restored, MON + timedelta(hours=3, minutes=20)).sent == 0  # not told twice
        assert fake_slack.calls_to("chat.postMessage") == []
        # The breach, which had not happened, still comes once, to the channel and the assignee.
        assert _run(restored, MON + timedelta(hours=4, minutes=5)).sent == 2
    finally:
        restored.close()
