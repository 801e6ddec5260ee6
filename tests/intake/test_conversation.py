"""The thread is the conversation: first responses (also before logging) and thread updates."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import update

from storage.db import Database
from storage.models import Project
from tests.harness import SlackHarness
from tests.intake_story import (
    CHANNEL,
    CUSTOMER,
    customer_says,
    posts_to,
    react,
    says,
    share_with_customer,
    ts,
)
from tests.ops.test_import import db2, exported, pg_second, restore  # noqa: F401 (fixtures)


def _at(value: str) -> datetime:
    return datetime.fromtimestamp(float(value), tz=UTC)


def _set(slack: SlackHarness, **values: object) -> None:
    with slack.db.write() as session:
        session.execute(update(Project).where(Project.key == "ACME").values(**values))


def test_a_reply_before_the_record_was_logged_is_its_first_response(project: SlackHarness) -> None:
    share_with_customer(project)
    _set(project, intake="off")
    question = ts(0)
    customer_says(project, "Server down", question)
    customer_says(project, "Anyone?", ts(60), thread_ts=question)  # the customer again: not a response
    project.event({"type": "message", "subtype": "bot_message", "bot_id": "BOTHER", "channel": CHANNEL,
                   "text": "Auto-reply", "ts": ts(90), "thread_ts": question})  # fmt: skip
    says(project, "UBOB", "Looking at it", ts(120), thread_ts=question)
    says(project, "UCAROL", "Me too", ts(180), thread_ts=question)
    react(project, "UALICE", question)
    [record] = project.records()
    assert record.requester_external is True and record.sla_start == _at(question)
    assert record.first_response_at == _at(ts(120))


def test_a_reply_after_logging_is_the_first_response_and_later_ones_change_nothing(
    project: SlackHarness,
) -> None:
    share_with_customer(project)
    _set(project, intake="auto")
    question = ts(0)
    customer_says(project, "Invoices missing", question)
    [record] = project.records()
    assert record.first_response_at is None
    customer_says(project, "Hello?", ts(30), thread_ts=question)
    says(project, "UBOB", "On it", ts(300), thread_ts=question)
    says(project, "UBOB", "Fixed", ts(900), thread_ts=question)
    [record] = project.records()
    assert record.first_response_at == _at(ts(300))


def test_a_reply_in_another_thread_is_not_a_response(project: SlackHarness) -> None:
    share_with_customer(project)
    _set(project, intake="auto")
    customer_says(project, "Invoices missing", ts(0))
    says(project, "UBOB", "Unrelated", ts(200), thread_ts=ts(100))
    assert project.records()[0].first_response_at is None


def test_status_assignment_and_due_date_are_told_in_a_shared_thread_as_key_and_status_only(
    project: SlackHarness,
) -> None:
    share_with_customer(project)
    _set(project, intake="auto")
    question = ts(0)
    customer_says(project, "Server down", question)
    project.fake.reset_calls()
    project.command("/issue", "start ACME-1", user="UALICE")
    project.command("/issue", "assign ACME-1 <@UBOB>", user="UALICE")
    project.command("/issue", "due ACME-1 2026-12-01", user="UALICE")
    project.command("/issue", "comment ACME-1 internal note <!channel>", user="UALICE")
    lines = [p for p in posts_to(project, CHANNEL) if p.get("thread_ts") == question]
    assert [p["text"] for p in lines] == [
        "Update on ACME-1: in progress.",
        "Update on ACME-1: in progress.",
        "Update on ACME-1: in progress.",
    ]
    assert all(not p.get("blocks") for p in lines)
    # The same move again changes nothing, and says nothing.
    project.fake.reset_calls()
    project.command("/issue", "start ACME-1", user="UALICE")
    assert posts_to(project, CHANNEL) == []


def test_an_internal_channel_thread_hears_the_details_in_the_projects_language(project: SlackHarness) -> None:
    _set(project, locale="zh-CN", intake="off")
    # Nobody of another organisation in the channel: an internal member's message logged with :ticket:.
    project.event({"type": "message", "channel": CHANNEL, "channel_type": "channel", "user": "UBOB",
                   "text": "Staging is slow", "ts": ts(0)})  # fmt: skip
    react(project, "UALICE", ts(0), item_user="UBOB")
    project.fake.reset_calls()
    project.command("/issue", "assign ACME-1 <@UCAROL>", user="UALICE")
    project.command("/issue", "resolve ACME-1", user="UALICE")
    lines = [p["text"] for p in posts_to(project, CHANNEL) if p.get("thread_ts") == ts(0)]
    assert lines == ["ACME-1 已指派给 <@UCAROL>。", "ACME-1 现在的状态是：已解决。"]


def test_thread_updates_can_be_turned_off(project: SlackHarness) -> None:
    share_with_customer(project)
    _set(project, intake="auto", thread_updates=False)
    customer_says(project, "Server down", ts(0))
    project.fake.reset_calls()
    project.command("/issue", "start ACME-1", user="UALICE")
    assert [p for p in posts_to(project, CHANNEL) if p.get("thread_ts")] == []
    assert project.records()[0].requester_id == CUSTOMER


def test_what_intake_stored_survives_export_and_import(
    project: SlackHarness, request: pytest.FixtureRequest
) -> None:
    second: Database = request.getfixturevalue("db2")
    share_with_customer(project)
    _set(project, intake="auto", removed_contacts=["UFORMER"])
    customer_says(project, "Server down", ts(0))
    says(project, "UBOB", "Looking at it", ts(120), thread_ts=ts(0))
    before = exported(project.db)
    [issue] = before["issues"]
    assert (issue["requester_id"], issue["source_ts"], issue["created_by"]) == (CUSTOMER, ts(0), "UAFTERCARE")
    assert issue["source_url"].endswith(ts(0).replace(".", ""))
    assert issue["first_response_at"] == _at(ts(120)).isoformat()
    acme = before["projects"][0]
    assert acme["customer_contacts"] == [CUSTOMER] and acme["removed_contacts"] == ["UFORMER"]
    assert (acme["intake"], acme["intake_emoji"]) == ("auto", "ticket")
    restore(second, before)
    assert exported(second) == before
