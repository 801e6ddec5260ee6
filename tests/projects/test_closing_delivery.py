"""The closing report through the delivery ledger: acknowledged first, claimed, retried, never doubled.

And ``/project docs`` links the report with the permalink Slack gives now (``files.info``).
"""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

import bot.features.closure as closure_flow
from storage.models import Delivery, Document, Project
from tests.harness import SlackHarness, run_job
from tests.projects.test_closure import (
    CLOSED,
    _close_values,
    _documents,
    _message_text,
    _posts,
    _status,
    close,
)
from tests.projects.test_closure import data as data  # the known data set, closed in these tests
from tests.reports.test_charts import no_chart

BASE = "retrospective:T0001:ACME:1"


def _report_channel(slack: SlackHarness, **kwargs: Any) -> None:
    slack.fake.add_channel("CREPORT", name="acme-internal", **kwargs)
    with slack.db.write() as session:
        session.execute(update(Project).where(Project.key == "ACME").values(report_channel_id="CREPORT"))


def _deliveries(slack: SlackHarness) -> list[tuple[str, str, str]]:
    with slack.db.read() as session:
        rows = session.scalars(
            select(Delivery).where(Delivery.kind.startswith("retrospective")).order_by(Delivery.id)
        )
        return [(d.key, d.channel, d.status) for d in rows]


@pytest.fixture
def closing(data: SlackHarness) -> SlackHarness:
    data.fake.clock = lambda: CLOSED.timestamp()  # Slack's message timestamps at the closing instant
    _report_channel(data)
    return data


