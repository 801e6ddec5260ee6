"""`/project close` with its retrospective report, and `/project docs`, against a known data set.

Every figure of the report is checked: in the post, in the uploaded Markdown file and in the
stored document of record. The data set is built with real commands at known instants.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from importlib import resources
from typing import Any

import pytest
from jinja2 import meta
from sqlalchemy import event, select, update

from bot.blocks.rendering import environment, render
from bot.demo.simulator import FakeSlack
from bot.domain.errors import UserError
from bot.domain.people import upsert_member
from bot.domain.retrospective import check_closing_text, retrospective
from bot.ops.export import export_data
from bot.slack import ids
from storage.models import Document, MemberRole, Project, ProjectMember, Survey, SurveyResponse
from tests.harness import TEAM, SlackHarness, joined
from tests.reports.test_charts import no_chart

CREATED = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)
CLOSED = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
SOURCE_TS = "1793000000.000100"

# The report's figures for the data set below (English), one line each.
FIGURES = [
    "Requirements: 3 requested · 1 delivered · 1 rejected · 1 still open",
    "Scope changes: 1",
    "Issues: 5 raised · 4 resolved · 1 still open",
    "Median issue resolution time: 24 hours",
    "Tasks: 5 planned · 4 done · 1 still open",
    "Tasks done on time: 67% (2 of 3)",
    "Risks that materialized: 2 of 3 (ACME-13, ACME-15)",
    "Meetings held: 1",
]
PERIOD = "From Mon, Nov 2, 2026 to Tue, Dec 1, 2026 (29 days)"


def at(month: int, day: int, hour: int = 0) -> datetime:
    return datetime(2026, month, day, hour, 0, tzinfo=UTC)


def _do(slack: SlackHarness, when: datetime, command: str, text: str, **kwargs: Any) -> None:
    slack.services.clock = lambda: when
    assert slack.command(command, text, **kwargs).status == 200


def _set_project(slack: SlackHarness, **values: Any) -> None:
    with slack.db.write() as session:
        session.execute(update(Project).where(Project.key == "ACME").values(**values))


def _meeting(slack: SlackHarness, when: datetime) -> None:
    _do(slack, when, "/meeting", "new Kickoff")
    view = slack.opened_view()
    values = {
        ids.BLOCK_MEETING_TITLE: {ids.ACTION_MEETING_TITLE: {"type": "plain_text_input", "value": "Kickoff"}},
        ids.BLOCK_MEETING_DATE: {
            ids.ACTION_MEETING_DATE: {"type": "datepicker", "selected_date": "2026-11-30"}
        },
        ids.BLOCK_NOTES: {ids.ACTION_NOTES: {"type": "plain_text_input", "value": "Scope agreed"}},
    }
    assert slack.submit_view(view, values).status == 200


def _log_from_message(slack: SlackHarness, when: datetime) -> None:
    """ "Log as issue" on a customer's message: a record linked to that message."""
    slack.services.clock = lambda: when
    slack.message_shortcut(
        ids.SHORTCUT_LOG_ISSUE, {"ts": SOURCE_TS, "user": "UCUSTOMER", "text": "Export fails"}
    )
    view = slack.opened_view()
    blocks = {b.get("block_id"): b for b in view["blocks"]}
    values = {
        ids.BLOCK_PROJECT: {
            ids.ACTION_PROJECT: {
                "type": "static_select",
                "selected_option": blocks[ids.BLOCK_PROJECT]["element"].get("initial_option"),
            }
        },
        ids.BLOCK_TITLE: {ids.ACTION_TITLE: {"type": "plain_text_input", "value": "Export fails"}},
        ids.BLOCK_DESCRIPTION: {
            ids.ACTION_DESCRIPTION: {"type": "plain_text_input", "value": "Export fails"}
        },
    }
    assert slack.submit_view(view, values).status == 200


