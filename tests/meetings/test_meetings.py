"""``/meeting`` and "Add to meeting notes": the notes form, its action items as tasks, the summary, the export."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select

from bot.ops.export import export_data
from bot.slack import ids
from storage.models import Draft, Meeting
from tests.harness import HARNESS_NOW, SlackHarness


def _blocks(view: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {b["block_id"]: b for b in view["blocks"] if "block_id" in b}


def _row(prefix: str, n: int) -> str:
    return f"{prefix}_{n}"


def _values(
    *,
    title: str | None = "Weekly sync",
    held_on: str | None = "2026-11-30",
    attendees: list[str] | None = None,
    notes: str | None = None,
    decisions: str | None = None,
    items: list[dict[str, Any]] | None = None,
    project_option: dict[str, Any] | None = None,
) -> dict[str, dict[str, Any]]:
    """The ``state.values`` Slack sends for the meeting form; unfilled rows are sent empty, as Slack does."""
    values: dict[str, dict[str, Any]] = {
        ids.BLOCK_MEETING_TITLE: {ids.ACTION_MEETING_TITLE: {"type": "plain_text_input", "value": title}},
        ids.BLOCK_MEETING_DATE: {ids.ACTION_MEETING_DATE: {"type": "datepicker", "selected_date": held_on}},
        ids.BLOCK_ATTENDEES: {
            ids.ACTION_ATTENDEES: {"type": "multi_users_select", "selected_users": attendees or []}
        },
        ids.BLOCK_NOTES: {ids.ACTION_NOTES: {"type": "plain_text_input", "value": notes}},
        ids.BLOCK_DECISIONS: {ids.ACTION_DECISIONS: {"type": "plain_text_input", "value": decisions}},
    }
    if project_option is not None:
        values[ids.BLOCK_PROJECT] = {
            ids.ACTION_PROJECT: {"type": "static_select", "selected_option": project_option}
        }
    rows = items or []
    for n in range(ids.MEETING_ITEM_ROWS):
        item = rows[n] if n < len(rows) else {}
        values[_row(ids.BLOCK_ITEM_TEXT, n)] = {
            ids.ACTION_ITEM_TEXT: {"type": "plain_text_input", "value": item.get("text")}
        }
        values[_row(ids.BLOCK_ITEM_OWNER, n)] = {
            ids.ACTION_ITEM_OWNER: {"type": "users_select", "selected_user": item.get("owner")}
        }
        values[_row(ids.BLOCK_ITEM_DUE, n)] = {
            ids.ACTION_ITEM_DUE: {"type": "datepicker", "selected_date": item.get("due")}
        }
    return values


def _meetings(slack: SlackHarness) -> list[Meeting]:
    with slack.db.read() as session:
        return list(session.scalars(select(Meeting).order_by(Meeting.id)))


def _summary_posts(slack: SlackHarness, channel: str = "CPROJ") -> list[dict[str, Any]]:
    return [
        c.args
        for c in slack.fake.calls_to("chat.postMessage")
        if c.args.get("channel") == channel and not c.args.get("thread_ts")
    ]


def _all_text(args: dict[str, Any]) -> str:
    parts = [str(args.get("text", ""))]
    for block in args.get("blocks") or []:
        text = block.get("text") or {}
        parts.append(str(text.get("text", "")))
    return "\n".join(parts)


TWO_ITEMS = [
    {"text": "Send the revised quote", "owner": "UBOB", "due": "2026-12-04"},
    {"text": "Book the on-site visit", "owner": "UCAROL", "due": "2026-12-11"},
]


# -- the form ------------------------------------------------------------------------------------------


def test_meeting_new_opens_the_form_with_title_date_and_rows(project: SlackHarness) -> None:
    response = project.command("/meeting", "new Weekly sync &amp; review")
    assert response.status == 200

    view = project.opened_view()
    assert view["callback_id"] == ids.VIEW_MEETING
    assert view["type"] == "modal" and view["title"]["text"] == "Meeting notes"
    blocks = _blocks(view)
    title = blocks[ids.BLOCK_MEETING_TITLE]["element"]
    assert title["initial_value"] == "Weekly sync & review"
    assert title["max_length"] == 200
    assert blocks[ids.BLOCK_MEETING_TITLE]["optional"] is False
    picker = blocks[ids.BLOCK_MEETING_DATE]["element"]
    assert picker["type"] == "datepicker"
    assert date.fromisoformat(picker["initial_date"]) == HARNESS_NOW.date()
    assert blocks[ids.BLOCK_ATTENDEES]["element"]["type"] == "multi_users_select"
    assert blocks[ids.BLOCK_NOTES]["element"]["multiline"] is True
    assert blocks[ids.BLOCK_DECISIONS]["element"]["multiline"] is True
    for n in range(ids.MEETING_ITEM_ROWS):
        text = blocks[_row(ids.BLOCK_ITEM_TEXT, n)]
        owner = blocks[_row(ids.BLOCK_ITEM_OWNER, n)]
        due = blocks[_row(ids.BLOCK_ITEM_DUE, n)]
        assert text["element"]["action_id"] == ids.ACTION_ITEM_TEXT and text["optional"] is True
        assert owner["element"] == {"type": "users_select", "action_id": ids.ACTION_ITEM_OWNER}
        assert due["element"] == {"type": "datepicker", "action_id": ids.ACTION_ITEM_DUE}
    assert _row(ids.BLOCK_ITEM_TEXT, ids.MEETING_ITEM_ROWS) not in blocks
    assert ids.BLOCK_PROJECT not in blocks  # the channel's project is known
    assert "ACME" in str(view["blocks"])
    # Nothing is stored until the form is submitted.
    assert _meetings(project) == [] and project.records() == []


def test_meeting_in_a_channel_without_project_says_how_to_create_one(project: SlackHarness) -> None:
    project.command("/meeting", "new Kick-off", channel="CNOPROJ")
    assert not project.fake.calls_to("views.open")
    assert "/project new" in project.last_ephemeral()


def test_meeting_help_and_unknown_subcommand_answer_only_the_user(project: SlackHarness) -> None:
    project.command("/meeting", "")
    assert "/meeting new" in project.last_ephemeral()
    project.command("/meeting", "help")
    assert "/meeting new" in project.last_ephemeral()
    project.command("/meeting", "frobnicate now")
    assert project.last_ephemeral() == "Unknown subcommand frobnicate. Try /meeting help."
    assert not project.fake.calls_to("views.open")
    assert not project.fake.calls_to("chat.postMessage")
    assert _meetings(project) == []


# -- submission ----------------------------------------------------------------------------------------


def test_submitting_stores_meeting_and_tasks_and_posts_a_summary(project: SlackHarness) -> None:
    project.command("/meeting", "new Weekly sync")
    view = project.opened_view()
    response = project.submit_view(
        view,
        _values(
            attendees=["UALICE", "UBOB", "UCUSTOMER"],
            notes="Discussed the invoice backlog.",
            decisions="Move the go-live to December.",
            items=TWO_ITEMS,
        ),
    )
    assert response.status == 200
    assert not response.body  # a plain ack closes the modal

    [meeting] = _meetings(project)
    assert (meeting.key, meeting.seq, meeting.title) == ("ACME-1", 1, "Weekly sync")
    assert meeting.held_on == date(2026, 11, 30)
    assert meeting.attendees == ["UALICE", "UBOB", "UCUSTOMER"]
    assert meeting.notes == "Discussed the invoice backlog."
    assert meeting.decisions == "Move the go-live to December."
    assert meeting.created_by == "UALICE" and meeting.source_url is None

    tasks = project.records()
    assert [(t.key, t.kind, t.status) for t in tasks] == [
        ("ACME-2", "task", "open"),
        ("ACME-3", "task", "open"),
    ]
    assert [(t.title, t.assignee_id, t.due_date) for t in tasks] == [
        ("Send the revised quote", "UBOB", date(2026, 12, 4)),
        ("Book the on-site visit", "UCAROL", date(2026, 12, 11)),
    ]
    assert all(t.meeting_id == meeting.id for t in tasks)
    assert all("ACME-1" in t.description for t in tasks)

    [post] = _summary_posts(project)
    text = _all_text(post)
    for expected in ("ACME-1", "Weekly sync", "ACME-2", "ACME-3", "Send the revised quote", "<@UBOB>",
                     "<@UCAROL>", "<@UCUSTOMER>", "Discussed the invoice backlog.", "Move the go-live to December.",
                     "Dec 4, 2026",
                     "Nov 30, 2026"):  # fmt: skip
        assert expected in text, expected
    assert "ACME-1" in post["text"]
    # The summary's place is remembered.
    [meeting] = _meetings(project)
    assert meeting.card_channel_id == "CPROJ" and meeting.card_ts
    # The next record continues the same sequence.
    project.command("/task", "new Follow-up")
    assert project.records()[-1].key == "ACME-4"


def test_an_item_with_owner_but_no_text_is_refused_in_its_row_and_nothing_is_saved(
    project: SlackHarness,
) -> None:
    project.command("/meeting", "new Weekly sync")
    view = project.opened_view()
    items = [TWO_ITEMS[0], {"text": "  ", "owner": "UBOB"}, {"due": "2026-12-01"}]
    response = project.submit_view(view, _values(items=items))
    assert response.status == 200
    body = response.json()
    assert body["response_action"] == "errors"
    assert set(body["errors"]) == {_row(ids.BLOCK_ITEM_TEXT, 1), _row(ids.BLOCK_ITEM_TEXT, 2)}
    assert "clear this row's owner and date" in body["errors"][_row(ids.BLOCK_ITEM_TEXT, 1)]
    assert _meetings(project) == [] and project.records() == []
    assert not project.fake.calls_to("chat.postMessage")

    # The form is still usable: fixed, it saves, and the refused attempt used no key.
    fixed = [TWO_ITEMS[0], {"text": "Call Bob", "owner": "UBOB"}]
    assert not project.submit_view(view, _values(items=fixed)).body
    assert [m.key for m in _meetings(project)] == ["ACME-1"]
    assert [r.key for r in project.records()] == ["ACME-2", "ACME-3"]


def test_missing_title_and_overlong_notes_are_refused_on_their_blocks(project: SlackHarness) -> None:
    project.command("/meeting", "new")
    view = project.opened_view()
    assert "initial_value" not in _blocks(view)[ids.BLOCK_MEETING_TITLE]["element"]
    response = project.submit_view(view, _values(title="  ", notes="x" * 20_001, decisions="y" * 20_001))
    errors = response.json()["errors"]
    assert set(errors) == {ids.BLOCK_MEETING_TITLE, ids.BLOCK_NOTES, ids.BLOCK_DECISIONS}
    assert "20000" in errors[ids.BLOCK_NOTES]
    assert _meetings(project) == []
    response = project.submit_view(view, _values(title="T" * 201))
    assert set(response.json()["errors"]) == {ids.BLOCK_MEETING_TITLE}
    assert _meetings(project) == [] and project.records() == []


def test_a_form_is_saved_once(project: SlackHarness) -> None:
    project.command("/meeting", "new Weekly sync")
    view = project.opened_view()
    assert not project.submit_view(view, _values(items=TWO_ITEMS[:1])).body
    again = project.submit_view(view, _values(items=TWO_ITEMS[:1]))
    assert again.json()["response_action"] == "errors"
    assert len(_meetings(project)) == 1 and len(project.records()) == 1


def test_meeting_without_action_items_creates_no_tasks(project: SlackHarness) -> None:
    project.command("/meeting", "new Retro")
    project.submit_view(project.opened_view(), _values(title="Retro", held_on=None))
    [meeting] = _meetings(project)
    assert meeting.key == "ACME-1" and project.records() == []
    assert meeting.held_on is not None  # no date picked: today in the project's zone


def test_user_text_with_channel_mentions_does_not_ping(project: SlackHarness) -> None:
    project.command("/meeting", "new <!channel> standup")
    view = project.opened_view()
    # Slack's wire format is decoded for the form: no mention syntax goes back out.
    assert _blocks(view)[ids.BLOCK_MEETING_TITLE]["element"]["initial_value"] == "@channel standup"
    project.submit_view(
        view,
        _values(
            title="<!channel> standup & <b>",
            decisions="<!here> ship it",
            items=[{"text": "<!everyone> <@UEVE> read this", "owner": "UBOB"}],
        ),
    )
    [meeting] = _meetings(project)
    assert meeting.title == "<!channel> standup & <b>"  # stored as typed
    [post] = _summary_posts(project)
    text = _all_text(post)
    for raw in ("<!channel>", "<!here>", "<!everyone>", "<@UEVE>"):
        assert raw not in text, raw
    assert "&lt;!channel&gt; standup &amp; &lt;b&gt;" in post["text"]
    assert "&lt;!here&gt; ship it" in text
    assert "<@UBOB>" in text  # mentions the bot builds itself still work


def test_when_the_summary_cannot_be_posted_the_user_gets_it_by_dm(project: SlackHarness) -> None:
    # A private project channel the bot was removed from.
    project.fake.add_channel("CPROJ", is_private=True, is_member=False, members=["UALICE"])
    project.command("/meeting", "new Weekly sync")
    project.submit_view(project.opened_view(), _values(items=TWO_ITEMS))
    assert [m.key for m in _meetings(project)] == ["ACME-1"]
    [dm] = [c.args for c in project.fake.calls_to("chat.postMessage") if c.args["channel"] == "UALICE"]
    assert "ACME-1" in dm["text"] and "channel_not_found" in dm["text"]
    assert "ACME-3" in _all_text(dm)


def test_meeting_list_shows_the_projects_meetings(project: SlackHarness) -> None:
    project.command("/meeting", "list")
    assert "No meetings yet" in project.last_ephemeral()
    project.command("/meeting", "new Kick-off")
    project.submit_view(project.opened_view(), _values(title="Kick-off", items=TWO_ITEMS))
    project.command("/meeting", "list")
    listing = project.last_ephemeral()
    assert "ACME-1" in listing and "Kick-off" in listing and "ACME-2, ACME-3" in listing


# -- the message shortcut ------------------------------------------------------------------------------


def test_add_to_meeting_notes_prefills_notes_and_keeps_the_link(project: SlackHarness) -> None:
    message = {
        "ts": "1790000000.000200",
        "user": "UCUSTOMER",
        "text": "Minutes: &lt;draft&gt; ship &amp; deploy, ask <@UBOB|bob> <!here>",
    }
    assert project.message_shortcut(ids.SHORTCUT_ADD_TO_MEETING, message).status == 200
    view = project.opened_view()
    assert view["callback_id"] == ids.VIEW_MEETING
    blocks = _blocks(view)
    notes = blocks[ids.BLOCK_NOTES]["element"]["initial_value"]
    assert notes == "Minutes: <draft> ship & deploy, ask @bob @here"
    assert ids.BLOCK_PROJECT not in blocks

    project.submit_view(view, _values(title="Customer call", notes=notes, items=TWO_ITEMS[:1]))
    [meeting] = _meetings(project)
    assert meeting.notes == notes and meeting.key == "ACME-1"
    assert meeting.source_url == "https://acme.slack.com/archives/CPROJ/p1790000000000200"
    [task] = project.records()
    assert task.key == "ACME-2" and task.meeting_id == meeting.id
    assert len(_summary_posts(project)) == 1
    [reply] = [c.args for c in project.fake.calls_to("chat.postMessage") if c.args.get("thread_ts")]
    assert reply["thread_ts"] == "1790000000.000200"
    assert reply["text"] == "Added to meeting notes ACME-1 by <@UALICE>"


def test_long_message_is_kept_whole_in_the_notes(project: SlackHarness) -> None:
    text = "会" * 3500
    project.message_shortcut(
        ids.SHORTCUT_ADD_TO_MEETING, {"ts": "1790000000.000300", "user": "UC", "text": text}
    )
    view = project.opened_view()
    shown = _blocks(view)[ids.BLOCK_NOTES]["element"]["initial_value"]
    assert len(shown) == 3000
    assert "longer than 3000 characters" in view["blocks"][0]["elements"][0]["text"]
    project.submit_view(view, _values(title="Long one", notes=shown))
    assert _meetings(project)[0].notes == text


def test_shortcut_in_an_unlinked_channel_asks_for_the_project(project: SlackHarness) -> None:
    project.fake.add_channel("CELSE")
    project.message_shortcut(
        ids.SHORTCUT_ADD_TO_MEETING, {"ts": "1790000000.000400", "user": "UC", "text": "hi"}, channel="CELSE"
    )
    view = project.opened_view()
    picker = _blocks(view)[ids.BLOCK_PROJECT]["element"]
    response = project.submit_view(view, _values(title="Elsewhere"))
    assert ids.BLOCK_PROJECT in response.json()["errors"]
    with project.db.read() as session:
        assert session.scalar(select(func.count()).select_from(Draft)) == 1
    project.submit_view(view, _values(title="Elsewhere", project_option=picker["options"][0]))
    [meeting] = _meetings(project)
    assert meeting.key == "ACME-1"
    # The summary goes to the project's own channel; the message gets a thread reply where it is.
    assert len(_summary_posts(project, "CPROJ")) == 1
    [reply] = [c.args for c in project.fake.calls_to("chat.postMessage") if c.args["channel"] == "CELSE"]
    assert reply["thread_ts"] == "1790000000.000400"


# -- export --------------------------------------------------------------------------------------------


def test_export_carries_the_meeting_and_its_action_items(project: SlackHarness) -> None:
    project.command("/issue", "new Printer jams")
    project.command("/meeting", "new Weekly sync")
    project.submit_view(
        project.opened_view(),
        _values(attendees=["UBOB"], notes="N", decisions="D", items=TWO_ITEMS),
    )
    with project.db.read() as session:
        data = export_data(session)
        other = export_data(session, team_id="T9999")
    [meeting] = data["meetings"]
    assert meeting["key"] == "ACME-2"
    assert meeting["action_items"] == ["ACME-3", "ACME-4"]
    assert (meeting["team_id"], meeting["project"], meeting["title"]) == ("T0001", "ACME", "Weekly sync")
    assert (meeting["held_on"], meeting["attendees"]) == ("2026-11-30", ["UBOB"])
    assert (meeting["notes"], meeting["decisions"], meeting["created_by"]) == ("N", "D", "UALICE")
    assert datetime.fromisoformat(meeting["created_at"]).utcoffset() is not None
    assert meeting["source_url"] is None
    assert [t["key"] for t in data["tasks"]] == ["ACME-3", "ACME-4"]
    assert other["meetings"] == []


def test_export_lists_action_items_of_the_first_meeting(project: SlackHarness) -> None:
    project.command("/meeting", "new Weekly sync")
    project.submit_view(project.opened_view(), _values(items=TWO_ITEMS))
    with project.db.read() as session:
        [meeting] = export_data(session, project_key="ACME")["meetings"]
    assert meeting["key"] == "ACME-1" and meeting["action_items"] == ["ACME-2", "ACME-3"]
