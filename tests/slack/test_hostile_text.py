"""Everything people typed goes back into Slack escaped, on every surface.

One hostile string — a channel ping, a user mention and a disguised link — is used as a
title, description, comment, mitigation plan, meeting notes and file name; then every call
the bot made to the stand-in (and every message its jobs would post) is searched for it raw.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import select

from bot.delivery.base import JobContext, Outgoing
from bot.jobs import digest, nudges, risk_review
from bot.slack import ids
from storage.models import Record
from tests.harness import SlackHarness, click, find_button

HOSTILE = "<!channel> <!here> ping <@UEVIL> see <http://evil.example|ok> & co"
# What must never reach Slack: each would ping people or hide where a link goes.
RAW = ("<!channel>", "<!here>", "<@UEVIL>", "<http://evil")
ESCAPED = "&lt;!channel&gt; &lt;!here&gt; ping &lt;@UEVIL&gt; see &lt;http://evil.example|ok&gt; &amp; co"


def wire(text: str) -> str:
    """How Slack sends typed text in a slash command (``should_escape``): ``& < >`` as entities."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _parsed(value: Any) -> Any:
    """What Slack parses for mentions and links: not a form's prefilled inputs (the text as written),
    not plain_text objects, not the bytes of an uploaded file."""
    if isinstance(value, dict):
        if value.get("type") == "plain_text":
            return None
        return {k: _parsed(v) for k, v in value.items() if k not in ("initial_value", "_bytes")}
    if isinstance(value, list):
        return [_parsed(v) for v in value]
    return value


def _dump(value: Any) -> str:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return value
    return json.dumps(_parsed(value), ensure_ascii=False, default=str)


def _assert_escaped(sent: list[tuple[str, str]]) -> None:
    leaks = [(where, raw) for where, text in sent for raw in RAW if raw in text]
    assert not leaks, leaks


def _calls(slack: SlackHarness) -> list[tuple[str, str]]:
    return [(c.method, _dump({k: _dump(v) for k, v in c.args.items()})) for c in slack.fake.calls]


def _record(slack: SlackHarness, key: str) -> Record:
    with slack.db.read() as session:
        found = session.scalar(select(Record).where(Record.key == key))
        assert found is not None
        return found


def test_a_hostile_title_comment_and_plan_never_ping_on_any_record_surface(project: SlackHarness) -> None:
    project.command("/issue", f"new {wire(HOSTILE)} <@UBOB|bob>")
    assert _record(project, "ACME-1").title.startswith("<!channel> <!here> ping")
    project.command("/issue", f"comment ACME-1 {wire(HOSTILE)}")
    project.command("/issue", "show ACME-1")
    project.command("/issue", "list")
    project.command("/risk", f"new {wire(HOSTILE)} p:4 i:5")
    project.command("/risk", f"mitigate ACME-2 {wire(HOSTILE)}")
    assert _record(project, "ACME-2").mitigation == HOSTILE
    project.command("/risk", "show ACME-2")
    project.command("/issue", "delete ACME-1")
    deleted = project.fake.calls_to("response_url")[-1]
    click(project, find_button(deleted.args["blocks"], ids.ACTION_UNDO_DELETE), is_ephemeral=True)
    project.event({"type": "app_home_opened", "user": "UBOB", "channel": "DBOB", "tab": "home"})

    methods = {c.method for c in project.fake.calls}
    assert {"chat.postMessage", "chat.update", "response_url", "views.publish"} <= methods
    dm = [c for c in project.fake.calls_to("chat.postMessage") if c.args["channel"] == "UBOB"]
    assert dm, "Bob was told of the assignment"
    _assert_escaped(_calls(project))
    # The text is still all there, escaped: in the DM's fallback text, and the deleted and restored notices.
    assert ESCAPED in dm[0].args["text"]
    texts = [str(c.args.get("text")) for c in project.fake.calls_to("response_url")]
    assert any(t.startswith("Deleted ACME-1 " + ESCAPED) for t in texts)
    assert any(t.startswith("Restored ACME-1 " + ESCAPED) for t in texts)
    shown = [_dump(c.args.get("blocks")) for c in project.fake.calls_to("response_url")]
    assert any("Mitigation plan: " + ESCAPED in blocks for blocks in shown)