def build(slack: SlackHarness) -> None:
    """The known data set. Each line says what it must count as."""
    _set_project(slack, created_at=CREATED)
    # Requirements: 1 delivered, 1 rejected, 1 open with a change of scope after acceptance.
    _do(slack, at(11, 2, 9), "/req", "new Dark mode")  # ACME-1 open (accepted), scope changed
    _do(slack, at(11, 2, 9), "/req", "new CSV export")  # ACME-2 delivered
    _do(slack, at(11, 2, 9), "/req", "new Fax support")  # ACME-3 rejected (never agreed: no scope change)
    _do(slack, at(11, 3), "/req", "accept ACME-1")
    _do(slack, at(11, 4), "/req", "due ACME-1 2026-12-15")  # the one scope change
    _do(slack, at(11, 5), "/req", "deliver ACME-2")
    _do(slack, at(11, 5), "/req", "reject ACME-3")
    # Issues: closed after 48 h, 24 h and 6 h, one resolved after 24 h but not closed: median 24 h.
    _do(slack, at(11, 3), "/issue", "new Login slow")  # ACME-4
    _do(slack, at(11, 3), "/issue", "new Printer jams")  # ACME-5
    _do(slack, at(11, 6), "/issue", "new Crash on save")  # ACME-6 resolved, not closed
    _do(slack, at(11, 6), "/issue", "new Typo on invoice")  # ACME-7
    _do(slack, at(11, 5), "/issue", "close ACME-4")
    _do(slack, at(11, 4), "/issue", "close ACME-5")
    _do(slack, at(11, 7), "/issue", "resolve ACME-6")
    _do(slack, at(11, 6, 6), "/issue", "close ACME-7")
    # Tasks: 2 of 3 with a due date done on time; 1 done without one; 1 still open.
    _do(slack, at(11, 2, 9), "/task", "new Write docs due:2026-11-10")  # ACME-8 on time
    _do(slack, at(11, 2, 9), "/task", "new Migrate data due:2026-11-05")  # ACME-9 late
    _do(slack, at(11, 2, 9), "/task", "new Train staff due:2026-11-20")  # ACME-10 on time (its due day)
    _do(slack, at(11, 2, 9), "/task", "new Backlog cleanup")  # ACME-11 done, no due date
    _do(slack, at(11, 2, 9), "/task", "new Final audit due:2026-12-20")  # ACME-12 still open
    _do(slack, at(11, 9), "/task", "done ACME-8")
    _do(slack, at(11, 7), "/task", "done ACME-9")
    _do(slack, at(11, 20, 12), "/task", "done ACME-10")
    _do(slack, at(11, 21), "/task", "done ACME-11")
    # Risks: two materialized (reached "mitigating"), one never did.
    _do(slack, at(11, 2, 9), "/risk", "new Vendor delay p:4 i:5")  # ACME-13 mitigating, then closed
    _do(slack, at(11, 2, 9), "/risk", "new Budget cut p:2 i:3")  # ACME-14 open, never mitigating
    _do(slack, at(11, 2, 9), "/risk", "new Key person leaves p:3 i:3")  # ACME-15 still mitigating
    _do(slack, at(11, 10), "/risk", "mitigate ACME-13 Second vendor")
    _do(slack, at(11, 25), "/risk", "close ACME-13")
    _do(slack, at(11, 12), "/risk", "mitigate ACME-15")
    # One meeting (ACME-16) and one issue logged from a customer's message (ACME-17, still open).
    _meeting(slack, at(11, 30, 10))
    _log_from_message(slack, at(11, 28))
    slack.fake.reset_calls()


@pytest.fixture
def data(project: SlackHarness) -> SlackHarness:
    build(project)
    joined(project.fake, "CREPORT")  # the report channel some tests set
    return project


def _close_values(summary: str | None, lessons: str | None) -> dict[str, dict[str, Any]]:
    return {
        ids.BLOCK_CLOSE_SUMMARY: {ids.ACTION_CLOSE_SUMMARY: {"type": "plain_text_input", "value": summary}},
        ids.BLOCK_CLOSE_LESSONS: {ids.ACTION_CLOSE_LESSONS: {"type": "plain_text_input", "value": lessons}},
    }


