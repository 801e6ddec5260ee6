"""Every kind's life cycle through signed requests: verbs, buttons, redraws, history, permissions."""

from datetime import UTC, date, datetime
from typing import Any

import pytest

from bot.ops.export import export_data
from bot.slack import ids
from storage.models import Record
from tests.harness import SlackHarness, click, find_button


def record(slack: SlackHarness, key: str) -> Record:
    return next(r for r in slack.records() if r.key == key)


def card_of(slack: SlackHarness, key: str) -> Any:
    """The last chat.postMessage / chat.update carrying this record's card."""
    calls = [
        c
        for c in slack.fake.calls
        if c.method in ("chat.postMessage", "chat.update") and key in str(c.args.get("text"))
    ]
    assert calls, f"no card for {key}"
    return calls[-1]


def test_requirement_life_cycle_with_scope_changes(project: SlackHarness) -> None:
    project.command("/req", "new CSV export due:2026-12-10")
    project.command("/req", "accept ACME-1")
    assert "ACME-1 is now accepted" in project.last_ephemeral()
    project.command("/req", "due ACME-1 2026-12-20")
    project.command("/req", "start ACME-1")
    project.command("/req", "deliver ACME-1")
    r = record(project, "ACME-1")
    assert (r.status, r.due_date, r.closed_at is not None) == ("delivered", date(2026, 12, 20), True)
    with project.db.read() as session:
        history = export_data(session)["history"]
    assert [(h["field"], h["old"], h["new"]) for h in history] == [
        ("status", "proposed", "accepted"),
        ("due_date", "2026-12-10", "2026-12-20"),
        ("status", "accepted", "in_progress"),
        ("status", "in_progress", "delivered"),
    ]
    assert all(
        h["by"] == "UALICE" and datetime.fromisoformat(h["at"]).utcoffset() is not None for h in history
    )
    project.command("/req", "show ACME-1")
    shown = str(project.fake.calls_to("response_url")[-1].args["blocks"])
    assert "(scope change)" in shown and "due date Thu, Dec 10, 2026 → Sun, Dec 20, 2026" in shown


def test_issue_moves_and_reopen(project: SlackHarness) -> None:
    project.command("/issue", "new Login fails")
    for verb, status in [
        ("start", "in_progress"),
        ("resolve", "resolved"),
        ("close", "closed"),
        ("reopen", "open"),
    ]:
        project.command("/issue", f"{verb} ACME-1")
        assert record(project, "ACME-1").status == status
    project.command("/issue", "deliver ACME-1")
    assert "Unknown subcommand deliver" in project.last_ephemeral()


def test_task_and_risk(project: SlackHarness) -> None:
    project.command("/task", "new Write manual est:4h")
    project.command("/task", "done ACME-1")
    assert record(project, "ACME-1").status == "done"
    project.command("/task", "start ACME-1")
    assert "already done" in project.last_ephemeral()
    project.command("/risk", "new Supplier fails p:4 i:5")
    project.command("/risk", "mitigate ACME-2 Second supplier under contract")
    r = record(project, "ACME-2")
    assert (r.status, r.mitigation, r.score) == ("mitigating", "Second supplier under contract", 20)
    project.command("/risk", "close ACME-2")
    assert record(project, "ACME-2").status == "closed"


def test_wrong_kind_and_unknown_key(project: SlackHarness) -> None:
    project.command("/req", "new CSV")
    project.command("/issue", "close ACME-1")
    assert (
        "ACME-1 is not a issue" in project.last_ephemeral() or "/req show ACME-1" in project.last_ephemeral()
    )
    project.command("/issue", "show ACME-99")
    assert "There is no record ACME-99" in project.last_ephemeral()
    project.command("/issue", "show nonsense")
    assert "is not a record key" in project.last_ephemeral()


def test_assign_due_comment_list(project: SlackHarness) -> None:
    project.services.clock = lambda: datetime(2026, 11, 26, 12, tzinfo=UTC)
    project.command("/task", "new Old task due:2026-11-01")
    project.command("/task", "new Mine")
    project.command("/task", "assign ACME-2 <@UALICE|alice>")
    project.command("/task", "assign ACME-1 <@UBOB|bob>")
    assert "ACME-1 is now assigned to <@UBOB>" in project.last_ephemeral()
    dm = [c for c in project.fake.calls_to("chat.postMessage") if c.args["channel"] == "UBOB"]
    assert len(dm) == 1  # Bob hears once; Alice assigned herself and gets nothing
    project.command("/task", "comment ACME-1 Customer says it's urgent <!channel>")
    project.command("/task", "list overdue")
    overdue = str(project.fake.calls_to("response_url")[-1].args["blocks"])
    assert "ACME-1" in overdue and "ACME-2" not in overdue
    project.command("/task", "list mine")
    mine = str(project.fake.calls_to("response_url")[-1].args["blocks"])
    assert "ACME-2" in mine and "ACME-1" not in mine
    project.command("/task", "show ACME-1")
    shown = str(project.fake.calls_to("response_url")[-1].args["blocks"])
    assert "Customer says it's urgent @channel" in shown and "<!channel>" not in shown
    project.command("/task", "due ACME-1 someday")
    assert "can't read someday as a date" in project.last_ephemeral()