def test_the_closing_form_is_acknowledged_before_any_slack_call_or_report(
    closing: SlackHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    closing.services.clock = lambda: CLOSED
    closing.command("/project", "close")
    view = closing.opened_view()
    closing.fake.reset_calls()
    release = threading.Event()
    at_ack: dict[str, Any] = {}
    real_close, real_drain = closure_flow.close_project, closing.executor.drain

    def held_close(*args: Any, **kwargs: Any) -> Any:
        assert release.wait(10)
        return real_close(*args, **kwargs)

    def drain(timeout: float = 10.0) -> None:
        # The answer to Slack has been sent: nothing may have happened yet.
        at_ack["calls"] = [c.method for c in closing.fake.calls]
        at_ack["status"], at_ack["documents"] = _status(closing), len(_documents(closing))
        release.set()
        real_drain(timeout)

    monkeypatch.setattr(closure_flow, "close_project", held_close)
    monkeypatch.setattr(closing.executor, "drain", drain)
    response = closing.submit_view(view, _close_values("Done", None))

    assert response.status == 200 and response.body == ""
    assert at_ack == {"calls": [], "status": "active", "documents": 0}
    assert _status(closing) == "closed" and len(_posts(closing.fake, "CREPORT")) == 1


def test_a_report_that_could_not_be_sent_is_retried_by_the_digest_job_once(closing: SlackHarness) -> None:
    closing.fake.fail("chat.postMessage", status=503)  # the report post: Slack is down for a moment
    close(closing)
    assert _status(closing) == "closed"
    assert closing.fake.posted("CREPORT") == [] and closing.fake.uploads("CREPORT") == []
    assert _deliveries(closing) == [
        (f"{BASE}:post", "CREPORT", "pending"),
        (f"{BASE}:file", "CREPORT", "pending"),  # the file waits for its report
    ]
    [confirmation] = closing.fake.calls_to("chat.postEphemeral")
    assert "I couldn't post the retrospective report (http_503)" in confirmation.args["text"]

    later = CLOSED + timedelta(hours=1)
    run = run_job(closing, "digest", later)
    assert (run.sent, run.pending, run.failed) == (2, 0, 0)
    [post] = closing.fake.posted("CREPORT")
    assert "Requirements: 3 requested" in _message_text(post)
    [upload] = closing.fake.uploads("CREPORT")
    assert upload["filename"] == "ACME-retrospective-2026-12-01.md"
    [document] = _documents(closing)
    assert document.file_id == upload["id"]
    assert [status for *_, status in _deliveries(closing)] == ["sent", "sent"]

    # Once: the next runs find nothing to send.
    closing.fake.reset_calls()
    again = run_job(closing, "digest", later + timedelta(hours=1))
    assert again.sent == 0 and closing.fake.calls_to("chat.postMessage") == []
    assert closing.fake.calls_to("files.getUploadURLExternal") == []


def test_an_upload_whose_answer_was_lost_is_looked_up_not_repeated(
    closing: SlackHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    no_chart(monkeypatch)  # the failures below are meant for the report's file, not its chart
    # Slack shares the file, but the answer never arrives.
    closing.fake.fail("files.completeUploadExternal", status=500, accept=True)
    close(closing)
    assert len(closing.fake.uploads("CREPORT")) == 1
    with closing.db.read() as session:
        file_row = session.scalar(select(Delivery).where(Delivery.key == f"{BASE}:file"))
        assert file_row is not None
        assert (file_row.status, file_row.in_doubt) == ("pending", True)
        assert file_row.file_id == closing.fake.uploads("CREPORT")[0]["id"]

    closing.fake.reset_calls()
    run = run_job(closing, "digest", CLOSED + timedelta(hours=1))
    assert (run.sent, run.pending) == (1, 0)
    assert [c.args.get("file") for c in closing.fake.calls_to("files.info")] == [file_row.file_id]
    assert closing.fake.calls_to("files.getUploadURLExternal") == []
    assert len(closing.fake.uploads("CREPORT")) == 1
    [document] = _documents(closing)
    assert document.file_id == file_row.file_id


def test_an_upload_that_never_completed_is_made_again(
    closing: SlackHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    no_chart(monkeypatch)  # the failures below are meant for the report's file, not its chart
    closing.fake.fail("files.completeUploadExternal", status=500)  # not done: the file was never shared
    close(closing)
    assert closing.fake.uploads("CREPORT") == []
    run = run_job(closing, "digest", CLOSED + timedelta(hours=1))
    assert run.sent == 1
    [upload] = closing.fake.uploads("CREPORT")
    assert _documents(closing)[0].file_id == upload["id"]


def test_docs_links_the_report_with_the_permalink_slack_gives(closing: SlackHarness) -> None:
    close(closing)
    [upload] = closing.fake.uploads("CREPORT")
    # What was stored at upload time is not trusted: Slack is asked when the index is shown.
    with closing.db.write() as session:
        session.execute(update(Document).values(permalink="https://stale.example/old"))
    closing.fake.reset_calls()
    closing.command("/project", "docs")
    [info] = closing.fake.calls_to("files.info")
    assert info.args["file"] == upload["id"]
    text = _message_text(closing.fake.calls_to("response_url")[-1].args)
    assert f"<{upload['permalink']}|Retrospective report ACME (2026-12-01)>" in text
    assert "stale.example" not in text

    # A file deleted in Slack: the report is listed without a link.
    closing.fake.fail("files.info", error="file_not_found")
    closing.command("/project", "docs")
    text = _message_text(closing.fake.calls_to("response_url")[-1].args)
    assert "Retrospective report ACME (2026-12-01)" in text and upload["permalink"] not in text


def test_without_a_report_channel_an_internal_project_channel_gets_the_report(data: SlackHarness) -> None:
    data.fake.clock = lambda: CLOSED.timestamp()
    data.fake.add_user("UALICE")
    data.fake.add_channel("CPROJ", members=["UALICE"])  # only the team is in it
    close(data)
    [report] = [p for p in data.fake.posted("CPROJ") if "Requirements: 3 requested" in _message_text(p)]
    assert report["metadata"]["event_payload"]["key"] == f"{BASE}:post"
    [upload] = data.fake.uploads("CPROJ")
    assert _documents(data)[0].file_id == upload["id"] and data.fake.posted("UALICE") == []
    [confirmation] = data.fake.calls_to("chat.postEphemeral")
    assert "The retrospective report is in <#CPROJ>" in confirmation.args["text"]