def close(
    slack: SlackHarness,
    *,
    summary: str | None = "All delivered but dark mode",
    lessons: str | None = "Agree due dates & scope <early>",
    user: str = "UALICE",
    channel: str = "CPROJ",
    now: datetime | None = CLOSED,
) -> Any:
    """``/project close``, then submit the modal it opened; the answer to the submission.

    Other tests may use it to close a project (``now=None`` keeps the harness's clock).
    """
    if now is not None:
        slack.services.clock = lambda: now
    slack.command("/project", "close", user=user, channel=channel)
    view = slack.opened_view()
    return slack.submit_view(view, _close_values(summary, lessons), user=user)


def _message_text(args: dict[str, Any]) -> str:
    blocks = args.get("blocks")
    blocks = json.loads(blocks) if isinstance(blocks, str) else blocks or []
    parts = []
    for block in blocks:
        text = block.get("text") or {}
        parts.append(str(text.get("text", "")))
        parts += [str(e.get("text", "")) for e in block.get("elements") or [] if isinstance(e, dict)]
    return "\n".join(parts)


def _posts(fake: FakeSlack, channel: str) -> list[dict[str, Any]]:
    return [c.args for c in fake.calls_to("chat.postMessage") if c.args.get("channel") == channel]


def _status(slack: SlackHarness) -> str:
    with slack.db.read() as session:
        return str(session.scalar(select(Project.status).where(Project.key == "ACME")))


def _documents(slack: SlackHarness) -> list[Document]:
    with slack.db.read() as session:
        return list(session.scalars(select(Document).order_by(Document.id)))


# -- the report ---------------------------------------------------------------------------------------


def test_figures_of_the_known_data_set(data: SlackHarness) -> None:
    with data.db.read() as session:
        project_id = session.scalar(select(Project.id).where(Project.key == "ACME"))
        assert project_id is not None
        report = retrospective(session, team_id=TEAM, project_id=project_id, now=CLOSED)
    assert [r.key for r in report.requirements] == ["ACME-1", "ACME-2", "ACME-3"]
    assert ([r.key for r in report.delivered], [r.key for r in report.rejected]) == (["ACME-2"], ["ACME-3"])
    assert [r.key for r in report.open_requirements] == ["ACME-1"]
    [change] = report.scope_changes
    assert (change.key, change.field, change.old, change.new) == ("ACME-1", "due_date", None, "2026-12-15")
    assert (report.issues_raised, report.issues_resolved) == (5, 4)  # resolved counts at resolved
    assert [r.key for r in report.open_issues] == ["ACME-17"]
    assert report.median_resolution is not None and report.median_resolution.total_seconds() == 24 * 3600
    assert (report.tasks_total, report.tasks_done, report.tasks_with_due_date, report.tasks_on_time) == (
        5,
        4,
        3,
        2,
    )
    assert [r.key for r in report.late_tasks] == ["ACME-9"]
    assert [r.key for r in report.open_tasks] == ["ACME-12"]
    assert report.on_time_rate == pytest.approx(2 / 3)
    assert report.risks_logged == 3
    assert [r.key for r in report.materialized] == ["ACME-13", "ACME-15"]
    assert [r.key for r in report.open_risks] == ["ACME-14", "ACME-15"]
    assert [(m.key, m.title) for m in report.meetings] == [("ACME-16", "Kickoff")]
    assert report.days == 29


def test_the_figures_cost_a_fixed_number_of_queries(data: SlackHarness) -> None:
    def count() -> int:
        statements: list[str] = []

        def seen(*args: Any) -> None:
            statements.append(str(args[2]))

        event.listen(data.db.engine, "before_cursor_execute", seen)
        try:
            with data.db.read() as session:
                project_id = session.scalar(select(Project.id).where(Project.key == "ACME"))
                assert project_id is not None
                retrospective(session, team_id=TEAM, project_id=project_id, now=CLOSED)
        finally:
            event.remove(data.db.engine, "before_cursor_execute", seen)
        return len(statements)

    before = count()
    for n in range(5):
        _do(data, at(11, 29), "/task", f"new More work {n} due:2026-11-30")
        _do(data, at(11, 29), "/risk", f"new More risk {n}")
        _do(data, at(11, 29), "/risk", f"mitigate ACME-{18 + 2 * n + 1}")
    assert count() == before <= 11  # one more: the issue satisfaction figure


