"""The ``sla`` job: warnings at 80 %, breaches, exactly once through the ledger, and the warning's buttons."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from bot.delivery.base import JobContext
from bot.delivery.runner import Runner
from bot.demo.clock import Clock
from bot.domain.records import NewRecord, create_record
from bot.jobs import JOBS, sla
from bot.slack import ids
from storage.db import Database
from storage.models import Delivery, Priority, Project, Record
from tests.harness import TEAM, SlackHarness, click, find_button, job_runner

MON = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # Monday 09:00 UTC, the harness's instant


def _log(slack: SlackHarness, title: str, *, priority: Priority = Priority.HIGH, assignee: str | None = "UBOB",
         at: datetime = MON, source_url: str | None = "https://acme.slack.com/archives/CPROJ/p1790000000000100") -> str:  # fmt: skip
    with slack.db.write() as session:
        project = session.scalar(select(Project).where(Project.key == "ACME"))
        assert project is not None
        project.timezone = "UTC"
        view = create_record(
            session, team_id=TEAM, project_id=project.id, user_id="UALICE",
            new=NewRecord(kind=sla.Kind.ISSUE, title=title, priority=priority, assignee_id=assignee,
                          requester_id="UCUST", requester_external=True, requested_at=at, source_url=source_url),
            now=at,
        )  # fmt: skip
        return view.key


def _runner(slack: SlackHarness, clock: Clock, db: Database | None = None) -> Runner:
    return job_runner(slack, clock, db=db)


def _run(slack: SlackHarness, at: datetime, db: Database | None = None) -> Any:
    clock = Clock(at)
    return _runner(slack, clock, db).run([sla.plan], JobContext(now=at), kinds=JOBS["sla"].kinds)


def _record(slack: SlackHarness, key: str) -> Record:
    with slack.db.read() as session:
        found = session.scalar(select(Record).where(Record.key == key))
        assert found is not None
        session.expunge(found)
        return found


def _ours(slack: SlackHarness, channel: str) -> list[dict[str, Any]]:
    return [m for m in slack.fake.posted(channel) if m.get("metadata")]


def _blocks(message: dict[str, Any]) -> list[dict[str, Any]]:
    blocks = message["blocks"]
    return json.loads(blocks) if isinstance(blocks, str) else list(blocks)


@pytest.fixture
def acme(project: SlackHarness) -> SlackHarness:
    for user in ("UBOB", "UCUST"):
        project.fake.add_user(user)
    return project


def test_clocks_start_in_business_hours(acme: SlackHarness) -> None:
    key = _log(acme, "Printer down")
    record = _record(acme, key)
    # High: first response 4 h, resolution 16 h of Mon-Fri 09:00-18:00.
    assert record.sla_start == MON
    assert record.first_response_due == MON + timedelta(hours=4)
    assert record.resolution_due == datetime(2026, 11, 24, 16, 0, tzinfo=UTC)


def test_warning_at_80_percent_once_then_breach_once(acme: SlackHarness) -> None:
    key = _log(acme, "Printer <!channel> down")
    assert _run(acme, MON + timedelta(hours=3, minutes=11)).sent == 0  # 80 % of 4 h is 3 h 12 m
    report = _run(acme, MON + timedelta(hours=3, minutes=12))
    assert report.sent == 1
    (warning,) = _ours(acme, "UBOB")
    assert "Service level at risk: first response due in 48 m." in warning["text"]
    assert _record(acme, key).sla_warned == ["first_response"]  # stored with its claim
    assert "&lt;!channel&gt;" in warning["text"] and "<!channel>" not in warning["text"]
    blocks = _blocks(warning)
    assert find_button(blocks, ids.ACTION_OPEN_LINK)["url"].endswith("p1790000000000100")
    find_button(blocks, ids.ACTION_CARD_MOVE, "resolve")
    with pytest.raises(AssertionError):
        find_button(blocks, ids.ACTION_CARD_ASSIGN_ME)  # assigned already
    # Later runs, and a second process on its own engine, send nothing again.
    assert _run(acme, MON + timedelta(hours=3, minutes=30)).sent == 0
    other = Database(acme.db.url.render_as_string(hide_password=False))
    assert _run(acme, MON + timedelta(hours=3, minutes=35), other).sent == 0
    assert len(_ours(acme, "UBOB")) == 1
    assert _record(acme, key).sla_breached == []
    # Breach at 13:00: one internal post (the project channel is internal) and the assignee's DM.
    report = _run(acme, MON + timedelta(hours=4, minutes=5))
    assert report.sent == 2
    (post,) = _ours(acme, "CPROJ")
    assert "Service level breached: first response breached 5 m ago." in post["text"]
    assert len(_ours(acme, "UBOB")) == 2
    assert _record(acme, key).sla_breached == ["first_response"]
    assert _run(acme, MON + timedelta(hours=4, minutes=10), other).sent == 0
    assert len(_ours(acme, "CPROJ")) == 1


def test_two_schedulers_at_the_same_instant_send_once(acme: SlackHarness) -> None:
    _log(acme, "Printer down")
    at = MON + timedelta(hours=4, minutes=1)
    other = Database(acme.db.url.render_as_string(hide_password=False))
    runners = [(_runner(acme, Clock(at)), None), (_runner(acme, Clock(at), other), None)]
    barrier = threading.Barrier(2)

    def go(runner: Runner) -> None:
        barrier.wait()
        runner.run([sla.plan], JobContext(now=at), kinds=JOBS["sla"].kinds)

    threads = [threading.Thread(target=go, args=(r,)) for r, _ in runners]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(_ours(acme, "CPROJ")) == 1 and len(_ours(acme, "UBOB")) == 1


def test_warning_and_breach_in_one_run_only_the_breach_and_owners_when_unassigned(acme: SlackHarness) -> None:
    key = _log(acme, "Site down", priority=Priority.CRITICAL, assignee=None)  # 1 h
    _run(acme, MON + timedelta(hours=1, minutes=10))
    posted = [m["text"] for m in _ours(acme, "CPROJ")]
    assert len(posted) == 1 and "first response breached 10 m ago" in posted[0]
    assert _ours(acme, "UALICE") == []  # no warning to the owner: the breach came first
    with acme.db.read() as session:
        kinds = sorted(d.kind for d in session.scalars(select(Delivery)))
    assert kinds == ["sla_breach"]
    assert _record(acme, key).sla_breached == ["first_response"]


def test_owner_warning_buttons_assign_and_resolve_through_the_lifecycle(acme: SlackHarness) -> None:
    key = _log(acme, "Site down", priority=Priority.CRITICAL, assignee=None)
    _run(acme, MON + timedelta(minutes=50))
    (warning,) = _ours(acme, "UALICE")  # the owner, as nobody is assigned
    blocks = _blocks(warning)
    # Someone outside the project may take it (like any card), but may not resolve an issue they do not own.
    assert click(acme, find_button(blocks, ids.ACTION_CARD_ASSIGN_ME), user="UALICE", channel="D_UALICE",
                 message_ts=warning["ts"]).status == 200  # fmt: skip
    assert _record(acme, key).assignee_id == "UALICE"
    record = _record(acme, key)
    # The Resolve button was drawn at the old version: stale, nothing changes.
    click(acme, find_button(blocks, ids.ACTION_CARD_MOVE, "resolve"), user="UALICE", channel="D_UALICE",
          message_ts=warning["ts"])  # fmt: skip
    assert _record(acme, key).status == "open" and _record(acme, key).version == record.version
    fresh = {"type": "button", "action_id": ids.card_move_action("resolve"), "text": {"type": "plain_text", "text": "R"},
             "value": json.dumps({"key": key, "v": record.version, "verb": "resolve"})}  # fmt: skip
    click(acme, fresh, user="UALICE", channel="D_UALICE", message_ts=warning["ts"])
    resolved = _record(acme, key)
    assert resolved.status == "resolved" and resolved.resolved_at == MON  # the harness clock
    assert _record(acme, key).resolution_due is not None
    # Resolved before the due time: the resolution is met; the first response (never given) is breached.
    assert _run(acme, MON + timedelta(hours=1, minutes=5)).sent == 2
    assert ["first response breached 5 m ago" in m["text"] for m in _ours(acme, "UALICE")] == [False, True]
    assert _record(acme, key).sla_breached == ["first_response"]


def test_nothing_for_targets_crossed_more_than_a_day_ago(acme: SlackHarness) -> None:
    key = _log(acme, "Old", priority=Priority.CRITICAL)  # first response due Mon 10:00, resolution Mon 17:00
    assert _run(acme, MON + timedelta(days=2, hours=8, minutes=1)).sent == 0  # Wednesday 17:01: both stale
    assert _ours(acme, "CPROJ") == [] and _ours(acme, "UBOB") == []
    assert _record(acme, key).sla_breached == []
    # Tuesday 10:01: the first response (24 h 1 m ago) stays silent; the resolution (17 h ago) is told.
    assert _run(acme, MON + timedelta(days=1, hours=1, minutes=1)).sent == 2
    assert ["resolution breached 17 h 1 m ago" in m["text"] for m in _ours(acme, "CPROJ")] == [True]
    assert _record(acme, key).sla_breached == ["resolution"]


def test_dry_run_prints_and_writes_nothing(acme: SlackHarness) -> None:
    key = _log(acme, "Printer down")
    runner = _runner(acme, Clock(MON + timedelta(hours=5)))
    report = runner.dry_run([sla.plan], JobContext(now=MON + timedelta(hours=5)))
    assert report.planned == 2
    assert any("sla-breach:T0001:ACME-1:first_response" in line for line in report.lines)
    assert acme.fake.calls_to("chat.postMessage") == []
    with acme.db.read() as session:
        assert list(session.scalars(select(Delivery))) == []
    assert _record(acme, key).sla_breached == []


def test_breach_goes_to_owners_when_the_project_channel_is_shared(acme: SlackHarness) -> None:
    acme.fake.add_channel("CPROJ", is_ext_shared=True)
    _log(acme, "Printer down")
    _run(acme, MON + timedelta(hours=4, minutes=1))
    assert _ours(acme, "CPROJ") == []
    (dm,) = _ours(acme, "UALICE")
    assert "first response breached" in dm["text"]


def test_jobs_run_sla_from_the_command_line(tmp_path: Any, fake_slack: Any) -> None:
    """``aftercare jobs run sla --now … [--dry-run]``: the dry run writes nothing; the real run sends once."""
    from bot.domain.projects import create_project
    from storage import migrate
    from tests.ops.test_cli import output, run
    from tests.ops.test_jobs_cli import deliveries, settings

    url = f"sqlite:///{tmp_path / 'sla.db'}"
    db = Database(url)
    migrate.upgrade(db)
    with db.write() as session:
        project = create_project(
            session, team_id=TEAM, key="ACME", name="Acme", channel_id="CPROJ", user_id="UALICE",
            timezone="UTC", locale="en", now=MON,
        )  # fmt: skip
        create_record(
            session, team_id=TEAM, project_id=project.id, user_id="UALICE",
            new=NewRecord(kind=sla.Kind.ISSUE, title="Site down", priority=Priority.CRITICAL, assignee_id="UBOB",
                          requester_external=True, requested_at=MON),
            now=MON,
        )  # fmt: skip
    db.dispose()
    fake_slack.add_user("UBOB")
    at = ["--now", "2026-11-23T10:05:00+00:00"]
    dry = run(["jobs", "run", "sla", *at, "--dry-run"], tmp_path, DATABASE_URL=url)
    assert dry.returncode == 0, output(dry)
    assert (
        "sla-breach:T0001:ACME-1:first_response" in dry.stdout and "2 message(s) would be sent" in dry.stdout
    )
    assert deliveries(url) == 0
    real = run(["jobs", "run", "sla", *at], tmp_path, settings(fake_slack, url))
    assert real.returncode == 0 and "2 sent" in real.stdout, output(real)
    again = run(["jobs", "run", "sla", *at], tmp_path, settings(fake_slack, url))
    assert again.returncode == 0 and "0 sent" in again.stdout, output(again)
    assert len([m for m in fake_slack.posted("UBOB") if m.get("metadata")]) == 1


def test_the_scheduler_tick_runs_the_sla_job(acme: SlackHarness) -> None:
    from bot.delivery.scheduler import tick

    _log(acme, "Printer down")
    clock = Clock(MON + timedelta(hours=3))
    runner = _runner(acme, clock)
    services = runner.services
    for _ in range(20):  # every 5 minutes from 12:00 to 13:40
        tick(services, runner)
        clock.advance(minutes=5)
    texts = [m["text"] for m in _ours(acme, "UBOB")]
    assert len(texts) == 2
    assert "at risk" in texts[0] and "first response breached" in texts[1]
