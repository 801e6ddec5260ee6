"""`/issue new` and `/req new` through signed requests, the real Bolt app, the fake Slack API and a real database."""

from datetime import date
from typing import Any

import pytest
from sqlalchemy import event, update

from bot.domain.errors import UserError
from bot.features.record_steps import _NewCommand, _write_new_records
from bot.slack import ids
from storage.models import Kind, Project, ProjectStatus
from tests.harness import TEAM, SlackHarness


def test_issue_new_with_every_option(project: SlackHarness) -> None:
    response = project.command("/issue", "new Printer jams on tray 2 <@UBOB|bob> due:2026-12-01 !high")
    assert response.status == 200

    [record] = project.records()
    assert (record.key, record.kind, record.status) == ("ACME-1", "issue", "open")
    assert record.title == "Printer jams on tray 2"
    assert (record.created_by, record.assignee_id) == ("UALICE", "UBOB")
    assert (record.due_date, record.priority) == (date(2026, 12, 1), "high")

    card, dm = project.fake.calls_to("chat.postMessage")
    assert card.args["channel"] == "CPROJ"
    assert "ACME-1" in card.args["text"]
    # The assignee hears about it once, by DM.
    assert dm.args["channel"] == "UBOB" and "<@UALICE> assigned ACME-1 to you" in dm.args["text"]
    context = card.args["blocks"][1]["elements"][0]["text"]
    assert "Priority: high" in context and "<@UBOB>" in context and "Dec 1, 2026" in context
    assert record.card_ts is not None  # remembered for redraws


def test_req_new_uses_the_same_sequence(project: SlackHarness) -> None:
    project.command("/issue", "new First")
    project.command("/req", "new Export to Excel !low")
    project.command("/task", "new Write the manual est:4h")
    project.command("/risk", "new Supplier delay p:3 i:4")
    records = project.records()
    assert [(r.key, r.kind, r.status) for r in records] == [
        ("ACME-1", "issue", "open"),
        ("ACME-2", "requirement", "proposed"),
        ("ACME-3", "task", "open"),
        ("ACME-4", "risk", "open"),
    ]
    assert records[2].estimate_hours == 4.0
    assert (records[3].probability, records[3].impact, records[3].score) == (3, 4, 12)


def test_natural_dates_resolve_in_the_project_time_zone(slack: SlackHarness) -> None:
    from datetime import UTC, datetime

    # 2026-11-26 20:00 UTC is already Friday 04:00 in Shanghai.
    slack.services.clock = lambda: datetime(2026, 11, 26, 20, 0, tzinfo=UTC)
    slack.services.settings.aftercare_timezone = "Asia/Shanghai"
    slack.command("/project", "new ACME Acme")
    slack.command("/issue", "new Call back due:明天")
    slack.command("/issue", "new Ship the fix due:下周五")
    slack.command("/issue", "new Check logs due:tomorrow")
    assert [r.due_date for r in slack.records()] == [
        date(2026, 11, 28),
        date(2026, 12, 4),
        date(2026, 11, 28),
    ]


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("new Broken due:2026-02-30", "2026-02-30 is not a real date"),
        ("new Broken !urgent", "!urgent is not a priority"),
        ("new due:friday !high", "A title is needed"),
        ("new " + "x" * 201, "the limit is 200"),
        ("frobnicate ACME-1", "Unknown subcommand frobnicate"),
        ("new Broken due:someday", "I can't read someday as a date"),
    ],
)
def test_bad_input_gets_a_clear_private_answer_and_saves_nothing(
    project: SlackHarness, text: str, needle: str
) -> None:
    response = project.command("/issue", text)
    assert response.status == 200
    assert needle in project.last_ephemeral()
    assert project.records() == []
    assert project.fake.calls_to("chat.postMessage") == []
    # The reply goes through response_url as ephemeral: only the person sees it.
    assert project.fake.calls_to("response_url")[-1].args["response_type"] == "ephemeral"


def test_help_and_no_text_answer_with_usage(project: SlackHarness) -> None:
    project.command("/issue", "help")
    assert "/issue new" in project.last_ephemeral()
    project.command("/req", "")
    assert "/req new" in project.last_ephemeral()