def test_only_an_owner_or_admin_may_close(data: SlackHarness) -> None:
    data.command("/project", "close", user="UBOB")
    assert "Only an owner of project ACME or a workspace admin" in data.last_ephemeral()
    assert data.fake.calls_to("views.open") == []
    assert _status(data) == "active"

    # A modal opened by an owner cannot be submitted by someone else either.
    data.command("/project", "close")
    response = data.submit_view(data.opened_view(), _close_values("Done", None), user="UBOB")
    errors = response.json()["errors"]
    assert "Only an owner of project ACME" in errors[ids.BLOCK_CLOSE_SUMMARY]
    assert _status(data) == "active" and _documents(data) == []


def test_the_modal_asks_for_summary_and_lessons_and_shows_the_figures(data: SlackHarness) -> None:
    data.services.clock = lambda: CLOSED
    data.command("/project", "close")
    view = data.opened_view()
    assert view["callback_id"] == ids.VIEW_CLOSE_PROJECT
    blocks = {b.get("block_id"): b for b in view["blocks"]}
    assert blocks[ids.BLOCK_CLOSE_SUMMARY]["optional"] is False
    assert blocks[ids.BLOCK_CLOSE_LESSONS]["optional"] is True
    text = json.dumps(view["blocks"], ensure_ascii=False)
    for line in FIGURES:
        assert line in text
    assert _status(data) == "active"  # nothing is closed until the modal is submitted

    # An empty summary is refused next to its field; nothing changes.
    response = data.submit_view(view, _close_values("   ", "x"))
    assert "closing summary" in response.json()["errors"][ids.BLOCK_CLOSE_SUMMARY]
    assert _status(data) == "active" and _documents(data) == []


def test_closing_posts_the_report_uploads_the_file_and_keeps_the_document(data: SlackHarness) -> None:
    data.fake.add_channel("CREPORT", name="acme-internal")
    _set_project(data, report_channel_id="CREPORT")
    response = close(data)
    assert response.status == 200 and response.body == ""  # the modal closes

    # Closed: records are read-only.
    assert _status(data) == "closed"
    with data.db.read() as session:
        project = session.scalar(select(Project).where(Project.key == "ACME"))
        assert project is not None
        assert project.closing_summary == "All delivered but dark mode"
        assert project.lessons_learned == "Agree due dates & scope <early>"
        assert project.closed_at == CLOSED

    # The report in the report channel, with the exact figures; user text escaped for Slack.
    [post] = _posts(data.fake, "CREPORT")
    text = _message_text(post)
    for line in FIGURES:
        assert f"• {line}" in text
    assert PERIOD in text and "closed by <@UALICE>" in text
    assert "Agree due dates &amp; scope &lt;early&gt;" in text
    assert "Satisfaction" not in text  # no survey results yet

    # The same figures in the Markdown file uploaded there, user text as typed.
    [upload] = data.fake.uploads("CREPORT")
    assert upload["filename"] == "ACME-retrospective-2026-12-01.md"
    content = upload["content"].decode("utf-8")
    for line in FIGURES:
        assert f"- {line}" in content
    assert content.startswith("# Retrospective: ACME — Acme Corp after-sales")
    assert PERIOD in content
    assert "Agree due dates & scope <early>" in content
    assert "- ACME-9 Migrate data · due Thu, Nov 5, 2026, done Sat, Nov 7, 2026" in content
    assert "- ACME-1 Dark mode · due date: — → Tue, Dec 15, 2026" in content
    assert "- ACME-16 Kickoff · Mon, Nov 30, 2026" in content

    # Stored first, then noted with its file: the document of record.
    [document] = _documents(data)
    assert (document.kind, document.title) == ("retrospective", "Retrospective report ACME (2026-12-01)")
    assert document.content == content
    assert (document.file_id, document.permalink) == (upload["id"], upload["permalink"])
    assert document.created_by == "UALICE" and document.created_at == CLOSED

    # The channel hears that the project closed; the closer where the report went.
    assert any("closed project *ACME*" in p["text"] for p in _posts(data.fake, "CPROJ"))
    [confirmation] = data.fake.calls_to("chat.postEphemeral")
    assert "The retrospective report is in <#CREPORT>" in confirmation.args["text"]

    # Read-only until reopened.
    data.command("/task", "new Write more docs")
    assert "ACME is closed" in data.last_ephemeral()
    data.command("/project", "close")
    assert "already closed" in data.last_ephemeral()

    # The export carries the document.
    with data.db.read() as session:
        exported = export_data(session, team_id=TEAM)
    [doc] = exported["documents"]
    assert doc["project"] == "ACME" and doc["team_id"] == TEAM and doc["kind"] == "retrospective"
    assert doc["content"] == content and doc["permalink"] == upload["permalink"]
    assert datetime.fromisoformat(doc["created_at"]) == CLOSED

    # Reopened by an owner: records can be logged again.
    data.command("/project", "reopen")
    assert _status(data) == "active"
    data.command("/task", "new Write more docs")
    assert data.records()[-1].title == "Write more docs"