def test_delete_then_undo(project: SlackHarness) -> None:
    project.command("/issue", "new To be deleted")
    project.command("/issue", "delete ACME-1")
    reply = project.fake.calls_to("response_url")[-1]
    assert "Deleted ACME-1" in reply.args["text"]
    assert record(project, "ACME-1").deleted_at is not None
    # The channel card is redrawn as deleted, without buttons.
    update = project.fake.calls_to("chat.update")[-1]
    assert update.args["blocks"][0]["text"]["text"].startswith("~")
    assert not [b for b in update.args["blocks"] if b["type"] == "actions"]
    project.command("/issue", "list all")
    assert "ACME-1" not in str(project.fake.calls_to("response_url")[-1].args["blocks"])

    click(project, find_button(reply.args["blocks"], ids.ACTION_UNDO_DELETE), is_ephemeral=True)
    assert record(project, "ACME-1").deleted_at is None
    assert "Restored ACME-1" in project.fake.calls_to("response_url")[-1].args["text"]


def test_buttons_update_the_record_and_redraw_the_card(project: SlackHarness) -> None:
    project.command("/issue", "new Printer jams")
    posted = project.fake.calls_to("chat.postMessage")[0]
    ts = record(project, "ACME-1").card_ts
    assert ts is not None
    take = find_button(posted.args["blocks"], ids.ACTION_CARD_ASSIGN_ME)
    click(project, take, user="UBOB", message_ts=ts)
    r = record(project, "ACME-1")
    assert r.assignee_id == "UBOB"
    update = project.fake.calls_to("chat.update")[-1]
    assert (update.args["channel"], update.args["ts"]) == ("CPROJ", ts)
    assert "<@UBOB>" in str(update.args["blocks"])
    # "Assign to me" is gone from the redrawn card.
    with pytest.raises(AssertionError):
        find_button(update.args["blocks"], ids.ACTION_CARD_ASSIGN_ME)

    resolve = find_button(update.args["blocks"], ids.ACTION_CARD_MOVE, "resolve")
    click(project, resolve, user="UBOB", message_ts=ts)
    assert record(project, "ACME-1").status == "resolved"
    versions_after_first = record(project, "ACME-1").version
    # A second click on the same (now stale) button does nothing twice.
    click(project, resolve, user="UBOB", message_ts=ts)
    assert record(project, "ACME-1").version == versions_after_first
    assert "had changed since this card was drawn" in project.last_ephemeral()


def test_stale_card_shows_current_state_instead_of_undoing(project: SlackHarness) -> None:
    project.command("/task", "new Deploy")
    posted = project.fake.calls_to("chat.postMessage")[0]
    ts = record(project, "ACME-1").card_ts
    start = find_button(posted.args["blocks"], ids.ACTION_CARD_MOVE, "start")
    project.command("/task", "done ACME-1")  # changed elsewhere
    click(project, start, message_ts=ts)
    assert record(project, "ACME-1").status == "done"
    redraw = project.fake.calls_to("chat.update")[-1]
    assert "Status: done" in str(redraw.args["blocks"])


def test_permissions(project: SlackHarness) -> None:
    from bot.domain.people import upsert_member

    project.command("/issue", "new Alice's issue <@UBOB|bob>")
    # Carol is neither reporter, assignee nor owner.
    project.command("/issue", "close ACME-1", user="UCAROL")
    assert "Only the reporter, the assignee or an owner" in project.last_ephemeral()
    project.command("/issue", "delete ACME-1", user="UCAROL")
    project.command("/issue", "edit ACME-1", user="UCAROL")
    project.command("/issue", "comment ACME-1 I see it too", user="UCAROL")  # anyone may comment
    assert "Comment added" in project.last_ephemeral()
    assert record(project, "ACME-1").status == "open" and record(project, "ACME-1").deleted_at is None
    assert project.fake.calls_to("views.open") == []
    project.command("/issue", "resolve ACME-1", user="UBOB")  # the assignee may
    assert record(project, "ACME-1").status == "resolved"
    with project.db.write() as session:
        upsert_member(
            session, team_id="T0001", member={"id": "UADMIN", "is_admin": True}, now=datetime.now(UTC)
        )
    project.command("/issue", "close ACME-1", user="UADMIN")  # a workspace admin may
    assert record(project, "ACME-1").status == "closed"