def test_channel_without_project_is_told_how_to_link_one(slack: SlackHarness) -> None:
    slack.command("/issue", "new Printer jams", channel="COTHER")
    assert "/project new" in slack.last_ephemeral()
    assert slack.records() == []


def test_no_title_opens_a_modal_and_submitting_it_stores_the_issue(project: SlackHarness) -> None:
    project.command("/issue", "new")
    view = project.opened_view()
    assert view["callback_id"] == ids.VIEW_NEW_RECORD
    blocks = {b.get("block_id"): b for b in view["blocks"]}
    # The channel's project is preselected.
    assert blocks[ids.BLOCK_PROJECT]["element"]["initial_option"]["text"]["text"].startswith("ACME")
    project_id = blocks[ids.BLOCK_PROJECT]["element"]["initial_option"]["value"]

    response = project.submit_view(
        view,
        {
            ids.BLOCK_PROJECT: {
                ids.ACTION_PROJECT: {"type": "static_select", "selected_option": {"value": project_id}}
            },
            ids.BLOCK_TITLE: {ids.ACTION_TITLE: {"type": "plain_text_input", "value": "打印机卡纸 “tray 2”"}},
            ids.BLOCK_DESCRIPTION: {
                ids.ACTION_DESCRIPTION: {"type": "plain_text_input", "value": "It's jammed 🙁"}
            },
            ids.BLOCK_ASSIGNEE: {ids.ACTION_ASSIGNEE: {"type": "users_select", "selected_user": "UBOB"}},
            ids.BLOCK_DUE: {ids.ACTION_DUE: {"type": "datepicker", "selected_date": "2026-12-03"}},
            ids.BLOCK_PRIORITY: {
                ids.ACTION_PRIORITY: {"type": "static_select", "selected_option": {"value": "critical"}}
            },
        },
    )
    assert response.status == 200
    assert response.body == ""  # the modal closes
    [record] = project.records()
    assert (record.key, record.title, record.description) == (
        "ACME-1",
        "打印机卡纸 “tray 2”",
        "It's jammed 🙁",
    )
    assert (record.assignee_id, record.due_date, record.priority) == ("UBOB", date(2026, 12, 3), "critical")
    card, dm = project.fake.calls_to("chat.postMessage")
    assert card.args["channel"] == "CPROJ" and "ACME-1" in card.args["text"]
    assert dm.args["channel"] == "UBOB"
    # Quotes and emoji are shown intact, not HTML-escaped.
    assert "“tray 2”" in card.args["text"] and "&#39;" not in str(card.args)


def test_modal_errors_are_shown_inside_the_modal(project: SlackHarness) -> None:
    project.command("/req", "new")
    view = project.opened_view()
    response = project.submit_view(
        view, {ids.BLOCK_TITLE: {ids.ACTION_TITLE: {"type": "plain_text_input", "value": "   "}}}
    )
    assert response.status == 200
    assert response.json() == {
        "response_action": "errors",
        "errors": {ids.BLOCK_PROJECT: "Choose a project."},
    }
    assert project.records() == []


def test_modal_title_error_points_at_the_title(project: SlackHarness) -> None:
    project.command("/req", "new")
    view = project.opened_view()
    project_id = view["blocks"][0]["element"]["initial_option"]["value"]
    response = project.submit_view(
        view,
        {
            ids.BLOCK_PROJECT: {
                ids.ACTION_PROJECT: {"type": "static_select", "selected_option": {"value": project_id}}
            },
            ids.BLOCK_TITLE: {ids.ACTION_TITLE: {"type": "plain_text_input", "value": "   "}},
        },
    )
    assert response.json()["errors"] == {ids.BLOCK_TITLE: "A title is needed."}
    assert project.records() == []