def test_without_a_report_channel_and_a_shared_project_channel_the_owners_get_it_by_dm(
    data: SlackHarness,
) -> None:
    data.fake.add_channel("CPROJ", name="acme", is_ext_shared=True)  # the customer is in the project channel
    close(data)
    assert [p for p in _posts(data.fake, "CPROJ") if "Requirements:" in _message_text(p)] == []
    assert data.fake.uploads("CPROJ") == []
    assert _posts(data.fake, "CREPORT") == []
    [post] = _posts(data.fake, "UALICE")
    assert "Requirements: 3 requested" in _message_text(post)
    [upload] = data.fake.uploads("UALICE")  # in the DM the report landed in
    assert "- Tasks done on time: 67% (2 of 3)" in upload["content"].decode()
    [confirmation] = data.fake.calls_to("chat.postEphemeral")
    assert "owners by direct message" in confirmation.args["text"]


def test_a_report_channel_shared_with_another_organisation_gets_nothing(data: SlackHarness) -> None:
    data.fake.add_channel("CSHARED", is_ext_shared=True)
    _set_project(data, report_channel_id="CSHARED")
    close(data)
    assert _posts(data.fake, "CSHARED") == [] and data.fake.uploads("CSHARED") == []
    assert len(_posts(data.fake, "UALICE")) == 1 and len(data.fake.uploads("UALICE")) == 1
    [confirmation] = data.fake.calls_to("chat.postEphemeral")
    assert "shared with another organisation" in confirmation.args["text"]


def test_a_report_channel_that_refuses_the_post_falls_back_to_the_owners(data: SlackHarness) -> None:
    data.fake.add_channel("CREPORT", name="acme-internal")
    _set_project(data, report_channel_id="CREPORT")
    data.fake.add_channel("CREPORT", is_archived=True)  # someone archived it
    close(data)
    assert data.fake.uploads("CREPORT") == []
    # The owner gets the report by DM, and one notice that the channel refused it (not one per file).
    report, notice = sorted(_posts(data.fake, "UALICE"), key=lambda p: "couldn't" in str(p.get("text")))
    assert "Requirements: 3 requested" in _message_text(report) and len(data.fake.uploads("UALICE")) == 1
    assert "I couldn't post a retrospective to <#CREPORT>: Slack said is_archived" in notice["text"]
    [document] = _documents(data)
    assert document.file_id == data.fake.uploads("UALICE")[0]["id"]
    [confirmation] = data.fake.calls_to("chat.postEphemeral")
    assert "I couldn't post in <#CREPORT> (is_archived)" in confirmation.args["text"]


