"""Service-level clocks through the real request path: priority change, resolve, reopen, overrides, state."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from bot.blocks.sla import state_text
from bot.domain.errors import UserError
from bot.domain.service_levels import (
    AT_RISK,
    BREACHED,
    MET,
    ON_TRACK,
    current_state,
    format_sla,
    note_first_response,
    parse_sla,
)
from bot.slack import ids
from storage.models import Priority, Project, Record
from tests.harness import SlackHarness
from tests.intake.test_sla_job import MON, _log, _record


def _at(slack: SlackHarness, when: datetime) -> None:
    slack.services.clock = lambda: when


def _set_priority(slack: SlackHarness, key: str, priority: str) -> None:
    slack.command("/issue", f"edit {key}")
    values: dict[str, dict[str, Any]] = {
        ids.BLOCK_TITLE: {ids.ACTION_TITLE: {"type": "plain_text_input", "value": "Printer down"}},
        ids.BLOCK_PRIORITY: {ids.ACTION_PRIORITY: {"type": "static_select", "selected_option": {"value": priority}}},
    }  # fmt: skip
    assert slack.submit_view(slack.opened_view(), values).body == ""


@pytest.fixture
def acme(project: SlackHarness) -> SlackHarness:
    project.fake.add_user("UBOB")
    return project


def test_priority_change_recomputes_from_the_original_start(acme: SlackHarness) -> None:
    key = _log(acme, "Printer down", priority=Priority.LOW, assignee=None)  # 16 h / 80 h
    assert _record(acme, key).first_response_due == datetime(2026, 11, 24, 16, 0, tzinfo=UTC)
    _at(acme, MON + timedelta(hours=2))
    _set_priority(acme, key, "critical")  # 1 h / 8 h from Monday 09:00, not from 11:00
    record = _record(acme, key)
    assert record.priority == "critical"
    assert record.first_response_due == MON + timedelta(hours=1)
    assert record.resolution_due == MON + timedelta(hours=8)


def test_a_recorded_breach_stands_after_a_priority_change(acme: SlackHarness) -> None:
    key = _log(acme, "Printer down", priority=Priority.CRITICAL, assignee=None)
    with acme.db.write() as session:
        session.execute(update(Record).where(Record.key == key).values(sla_breached=["first_response"]))
    _at(acme, MON + timedelta(hours=1, minutes=30))
    _set_priority(acme, key, "low")
    record = _record(acme, key)
    assert record.first_response_due == datetime(2026, 11, 24, 16, 0, tzinfo=UTC)
    assert record.sla_breached == ["first_response"]
    with acme.db.read() as session:
        project = session.scalar(select(Project))
        assert project is not None
        state = current_state(record, project, now=MON + timedelta(hours=2))
    assert state is not None and state.state == BREACHED


def test_time_spent_resolved_does_not_count_and_reopen_resumes(acme: SlackHarness) -> None:
    key = _log(acme, "Printer down", priority=Priority.HIGH)  # resolution due Tuesday 16:00
    _at(acme, MON + timedelta(hours=2))  # Monday 11:00
    acme.command("/issue", f"resolve {key}")
    assert _record(acme, key).resolved_at == MON + timedelta(hours=2)
    _at(acme, datetime(2026, 11, 24, 12, 0, tzinfo=UTC))  # Tuesday 12:00: resolved for 7 + 3 = 10 business h
    acme.command("/issue", f"reopen {key}")
    record = _record(acme, key)
    assert record.status == "open"
    assert record.sla_paused_minutes == 600
    # 16 h + 10 h from Monday 09:00: Mon 9 h, Tue 9 h, Wed 8 h → Wednesday 17:00.
    assert record.resolution_due == datetime(2026, 11, 25, 17, 0, tzinfo=UTC)
    # Resolved again, then closed: resolved_at is the latest entry into resolved/closed from an open status.
    _at(acme, datetime(2026, 11, 25, 10, 0, tzinfo=UTC))
    acme.command("/issue", f"resolve {key}")
    _at(acme, datetime(2026, 11, 25, 11, 0, tzinfo=UTC))
    acme.command("/issue", f"close {key}")
    assert _record(acme, key).resolved_at == datetime(2026, 11, 25, 10, 0, tzinfo=UTC)


def test_first_response_earliest_wins_and_states(acme: SlackHarness) -> None:
    key = _log(acme, "Printer down", priority=Priority.HIGH)
    with acme.db.write() as session:
        record = session.scalar(select(Record).where(Record.key == key))
        project = session.scalar(select(Project))
        assert record is not None and project is not None
        state = current_state(record, project, now=MON + timedelta(hours=2, minutes=40))
        assert state is not None and (state.target, state.state) == ("first_response", ON_TRACK)
        assert state_text(state, "en") == "first response due in 1 h 20 m"
        assert state_text(state, "zh-CN") == "首次响应将在 1 小时 20 分钟后到期"
        state = current_state(record, project, now=MON + timedelta(hours=3, minutes=30))
        assert state is not None and state.state == AT_RISK
        assert not note_first_response(record, at=MON - timedelta(minutes=1))  # before the customer wrote
        assert note_first_response(record, at=MON + timedelta(hours=2))
        assert not note_first_response(record, at=MON + timedelta(hours=3))  # a later one does not replace it
        assert note_first_response(record, at=MON + timedelta(hours=1))  # an earlier one does
        assert record.first_response_at == MON + timedelta(hours=1)
        # Now the resolution is shown (due Tuesday 16:00).
        state = current_state(record, project, now=datetime(2026, 11, 24, 19, 0, tzinfo=UTC))
        assert state is not None and (state.target, state.state) == ("resolution", BREACHED)
        assert state_text(state, "en") == "resolution breached 3 h ago"
        assert state_text(state, "zh-CN") == "解决时限已超时 3 小时"
        record.status, record.resolved_at = "resolved", MON + timedelta(hours=5)
        state = current_state(record, project, now=datetime(2026, 11, 24, 19, 0, tzinfo=UTC))
        assert state is not None and state.state == MET


def test_project_overrides_and_the_settings_text() -> None:
    overrides = parse_sla("critical 2h/8h, HIGH 4h / 12h ,low 16/80")
    assert overrides == {"first_response": {"critical": 2.0}, "resolution": {"high": 12.0}}
    assert format_sla(overrides) == "critical 2h/8h, high 4h/12h, medium 8h/40h, low 16h/80h"
    assert parse_sla(format_sla({})) == {}
    for bad in ("urgent 1h/2h", "critical 1h", "critical 0h/8h", "critical 1h/eight"):
        with pytest.raises(UserError) as caught:
            parse_sla(bad)
        assert caught.value.field == "sla"


def test_project_override_changes_the_due_times(acme: SlackHarness) -> None:
    with acme.db.write() as session:
        session.execute(update(Project).values(sla={"first_response": {"high": 2}}, holidays=["2026-11-23"]))
    key = _log(acme, "Printer down", priority=Priority.HIGH)
    # Monday is a holiday: the clock starts Tuesday 09:00; high first response is 2 h here.
    assert _record(acme, key).first_response_due == datetime(2026, 11, 24, 11, 0, tzinfo=UTC)


def _reply_blocks_text(slack: SlackHarness) -> str:
    (call,) = [c for c in slack.fake.calls_to("response_url")][-1:]
    blocks = call.args.get("blocks") or []
    return json.dumps(blocks, ensure_ascii=False)


def test_show_list_breaching_and_home_show_the_state_but_channel_cards_do_not(acme: SlackHarness) -> None:
    from tests.home.test_app_home import open_home, published

    first = _log(acme, "Printer down", priority=Priority.HIGH)  # first response due 13:00
    worst = _log(acme, "Site down", priority=Priority.CRITICAL)  # due 10:00
    calm = _log(acme, "Question", priority=Priority.LOW)  # due Tuesday 16:00
    acme.command("/issue", "new Not a customer issue")
    _at(acme, MON + timedelta(hours=2, minutes=40))  # Monday 11:40
    acme.fake.reset_calls()
    acme.command("/issue", f"show {first}")
    assert "first response due in 1 h 20 m" in _reply_blocks_text(acme)
    acme.command("/issue", f"show {worst}")
    assert "first response breached 1 h 40 m ago" in _reply_blocks_text(acme)
    # Breaching: the breached one first, then the one at risk; the calm one and the others not at all.
    _at(acme, MON + timedelta(hours=3, minutes=30))
    acme.command("/issue", "list breaching")
    listed = _reply_blocks_text(acme)
    assert listed.index(worst) < listed.index(first) and calm not in listed and "ACME-4" not in listed
    assert "first response breached 2 h 30 m ago" in listed and "first response due in 30 m" in listed
    acme.command("/task", "list breaching")
    assert "Only issues have service levels" in acme.last_ephemeral()
    # App Home of the assignee.
    acme.fake.reset_calls()
    open_home(acme, "UBOB")
    home = json.dumps(published(acme)[-1]["view"], ensure_ascii=False)
    assert "first response due in 30 m" in home
    # The card posted in the project channel (which may be shared) shows no service-level figure.
    cards = [json.dumps(m, ensure_ascii=False) for m in acme.fake.posted("CPROJ")]
    assert cards and not any("first response" in c for c in cards)


def test_chinese_list_breaching(acme: SlackHarness) -> None:
    with acme.db.write() as session:
        session.execute(update(Project).values(locale="zh-CN"))
    key = _log(acme, "打印机坏了", priority=Priority.CRITICAL)
    _at(acme, MON + timedelta(hours=4))
    acme.command("/issue", "list breaching")
    listed = _reply_blocks_text(acme)
    assert key in listed and "首次响应已超时 3 小时" in listed


def test_weekly_digest_carries_attainment_and_median_first_response(acme: SlackHarness) -> None:
    answered = _log(acme, "Printer down", priority=Priority.HIGH)  # first response due 13:00
    _log(acme, "Site down", priority=Priority.CRITICAL)  # first response due 10:00: never answered
    with acme.db.write() as session:
        record = session.scalar(select(Record).where(Record.key == answered))
        assert record is not None
        note_first_response(record, at=MON + timedelta(minutes=45))
    _at(acme, datetime(2026, 11, 27, 12, 0, tzinfo=UTC))  # Friday; the next digest is Monday 30th 09:00
    acme.fake.reset_calls()
    acme.command("/project", "digest")
    texts = " ".join(
        str(c.args.get("text", "")) + json.dumps(c.args.get("blocks") or [])
        for c in acme.fake.calls_to("response_url")
    )
    # Four targets fell due this week (two first responses, two resolutions); one was met.
    assert "Service levels" in texts
    assert "1 of 4 targets met (25%)" in texts
    assert "median first response 45 business minutes (1 issue)" in texts


def test_no_service_level_line_without_customer_issues(acme: SlackHarness) -> None:
    acme.command("/issue", "new Internal only")
    _at(acme, datetime(2026, 11, 27, 12, 0, tzinfo=UTC))
    acme.fake.reset_calls()
    acme.command("/project", "digest")
    texts = " ".join(json.dumps(c.args) for c in acme.fake.calls_to("response_url"))
    assert "ACME" in texts and "Service levels" not in texts


def test_the_assignment_dm_shows_the_service_level(acme: SlackHarness) -> None:
    key = _log(acme, "Printer down", priority=Priority.HIGH, assignee=None)
    _at(acme, MON + timedelta(hours=2, minutes=40))
    acme.fake.reset_calls()
    acme.command("/issue", f"assign {key} <@UBOB|bob>")
    (dm,) = [m for m in acme.fake.posted("UBOB")]
    assert "first response due in 1 h 20 m" in json.dumps(dm["blocks"])