def test_edit_form_round_trip(project: SlackHarness) -> None:
    project.command("/risk", "new Vendor lock-in p:2 i:3")
    project.command("/risk", "edit ACME-1")
    view = project.opened_view()
    assert view["callback_id"] == ids.VIEW_EDIT_RECORD
    blocks = {b.get("block_id"): b for b in view["blocks"]}
    assert blocks[ids.BLOCK_TITLE]["element"]["initial_value"] == "Vendor lock-in"
    assert blocks[ids.BLOCK_PROBABILITY]["element"]["initial_option"]["value"] == "2"
    values: dict[str, dict[str, Any]] = {
        ids.BLOCK_TITLE: {ids.ACTION_TITLE: {"type": "plain_text_input", "value": "Vendor lock-in (cloud)"}},
        ids.BLOCK_PRIORITY: {
            ids.ACTION_PRIORITY: {"type": "static_select", "selected_option": {"value": "high"}}
        },
        ids.BLOCK_PROBABILITY: {
            ids.ACTION_PROBABILITY: {"type": "static_select", "selected_option": {"value": "4"}}
        },
        ids.BLOCK_IMPACT: {ids.ACTION_IMPACT: {"type": "static_select", "selected_option": {"value": "5"}}},
        ids.BLOCK_MITIGATION: {ids.ACTION_MITIGATION: {"type": "plain_text_input", "value": "Multi-cloud"}},
        ids.BLOCK_ASSIGNEE: {ids.ACTION_ASSIGNEE: {"type": "users_select", "selected_user": "UDAVE"}},
    }
    assert project.submit_view(view, values).body == ""
    r = record(project, "ACME-1")
    assert (r.title, r.priority, r.score, r.mitigation, r.assignee_id) == (
        "Vendor lock-in (cloud)", "high", 20, "Multi-cloud", "UDAVE",
    )  # fmt: skip
    assert [c.args["channel"] for c in project.fake.calls_to("chat.postMessage")][-1] == "UDAVE"
    # An empty title is refused inside the modal.
    project.command("/risk", "edit ACME-1")
    bad = project.submit_view(
        project.opened_view(),
        {ids.BLOCK_TITLE: {ids.ACTION_TITLE: {"type": "plain_text_input", "value": " "}}},
    )
    assert bad.json()["errors"] == {ids.BLOCK_TITLE: "A title is needed."}


def test_closed_project_is_read_only(project: SlackHarness) -> None:
    from sqlalchemy import update

    from storage.models import Project

    project.command("/task", "new Something")
    with project.db.write() as session:
        session.execute(update(Project).values(status="closed"))
    project.command("/task", "done ACME-1")
    assert "is closed" in project.last_ephemeral()
    assert record(project, "ACME-1").status == "open"


def test_global_shortcut_picks_kind_and_project_and_confirms_by_dm(project: SlackHarness) -> None:
    project.interact(
        {
            "type": "shortcut",
            "callback_id": ids.SHORTCUT_NEW_RECORD,
            "trigger_id": "trigger-g",
            "team": {"id": "T0001", "domain": "acme"},
            "user": {"id": "UALICE", "username": "alice", "team_id": "T0001"},
            "token": "deprecated",
            "action_ts": "1790000000.2",
            "is_enterprise_install": False,
        }
    )
    view = project.opened_view()
    blocks = {b.get("block_id"): b for b in view["blocks"]}
    assert ids.BLOCK_KIND in blocks
    project_option = blocks[ids.BLOCK_PROJECT]["element"]["options"][0]
    values = {
        ids.BLOCK_PROJECT: {ids.ACTION_PROJECT: {"type": "static_select", "selected_option": project_option}},
        ids.BLOCK_KIND: {
            ids.ACTION_KIND: {"type": "static_select", "selected_option": {"value": "requirement"}}
        },
        ids.BLOCK_TITLE: {ids.ACTION_TITLE: {"type": "plain_text_input", "value": "From anywhere"}},
    }
    assert project.submit_view(view, values).body == ""
    r = record(project, "ACME-1")
    assert (r.kind, r.title) == ("requirement", "From anywhere")
    dm = [c for c in project.fake.calls_to("chat.postMessage") if c.args["channel"] == "UALICE"]
    assert dm and "ACME-1" in dm[-1].args["text"]


def test_a_stale_button_in_app_home_changes_nothing_and_redraws_the_dashboard(project: SlackHarness) -> None:
    project.command("/task", "new Deploy <@UBOB|bob>")
    posted = project.fake.calls_to("chat.postMessage")[0]
    start = find_button(posted.args["blocks"], ids.ACTION_CARD_MOVE, "start")
    project.command("/task", "done ACME-1", user="UBOB")  # changed elsewhere: the button is stale now
    version = record(project, "ACME-1").version
    project.fake.reset_calls()
    click(project, start, user="UBOB", in_home=True)
    assert (record(project, "ACME-1").status, record(project, "ACME-1").version) == ("done", version)
    assert [c.args["user_id"] for c in project.fake.calls_to("views.publish")] == ["UBOB"]
