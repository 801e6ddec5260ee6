"""Customer intake end to end: the triage card, ``auto`` intake, and the intake emoji (``:ticket:``)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

from sqlalchemy import select, update

from bot.slack import ids
from storage.models import Delivery, Project
from tests.harness import SlackHarness, click
from tests.intake_story import (
    CHANNEL,
    CUSTOMER,
    action_ids,
    blocks_of,
    contacts,
    customer_says,
    posts_to,
    react,
    says,
    share_with_customer,
    stored,
    triage_button,
    ts,
)


def _set(slack: SlackHarness, **values: object) -> None:
    with slack.db.write() as session:
        session.execute(update(Project).where(Project.key == "ACME").values(**values))


def test_a_customer_message_gets_one_triage_card_for_the_owners_and_log_as_issue_logs_it(
    project: SlackHarness,
) -> None:
    share_with_customer(project)
    at = ts(0)
    assert customer_says(project, "Server down\nNothing loads since 8:00 <!channel>", at).status == 200
    # Slack retries the event (same message, new delivery): still one card.
    customer_says(project, "Server down\nNothing loads since 8:00 <!channel>", at, event_id="EvRetry")

    message = stored(project)[at]
    assert (message.user_id, message.internal, message.triage, message.thread_ts) == (
        CUSTOMER,
        False,
        "suggested",
        None,
    )
    assert contacts(project) == [CUSTOMER]
    # The channel is shared and there is no report channel: the owner (Alice) gets the card by DM.
    assert posts_to(project, CHANNEL) == []
    [card] = posts_to(project, "UALICE")
    assert action_ids(card) == list(ids.TRIAGE_ACTIONS)
    shown = str(blocks_of(card))
    assert "Server down" in shown and "<!channel>" not in shown and "@channel" in shown
    with project.db.read() as session:
        [delivery] = session.scalars(select(Delivery)).all()
    assert delivery.key == f"triage:T0001:{CHANNEL}:{at}:UALICE" and delivery.status == "sent"

    project.fake.reset_calls()
    button = triage_button(card, ids.ACTION_TRIAGE_ISSUE)
    assert click(project, button, user="UALICE", channel="D_UALICE", message_ts=delivery.ts).status == 200
    [record] = project.records()
    assert (record.key, record.kind, record.title) == ("ACME-1", "issue", "Server down")
    assert record.description.startswith("Server down\nNothing loads")
    assert (record.requester_id, record.requester_external, record.created_by) == (CUSTOMER, True, "UALICE")
    assert (record.source_channel_id, record.source_ts) == (CHANNEL, at)
    assert record.source_url == f"https://acme.slack.com/archives/{CHANNEL}/p{at.replace('.', '')}"
    assert record.sla_start == datetime.fromtimestamp(float(at), tz=UTC)
    [reply] = posts_to(project, CHANNEL)
    assert reply["thread_ts"] == at and "ACME-1" in reply["text"]
    [redraw] = project.fake.calls_to("chat.update")
    assert redraw.args["channel"] == "D_UALICE" and redraw.args["ts"] == delivery.ts
    assert action_ids(redraw.args) == [] and "Logged as ACME-1 by <@UALICE>" in str(blocks_of(redraw.args))

    # A second click (another owner's copy, or a double click): nothing new, and they are told the key.
    project.fake.reset_calls()
    click(project, button, user="UBOB", channel="D_UALICE", message_ts=delivery.ts)
    assert len(project.records()) == 1 and posts_to(project, CHANNEL) == []
    assert "already logged as ACME-1" in project.last_ephemeral()


def test_the_card_goes_to_the_report_channel_and_ignore_redraws_it(project: SlackHarness) -> None:
    share_with_customer(project)
    project.fake.add_channel("CREPORT", name="acme-internal", members=("UALICE", "UBOB"))
    _set(project, report_channel_id="CREPORT")
    at = ts(10)
    customer_says(project, "打印机坏了", at)
    [card] = posts_to(project, "CREPORT")
    assert posts_to(project, "UALICE") == []
    project.fake.reset_calls()
    sent_ts = project.fake.posted("CREPORT")[-1]["ts"]
    click(
        project,
        triage_button(card, ids.ACTION_TRIAGE_IGNORE),
        user="UBOB",
        channel="CREPORT",
        message_ts=sent_ts,
    )
    assert project.records() == []
    assert stored(project)[at].triage == "ignored" and stored(project)[at].decided_by == "UBOB"
    [redraw] = project.fake.calls_to("chat.update")
    assert redraw.args["channel"] == "CREPORT" and action_ids(redraw.args) == []
    assert "Ignored by <@UBOB>" in str(blocks_of(redraw.args))


def test_log_as_requirement_from_the_card(project: SlackHarness) -> None:
    share_with_customer(project)
    at = ts(20)
    customer_says(project, "Could the export include VAT?", at)
    [card] = posts_to(project, "UALICE")
    click(project, triage_button(card, ids.ACTION_TRIAGE_REQUIREMENT), user="UALICE", channel="D_UALICE",
          message_ts="1.1")  # fmt: skip
    [record] = project.records()
    assert (record.kind, record.status, record.requester_id) == ("requirement", "proposed", CUSTOMER)


def test_acknowledgements_replies_edits_deletions_and_bot_messages_are_never_intake(
    project: SlackHarness,
) -> None:
    share_with_customer(project)
    customer_says(project, "Thanks! 🙏", ts(1))
    customer_says(project, "好的，收到", ts(2))
    customer_says(project, ":+1:", ts(3))
    customer_says(project, "Still broken", ts(5), thread_ts=ts(4))  # a reply in a thread
    project.event({"type": "message", "subtype": "bot_message", "bot_id": "BOTHER", "channel": CHANNEL,
                   "text": "Build failed", "ts": ts(6)})  # fmt: skip
    project.event({"type": "message", "subtype": "message_changed", "channel": CHANNEL, "ts": ts(7),
                   "message": {"type": "message", "user": CUSTOMER, "text": "Thanks! Also: the login fails",
                               "ts": ts(1)}, "previous_message": {"ts": ts(1), "text": "Thanks! 🙏"}})  # fmt: skip
    project.event({"type": "message", "subtype": "message_deleted", "channel": CHANNEL, "ts": ts(8),
                   "deleted_ts": ts(2), "previous_message": {"ts": ts(2)}})  # fmt: skip
    assert project.fake.calls_to("chat.postMessage") == []
    rows = stored(project)
    assert set(rows) == {ts(1), ts(2), ts(3), ts(5), ts(6)}
    assert all(r.triage is None for r in rows.values())
    assert rows[ts(1)].text == "Thanks! Also: the login fails"  # the edit is kept, and is not intake
    assert rows[ts(2)].deleted and rows[ts(6)].is_bot and rows[ts(5)].thread_ts == ts(4)


def test_auto_intake_logs_at_once_created_by_the_bot(project: SlackHarness) -> None:
    share_with_customer(project)
    _set(project, intake="auto")
    at = ts(30)
    customer_says(project, "Invoices are missing for October", at)
    customer_says(project, "Invoices are missing for October", at, event_id="EvAgain")
    [record] = project.records()
    assert (record.title, record.created_by, record.requester_external) == (
        "Invoices are missing for October", "UAFTERCARE", True,
    )  # fmt: skip
    [reply] = posts_to(project, CHANNEL)
    assert reply["thread_ts"] == at and "ACME-1" in reply["text"]
    assert posts_to(project, "UALICE") == []  # no triage card
    assert stored(project)[at].triage == "logged" and stored(project)[at].record_id == record.id


def test_intake_off_logs_and_suggests_nothing(project: SlackHarness) -> None:
    share_with_customer(project)
    _set(project, intake="off")
    customer_says(project, "Server down", ts(40))
    assert project.records() == [] and project.fake.calls_to("chat.postMessage") == []
    assert stored(project)[ts(40)].triage is None and contacts(project) == [CUSTOMER]


def test_a_message_of_an_internal_person_is_not_suggested(project: SlackHarness) -> None:
    share_with_customer(project)
    says(project, "UBOB", "Server down on staging", ts(41))
    assert stored(project)[ts(41)].internal is True
    assert project.fake.calls_to("chat.postMessage") == [] and contacts(project) == []


# -- the intake emoji ---------------------------------------------------------------------------------------


def test_ticket_reads_the_message_with_reactions_get_and_replies_in_its_thread(project: SlackHarness) -> None:
    share_with_customer(project)
    at = ts(50)
    # A message from before the bot listened: Slack has it, the store does not.
    project.fake.record_message(CHANNEL, {"type": "message", "user": CUSTOMER, "text": "VPN drops\nevery hour",
                                          "ts": at})  # fmt: skip
    assert react(project, "UBOB", at).status == 200
    [get] = project.fake.calls_to("reactions.get")
    assert (get.args["channel"], get.args["timestamp"]) == (CHANNEL, at)
    [record] = project.records()
    assert (record.title, record.description, record.created_by) == (
        "VPN drops",
        "VPN drops\nevery hour",
        "UBOB",
    )
    assert (record.requester_id, record.requester_external) == (CUSTOMER, True)
    assert record.source_url and record.source_url.endswith(at.replace(".", ""))
    [reply] = posts_to(project, CHANNEL)
    assert reply["thread_ts"] == at and "ACME-1" in reply["text"] and "<@UBOB>" in reply["text"]


def test_ticket_on_a_stored_message_uses_its_text_and_a_file_only_message_its_file_name(
    project: SlackHarness,
) -> None:
    share_with_customer(project)
    _set(project, intake="off")
    at = ts(60)
    customer_says(project, "", at, subtype="file_share", files=[{"id": "F1", "name": "crash-log.txt"}])
    project.fake.reset_calls()
    react(project, "UBOB", at)
    assert project.fake.calls_to("reactions.get") == []
    [record] = project.records()
    assert record.title == "crash-log.txt"


def test_one_record_per_message_whatever_the_path_and_the_race(project: SlackHarness) -> None:
    share_with_customer(project)
    at = ts(70)
    customer_says(project, "Reports are empty", at)
    [card] = posts_to(project, "UALICE")
    project.fake.reset_calls()
    with ThreadPoolExecutor(max_workers=3) as pool:
        futures = [
            pool.submit(react, project, "UBOB", at),
            pool.submit(react, project, "UCAROL", at),
            pool.submit(click, project, triage_button(card, ids.ACTION_TRIAGE_ISSUE), user="UALICE",
                        channel="D_UALICE", message_ts="1.1"),
        ]  # fmt: skip
        assert all(f.result().status == 200 for f in futures)
    assert [r.key for r in project.records()] == ["ACME-1"]
    assert len([p for p in posts_to(project, CHANNEL) if p.get("thread_ts") == at]) == 1
    told = [c.args["text"] for c in project.fake.calls_to("chat.postEphemeral")] + project.ephemeral_texts()
    assert len([text for text in told if "already logged as ACME-1" in text]) == 2


def test_ticket_logs_nothing_on_the_bots_message_in_an_unlinked_channel_or_by_a_customer(
    project: SlackHarness,
) -> None:
    share_with_customer(project)
    at = ts(80)
    project.fake.record_message(CHANNEL, {"type": "message", "user": "UAFTERCARE", "bot_id": "B0001",
                                          "text": "ACME-1 is resolved", "ts": at})  # fmt: skip
    react(project, "UBOB", at, item_user="UAFTERCARE")
    project.fake.add_channel("COTHER", name="random", members=("UBOB",))
    react(project, "UBOB", ts(81), channel="COTHER", item_user="UCAROL")
    customer_msg = ts(82)
    project.fake.record_message(CHANNEL, {"type": "message", "user": "UBOB", "text": "Planned upgrade",
                                          "ts": customer_msg})  # fmt: skip
    react(project, CUSTOMER, customer_msg, item_user="UBOB")
    assert project.records() == []
    notes = {
        (c.args["channel"], c.args["user"]): c.args["text"]
        for c in project.fake.calls_to("chat.postEphemeral")
    }
    assert notes == {
        (CHANNEL, "UBOB"): "I don't log my own messages.",
        ("COTHER", "UBOB"): "This channel isn't linked to a project, so I can't log this message.",
    }
    assert project.fake.calls_to("reactions.get") == []


def test_another_emoji_or_the_projects_own_choice(project: SlackHarness) -> None:
    share_with_customer(project)
    _set(project, intake_emoji="bug", intake="off")
    customer_says(project, "Checkout fails", ts(90))
    react(project, "UBOB", ts(90), reaction="ticket")
    assert project.records() == []
    react(project, "UBOB", ts(90), reaction="bug")
    assert [r.title for r in project.records()] == ["Checkout fails"]


def test_a_message_slack_no_longer_has_is_explained(project: SlackHarness) -> None:
    share_with_customer(project)
    react(project, "UBOB", ts(95))
    [get] = project.fake.calls_to("reactions.get")
    assert get.args["timestamp"] == ts(95)
    [note] = project.fake.calls_to("chat.postEphemeral")
    assert "message_not_found" in note.args["text"] and project.records() == []