def test_hostile_titles_in_jobs_messages_never_ping(project: SlackHarness) -> None:
    title = HOSTILE
    monday = date(2026, 11, 30)
    project.services.clock = lambda: datetime(2026, 11, 2, 9, tzinfo=UTC)
    project.command("/task", f"new {wire(title)} <@UBOB|bob> due:2026-11-20")
    project.command("/issue", f"new {wire(title)} <@UBOB|bob> due:2026-11-20 !critical")
    project.command("/risk", f"new {wire(title)} <@UBOB|bob> p:5 i:5")
    project.command("/risk", f"mitigate ACME-3 {wire(title)}")
    project.command("/req", f"new {wire(title)}")
    project.command("/req", "accept ACME-4")
    project.command("/req", "due ACME-4 2026-12-20")

    outgoing: list[Outgoing] = []
    with project.db.read() as session:
        for day in range(7):
            for hour in range(24):
                now = datetime(monday.year, monday.month, monday.day, tzinfo=UTC) + timedelta(
                    days=day, hours=hour
                )
                for planner in (digest.plan, nudges.plan, risk_review.plan):
                    outgoing += planner(session, JobContext(now=now))
    kinds = {o.kind for o in outgoing}
    assert {"digest", "nudge", "review"} <= kinds, kinds
    _assert_escaped([(o.kind, o.text + _dump(o.blocks)) for o in outgoing])
    assert any("&lt;!channel&gt;" in o.text + _dump(o.blocks) for o in outgoing if o.kind == "nudge")


def test_file_names_and_message_text_logged_by_shortcut_never_ping(project: SlackHarness) -> None:
    message = {
        "ts": "1790000000.000200",
        "user": "UCUSTOMER",
        "text": "",
        "files": [{"id": "F1", "name": HOSTILE + ".pdf", "title": HOSTILE}],
    }
    project.message_shortcut(ids.SHORTCUT_LOG_ISSUE, message)
    view = project.opened_view()
    blocks = {b.get("block_id"): b for b in view["blocks"]}
    title = blocks[ids.BLOCK_TITLE]["element"]["initial_value"]
    chosen = blocks[ids.BLOCK_PROJECT]["element"]["initial_option"]
    values = {
        ids.BLOCK_PROJECT: {ids.ACTION_PROJECT: {"type": "static_select", "selected_option": chosen}},
        ids.BLOCK_TITLE: {ids.ACTION_TITLE: {"type": "plain_text_input", "value": title}},
    }
    assert not project.submit_view(view, values).body
    [record] = project.records()
    assert "<!channel>" in record.title + record.description  # kept as it was written
    _assert_escaped(_calls(project))


def test_an_unknown_subcommand_is_echoed_escaped(project: SlackHarness) -> None:
    project.command("/issue", "<!channel> now")
    assert project.last_ephemeral() == "Unknown subcommand @channel. Try /issue help."
    project.command("/issue", "show <!here>")
    _assert_escaped(_calls(project))


def test_a_hostile_project_name_and_closing_notes_never_ping(slack: SlackHarness) -> None:
    from tests.projects.test_closure import close

    slack.command("/project", f"new ACME {wire(HOSTILE)}")
    slack.command("/issue", f"new {wire(HOSTILE)}")
    slack.command("/req", f"new {wire(HOSTILE)}")
    slack.command("/req", "deliver ACME-2")
    for sub in ("status", "list", "digest", "docs"):
        slack.command("/project", sub)
    close(slack, summary=HOSTILE, lessons=HOSTILE)

    posted = [
        c for c in slack.fake.calls_to("chat.postMessage") if "Retrospective" in str(c.args.get("text"))
    ]
    assert posted, [c.method for c in slack.fake.calls]
    assert ESCAPED in posted[0].args["text"]
    _assert_escaped(_calls(slack))
