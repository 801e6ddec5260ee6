"""Clicks at the same instant (two people, or one double-click) change a record once.

Real threads send signed requests through the real Bolt app at once. On PostgreSQL the
first reads of the record are held until every request has read it, so all of them start
from the same version — the race that a plain "is the button stale?" check lets through.
(SQLite serialises writers in-process, so there the requests simply queue.)
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from bot.domain import lifecycle
from bot.features import record_steps
from bot.slack import ids
from storage.models import HistoryEntry, Kind, Record
from tests.harness import HARNESS_NOW, Response, SlackHarness, click, find_button

CLICKS = 4


def _record(slack: SlackHarness, key: str) -> Record:
    return next(r for r in slack.records() if r.key == key)


def _history(slack: SlackHarness, key: str) -> list[tuple[str, str | None, str | None]]:
    with slack.db.read() as session:
        rows = session.scalars(
            select(HistoryEntry).where(HistoryEntry.record_key == key).order_by(HistoryEntry.id)
        )
        return [(h.field, h.old, h.new) for h in rows]


def _hold_first_reads(slack: SlackHarness, mocker: Any, parties: int) -> None:
    """On PostgreSQL, let no request go on before all ``parties`` have read the record."""
    if slack.db.is_sqlite:
        return
    barrier = threading.Barrier(parties, timeout=20)
    calls = {"n": 0}
    lock = threading.Lock()
    real_load = lifecycle.load

    def load(*args: Any, **kwargs: Any) -> Any:
        found = real_load(*args, **kwargs)
        with lock:
            calls["n"] += 1
            first = calls["n"] <= parties
        if first:
            barrier.wait()
        return found

    mocker.patch.object(lifecycle, "load", load)


def _at_once(send: Callable[[int], Response], clicks: int = CLICKS) -> list[Response]:
    """Run ``send(i)`` for every click in its own thread, all released together."""
    start = threading.Barrier(clicks, timeout=20)
    responses: list[Response | None] = [None] * clicks

    def run(i: int) -> None:
        start.wait()
        responses[i] = send(i)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(clicks)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert all(r is not None and r.status == 200 for r in responses), responses
    return [r for r in responses if r is not None]


def test_simultaneous_clicks_on_one_button_change_the_record_once(project: SlackHarness, mocker: Any) -> None:
    project.command("/issue", "new Printer jams <@UBOB|bob>")
    card = project.fake.calls_to("chat.postMessage")[0]
    before = _record(project, "ACME-1")
    resolve = find_button(card.args["blocks"], ids.ACTION_CARD_MOVE, "resolve")
    project.fake.reset_calls()
    _hold_first_reads(project, mocker, CLICKS)

    # Alice double-clicks while Bob (the assignee) double-clicks too.
    clickers = ["UALICE", "UALICE", "UBOB", "UBOB"]
    _at_once(lambda i: click(project, resolve, user=clickers[i], message_ts=before.card_ts))

    after = _record(project, "ACME-1")
    assert (after.status, after.version) == ("resolved", before.version + 1)
    assert _history(project, "ACME-1") == [("status", "open", "resolved")]
    # The winner's follow-up happened once: each dashboard concerned refreshed once.
    published = sorted(c.args["user_id"] for c in project.fake.calls_to("views.publish"))
    assert published == ["UALICE", "UBOB"]
    # The three others were told, privately, that the card had moved on, and saw it as it stands.
    stale = [t for t in project.ephemeral_texts() if "had changed since this card was drawn" in t]
    assert len(stale) == CLICKS - 1
    assert not [t for t in project.ephemeral_texts() if "Sorry" in t]
    redraws = project.fake.calls_to("chat.update")
    assert redraws and all("Status: resolved" in str(c.args["blocks"]) for c in redraws)
    assert {(c.args["channel"], c.args["ts"]) for c in redraws} == {("CPROJ", before.card_ts)}


def test_simultaneous_edits_assign_once_and_send_one_dm(project: SlackHarness, mocker: Any) -> None:
    project.command("/task", "new Deploy")
    project.command("/task", "edit ACME-1")
    view = project.opened_view()
    values = {
        ids.BLOCK_TITLE: {ids.ACTION_TITLE: {"type": "plain_text_input", "value": "Deploy v2"}},
        ids.BLOCK_ASSIGNEE: {ids.ACTION_ASSIGNEE: {"type": "users_select", "selected_user": "UDAVE"}},
    }
    project.fake.reset_calls()
    _hold_first_reads(project, mocker, CLICKS)

    responses = _at_once(lambda i: project.submit_view(view, values))

    r = _record(project, "ACME-1")
    assert (r.title, r.assignee_id, r.version) == ("Deploy v2", "UDAVE", 2)
    assert sorted(_history(project, "ACME-1")) == [
        ("assignee_id", None, "UDAVE"),
        ("title", "Deploy", "Deploy v2"),
    ]
    dms = [c for c in project.fake.calls_to("chat.postMessage") if c.args["channel"] == "UDAVE"]
    assert len(dms) == 1 and "assigned ACME-1 to you" in dms[0].args["text"]
    # On PostgreSQL all four read the task before any saved: one form closes, the others stay open
    # and say why nothing was saved. SQLite queues them: the later ones find nothing left to change.
    refused = [r.json()["errors"][ids.BLOCK_TITLE] for r in responses if r.body]
    assert len(refused) == (0 if project.db.is_sqlite else CLICKS - 1)
    assert all("changed" in text and "ACME-1" in text for text in refused)


def test_a_command_and_a_click_at_the_same_instant_change_the_record_once(
    project: SlackHarness, mocker: Any
) -> None:
    project.command("/task", "new Deploy")
    card = project.fake.calls_to("chat.postMessage")[0]
    ts = _record(project, "ACME-1").card_ts
    start = find_button(card.args["blocks"], ids.ACTION_CARD_MOVE, "start")
    project.fake.reset_calls()
    _hold_first_reads(project, mocker, 2)

    def send(i: int) -> Response:
        if i == 0:
            return project.command("/task", "done ACME-1")
        return click(project, start, message_ts=ts)

    _at_once(send, clicks=2)

    changes = _history(project, "ACME-1")
    lost = [t for t in project.ephemeral_texts() if "changed by someone else at the same moment" in t]
    stale = [t for t in project.ephemeral_texts() if "had changed since this card was drawn" in t]
    status = _record(project, "ACME-1").status
    if project.db.is_sqlite:
        # Queued: the second one saw the first one's change (a stale card, or a legal done after start).
        assert not lost and status == "done"
    else:
        # Both read the task before either saved: one changed it, the other lost and was told so.
        assert len(changes) == 1 and len(lost) + len(stale) == 1
        assert status == ("in_progress" if lost else "done")


def test_a_comment_at_the_same_instant_as_a_click_is_kept(project: SlackHarness, mocker: Any) -> None:
    project.command("/task", "new Deploy")
    card = project.fake.calls_to("chat.postMessage")[0]
    ts = _record(project, "ACME-1").card_ts
    start = find_button(card.args["blocks"], ids.ACTION_CARD_MOVE, "start")
    project.services.clock = lambda: HARNESS_NOW + timedelta(hours=1)
    if not project.db.is_sqlite:
        # The comment reads the task with the click, and saves only once the click has saved.
        both_read, click_saved = threading.Barrier(2, timeout=20), threading.Event()
        real_load, real_after = lifecycle.load, record_steps.after_change

        def load(*args: Any, **kwargs: Any) -> Any:
            found = real_load(*args, **kwargs)
            both_read.wait()
            if kwargs.get("kind") is Kind.TASK:  # the command's read
                assert click_saved.wait(timeout=20)
            return found

        def after_change(*args: Any, **kwargs: Any) -> None:
            click_saved.set()
            real_after(*args, **kwargs)

        mocker.patch.object(lifecycle, "load", load)
        mocker.patch.object(record_steps, "after_change", after_change)

    def send(i: int) -> Response:
        if i == 0:
            return project.command("/task", "comment ACME-1 Starting after lunch")
        return click(project, start, message_ts=ts)

    _at_once(send, clicks=2)

    # A comment is no change of the record's state: it never loses to a click, nor makes one lose.
    assert sorted(_history(project, "ACME-1")) == [
        ("comment", None, "Starting after lunch"),
        ("status", "open", "in_progress"),
    ]
    assert "Comment added to ACME-1." in project.ephemeral_texts()