def test_issue_new_reads_its_project_once_and_looks_for_no_service_level(project: SlackHarness) -> None:
    """Per card: the record's transaction (project read once, key taken, row stored) and the card's ts. An
    issue logged by command has no external requester, so no clock runs and no service level is read."""
    project.command("/issue", "new Warm up")
    statements: list[str] = []
    checkouts: list[object] = []

    def executed(_conn: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
        statements.append(" ".join(statement.split()[:3]))

    def checkout(*_args: Any) -> None:
        checkouts.append(_args)

    event.listen(project.db.engine, "before_cursor_execute", executed)
    event.listen(project.db.engine.pool, "checkout", checkout)
    try:
        project.command("/issue", "new Printer jams")
    finally:
        event.remove(project.db.engine, "before_cursor_execute", executed)
        event.remove(project.db.engine.pool, "checkout", checkout)

    assert [s for s in statements if not s.startswith("BEGIN")] == [
        "SELECT projects.id, projects.team_id,",  # the channel's project, once
        "UPDATE projects SET",  # its next key
        "INSERT INTO records",
        "UPDATE records SET",  # the card's ts
    ]
    assert len(checkouts) == 2  # two transactions: the record, then its card's ts
    card = project.fake.calls_to("chat.postMessage")[-1]
    assert card.args["channel"] == "CPROJ" and "ACME-2" in card.args["text"]
    records = project.records()
    assert [r.card_ts is not None for r in records] == [True, True]
    # The row as stored (INSERT … RETURNING, the columns' defaults for what the command did not set).
    assert (records[1].key, records[1].title, records[1].status, records[1].version) == (
        "ACME-2",
        "Printer jams",
        "open",
        1,
    )
    assert (
        records[1].description,
        records[1].sla_paused_minutes,
        records[1].sla_breached,
        records[1].sla_warned,
    ) == (
        "",
        0,
        [],
        [],
    )


def test_commands_handled_at_once_are_written_in_one_transaction_each_with_its_own_answer(
    project: SlackHarness,
) -> None:
    """The records of a burst of ``/issue new`` (gathered by the post-ack queue) in one transaction: the
    channels' projects read by one query, one key UPDATE for them all, one INSERT for every row; a command's
    mistake is its own, and costs the others nothing."""
    assert project.command("/project", "new BETA Beta rollout", channel="CBETA").status == 200
    with project.db.write() as session:
        session.execute(update(Project).where(Project.key == "BETA").values(status=ProjectStatus.CLOSED))
    assert project.command("/project", "new GAMMA Gamma", channel="CGAMMA").status == 200
    asked = [
        ("CPROJ", "Printer jams !high"),
        ("CGAMMA", "Site down"),
        ("CNOWHERE", "Lost in space"),  # no project here
        ("CBETA", "Too late"),  # closed
        ("CPROJ", "VPN slow due:2026-12-10"),
        ("CPROJ", "Bad date due:someday"),
    ]
    statements: list[str] = []

    def executed(_conn: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
        statements.append(" ".join(statement.split()[:3]))

    event.listen(project.db.engine, "before_cursor_execute", executed)
    try:
        outcomes = _write_new_records(
            project.services,
            [
                _NewCommand(kind=Kind.ISSUE, team_id=TEAM, channel_id=c, user_id="UALICE", rest=t)
                for c, t in asked
            ],
        )
    finally:
        event.remove(project.db.engine, "before_cursor_execute", executed)

    made = [o[1].key if isinstance(o, tuple) else None for o in outcomes]
    assert made == ["ACME-1", "GAMMA-1", None, None, "ACME-2", None]
    errors = [str(o) for o in outcomes if isinstance(o, UserError)]
    assert len(errors) == 3 and "closed" in errors[1]
    assert [s for s in statements if not s.startswith(("BEGIN", "COMMIT"))] == [
        "SELECT projects.id, projects.team_id,",  # the four channels' projects (CNOWHERE has none)
        "UPDATE projects SET",  # the keys: two of ACME's, one of GAMMA's
        "INSERT INTO records",  # both rows
    ]
    stored = {r.key: (r.title, r.priority, r.due_date) for r in project.records()}
    assert stored == {
        "ACME-1": ("Printer jams", "high", None),
        "GAMMA-1": ("Site down", "medium", None),
        "ACME-2": ("VPN slow", "medium", date(2026, 12, 10)),
    }