def test_a_failed_upload_keeps_the_document_for_later(
    data: SlackHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    no_chart(monkeypatch)  # the failures below are meant for the report's file, not its chart
    data.fake.add_channel("CREPORT", name="acme-internal")
    _set_project(data, report_channel_id="CREPORT")
    data.fake.fail("files.completeUploadExternal", error="not_in_channel")
    close(data)
    assert _status(data) == "closed"
    assert len(_posts(data.fake, "CREPORT")) == 1
    [document] = _documents(data)
    assert document.file_id is None and "Requirements: 3 requested" in document.content
    [confirmation] = data.fake.calls_to("chat.postEphemeral")
    assert "couldn't upload the report as a file (not_in_channel)" in confirmation.args["text"]


def test_closing_starts_the_closing_survey_and_reports_satisfaction(data: SlackHarness) -> None:
    surveys = pytest.importorskip("bot.domain.surveys")
    with data.db.write() as session:
        project = session.scalar(select(Project).where(Project.key == "ACME"))
        assert project is not None
        session.add(
            ProjectMember(
                team_id=TEAM, project_id=project.id, user_id="UCUSTOMER", role=MemberRole.CUSTOMER_CONTACT
            )
        )
        # An earlier survey, closed with two answers (average 4.5).
        earlier = Survey(team_id=TEAM, project_id=project.id, kind="on_demand", status="closed",
                         created_at=at(11, 10), closes_at=at(11, 17), closed_at=at(11, 17))  # fmt: skip
        session.add(earlier)
        session.flush()
        for n, score in enumerate((4, 5)):
            session.add(SurveyResponse(survey_id=earlier.id, team_id=TEAM, secret_hash=f"h{n}", score=score,
                                       created_at=at(11, 12), updated_at=at(11, 12)))  # fmt: skip
        upsert_member(
            session, team_id=TEAM, member={"id": "UALICE", "real_name": "Alice Liddell"}, now=CREATED
        )
    data.fake.add_channel("CREPORT", name="acme-internal")
    _set_project(data, report_channel_id="CREPORT")
    close(data)
    [post] = _posts(data.fake, "CREPORT")
    assert "• Satisfaction: 4.5 / 5" in _message_text(post)
    [upload] = data.fake.uploads("CREPORT")
    content = upload["content"].decode()
    assert "- Satisfaction: 4.5 / 5" in content
    assert "closed by Alice Liddell" in content and "Owners: Alice Liddell" in content  # names, not ids
    with data.db.read() as session:
        kinds = [s.kind for s in session.scalars(select(Survey).order_by(Survey.id))]
    assert kinds == ["on_demand", surveys.KIND_CLOSING]
    [confirmation] = data.fake.calls_to("chat.postEphemeral")
    assert "The closing survey is on its way" in confirmation.args["text"]


def test_without_anybody_to_ask_the_project_still_closes(data: SlackHarness) -> None:
    pytest.importorskip("bot.domain.surveys")
    close(data)
    assert _status(data) == "closed" and len(_documents(data)) == 1
    with data.db.read() as session:
        assert session.scalars(select(Survey)).all() == []
    [confirmation] = data.fake.calls_to("chat.postEphemeral")
    assert "The closing survey was not sent" in confirmation.args["text"]


# -- the document index -------------------------------------------------------------------------------


def test_docs_lists_the_report_the_meeting_and_the_message_links(data: SlackHarness) -> None:
    data.command("/project", "docs")
    assert "No reports yet" in _message_text(data.fake.calls_to("response_url")[-1].args)

    data.fake.add_channel("CREPORT", name="acme-internal")

    _set_project(data, report_channel_id="CREPORT")
    close(data)
    [upload] = data.fake.uploads("CREPORT")
    [meeting_post] = [p for p in data.fake.posted("CPROJ") if "Kickoff" in str(p.get("text"))]
    data.fake.reset_calls()

    data.command("/project", "docs")  # a closed project's documents stay readable
    [call] = data.fake.calls_to("response_url")
    assert call.args["response_type"] == "ephemeral"
    text = _message_text(call.args)
    assert f"<{upload['permalink']}|Retrospective report ACME (2026-12-01)> · Tue, Dec 1, 2026" in text
    summary_link = f"https://acme.slack.com/archives/CPROJ/p{meeting_post['ts'].replace('.', '')}"
    assert f"<{summary_link}|ACME-16> Kickoff · Mon, Nov 30, 2026" in text
    source = f"https://acme.slack.com/archives/CPROJ/p{SOURCE_TS.replace('.', '')}"
    assert f"<{source}|ACME-17> Export fails" in text
    assert len(data.fake.calls_to("chat.getPermalink")) == 1


def test_docs_in_a_channel_without_project(slack: SlackHarness) -> None:
    slack.command("/project", "docs", channel="C9")
    assert "isn't linked to a project" in slack.last_ephemeral()


def test_docs_of_an_empty_project(project: SlackHarness) -> None:
    project.command("/project", "docs")
    [call] = project.fake.calls_to("response_url")
    assert call.args["text"] == "Documents of ACME"
    text = _message_text(call.args)
    assert "No reports yet" in text and "No meetings yet" in text and "None yet" in text


# -- the templates --------------------------------------------------------------------------------------

# Values for every name the retro_*.j2 templates use (also what tests/i18n/test_i18n.py's CONTEXT needs).
TEMPLATE_CONTEXT: dict[str, Any] = {
    "retro": {
        "bullet": "•",
        "key": "ACME",
        "name": "Acme Corp after-sales",
        "opened_on": date(2026, 11, 2),
        "closed_on": date(2026, 12, 1),
        "days": 29,
        "closed_by": "UALICE",
        "owners": "UALICE",
        "requested": 3,
        "delivered": 1,
        "rejected": 1,
        "open_requirements": 1,
        "scope_changes": 1,
        "issues_raised": 5,
        "issues_resolved": 3,
        "issues_open": 2,
        "resolution": "24 hours",
        "tasks_total": 5,
        "tasks_done": 4,
        "tasks_open": 1,
        "on_time": "67% (2 of 3)",
        "risks_logged": 3,
        "materialized": 2,
        "materialized_keys": "ACME-13, ACME-15",
        "meetings": 1,
        "satisfaction": "4.5 / 5",
        "summary": "All delivered & signed <off>",
        "lessons": "Agree due dates early",
        "requirement_groups": [
            {
                "label": "Delivered",
                "records": [{"key": "ACME-2", "title": "CSV export", "status_label": "delivered"}],
            }
        ],
        "scope_list": [
            {
                "key": "ACME-1",
                "title": "Dark mode",
                "label": "due date",
                "show_values": True,
                "old": None,
                "new": "Dec 15, 2026",
                "by": "UALICE",
                "at": date(2026, 11, 4),
            }
        ],
        "open_issues": [{"key": "ACME-6", "title": "Crash on save", "status_label": "resolved"}],
        "late_tasks": [
            {
                "key": "ACME-9",
                "title": "Migrate data",
                "due_date": date(2026, 11, 5),
                "closed_on": date(2026, 11, 7),
                "assignee": "UBOB",
            }
        ],
        "open_tasks": [
            {"key": "ACME-12", "title": "Final audit", "status_label": "open", "due_date": date(2026, 12, 20)}
        ],
        "materialized_list": [
            {"key": "ACME-13", "title": "Vendor delay", "status_label": "closed", "score": 20}
        ],
        "meeting_list": [{"key": "ACME-16", "title": "Kickoff", "held_on": date(2026, 11, 30)}],
        "figures": True,
        "report_channel": "CREPORT",
        "shared": False,
        "report_failed": None,
        "file_failed": None,
        "refused_channel": "CREPORT",
        "refused_error": "is_archived",
        "survey_started": True,
        "survey_error": None,
        "summary_channel": "CPROJ",
        "summary_failed_channel": None,
        "summary_failed": None,
        "summary_retried": False,
    },
    "docs": {
        "key": "ACME",
        "name": "Acme Corp after-sales",
        "internal": True,
        "documents": [
            {
                "title": "Retrospective report ACME (2026-12-01)",
                "created_on": date(2026, 12, 1),
                "permalink": "https://example.slack.com/files/U1/F1/acme.md",
            }
        ],
        "meetings": [
            {
                "key": "ACME-16",
                "title": "Kickoff",
                "held_on": date(2026, 11, 30),
                "link": "https://example.slack.com/archives/C1/p1",
                "source_url": None,
            }
        ],
        "more_meetings": 0,
        "records": [
            {
                "key": "ACME-17",
                "title": "Export fails",
                "source_url": "https://example.slack.com/archives/C1/p2",
            }
        ],
        "more_records": 2,
    },
}
RETRO_TEMPLATES = sorted(
    p.name for p in resources.files("aftercare_templates").iterdir() if p.name.startswith("retro_")
)


@pytest.mark.parametrize("template", RETRO_TEMPLATES)
@pytest.mark.parametrize("locale", ["en", "zh-CN"])
def test_every_retro_template_renders(template: str, locale: str) -> None:
    env = environment(locale)
    assert env.loader is not None
    source = env.loader.get_source(env, template)[0]
    assert meta.find_undeclared_variables(env.parse(source)) - set(env.globals) - {"locale"} <= set(
        TEMPLATE_CONTEXT
    )
    assert render(template, locale, **TEMPLATE_CONTEXT)


def test_a_customer_sees_no_internal_report_in_the_index(data: SlackHarness) -> None:
    close(data)
    with data.db.write() as session:
        upsert_member(session, team_id=TEAM, member={"id": "UCUST", "team_id": "T0CUSTOMER"}, now=CLOSED)
    data.fake.reset_calls()
    data.command("/project", "docs", user="UCUST")
    text = _message_text(data.fake.calls_to("response_url")[-1].args)
    assert "Retrospective" not in text and "Reports" not in text
    assert "ACME-16" in text and "ACME-17" in text


def test_the_longest_summary_and_lessons_fit_slacks_limits(data: SlackHarness) -> None:
    data.fake.add_channel("CREPORT", name="acme-internal")
    _set_project(data, report_channel_id="CREPORT")
    close(data, summary="&" * 3000, lessons="<" * 3000)  # 15,000 characters once escaped for Slack
    [post] = _posts(data.fake, "CREPORT")
    assert _message_text(post).count("&amp;") == 3000 and _message_text(post).count("&lt;") == 3000
    content = data.fake.uploads("CREPORT")[0]["content"].decode()
    assert "&" * 3000 in content and "<" * 3000 in content
    # (the fake refuses invalid Block Kit: the fixture fails the test if anything was refused)


@pytest.mark.parametrize(
    ("summary", "lessons", "field"),
    [("", "x", "summary"), ("x" * 3001, "", "summary"), ("x", "y" * 3001, "lessons")],
)
def test_closing_text_limits(summary: str, lessons: str, field: str) -> None:
    with pytest.raises(UserError) as refused:
        check_closing_text(summary, lessons)
    assert refused.value.field == field
    assert check_closing_text("  Done  ", None) == ("Done", "")


def test_a_chinese_project_gets_its_report_in_its_locale(data: SlackHarness) -> None:
    data.fake.add_channel("CREPORT", name="acme-internal")
    _set_project(data, locale="zh-CN", report_channel_id="CREPORT")
    close(data)
    [post] = _posts(data.fake, "CREPORT")
    content = data.fake.uploads("CREPORT")[0]["content"].decode()
    for text in (_message_text(post), content):
        assert "2026年12月1日" in text and "ACME-13, ACME-15" in text
