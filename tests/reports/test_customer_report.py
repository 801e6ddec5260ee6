"""The weekly customer report: posted by the digest job in a shared project channel, customer-safe, once.

The week's story is told through the real request path (slash commands, at an injected clock a few days
before the digest slot); the digest job then runs at the slot against the strict stand-in Slack.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from bot.delivery.base import JobContext
from bot.delivery.runner import Runner
from bot.demo.simulator import FakeSlack
from bot.jobs.customer_report import digest_job
from bot.slack import limits
from storage.db import Database
from storage.models import Kind, MemberRole, Project, ProjectMember, Record
from tests.harness import HARNESS_NOW, TEAM, SlackHarness, job_runner, statements
from tests.i18n.test_i18n import mixed_punctuation

SLOT = HARNESS_NOW  # Monday 09:00 UTC: ACME's digest slot
STORY = SLOT - timedelta(days=3)  # the week's work happens on Friday
KEY = f"customer_report:{TEAM}:ACME:2026-W48:CPROJ"


@pytest.fixture
def week(fake_slack: FakeSlack, db: Database) -> Iterator[SlackHarness]:
    """ACME in CPROJ, created on Friday, with a week of work told through the slash commands."""
    harness = SlackHarness(fake_slack, db, clock=lambda: STORY)
    assert harness.command("/project", "new ACME Acme Corp after-sales").status == 200
    harness.fake.add_user("UCUST", team_id="TOTHER")  # the customer, of another organisation
    with harness.db.write() as session:
        project = session.scalar(select(Project).where(Project.key == "ACME"))
        assert project is not None
        session.add(
            ProjectMember(
                team_id=TEAM, project_id=project.id, user_id="UCUST", role=MemberRole.CUSTOMER_CONTACT
            )
        )
    for command, text in (
        ("/req", "new Export invoices to PDF"),  # ACME-1, delivered this week
        ("/req", "close ACME-1"),
        ("/task", "new Install the printer driver <@UBOB|bob> due:2026-11-25 est:30h"),  # ACME-2, in progress
        ("/task", "start ACME-2"),
        ("/issue", "new Printer jams on tray 2 !critical"),  # ACME-3: raised by the customer
        ("/issue", "start ACME-3"),
        ("/issue", "comment ACME-3 INTERNAL-NOTE the customer is grumpy"),
        ("/risk", "new SECRET-RISK vendor may go bankrupt p:4 i:5"),  # ACME-4: never shown
        ("/issue", "new Our own flaky build"),  # ACME-5: internal issue, open
        ("/task", "new Write the user guide due:2026-11-27"),  # ACME-6: due next week
        ("/issue", "new Label printer offline"),  # ACME-7: raised by a customer contact, resolved
        ("/issue", "resolve ACME-7"),
    ):
        response = harness.command(command, text)
        assert response.status == 200, (command, text, response.body)
    with harness.db.write() as session:
        session.execute(update(Record).where(Record.key == "ACME-3").values(requester_external=True))
        session.execute(update(Record).where(Record.key == "ACME-7").values(requester_id="UCUST"))
    harness.fake.reset_calls()
    yield harness
    harness.close()


def _runner(slack: SlackHarness) -> Runner:
    return job_runner(slack, SLOT)


def _share(fake: FakeSlack, channel: str = "CPROJ") -> None:
    fake.add_channel(channel, is_ext_shared=True, members=["UALICE", "UCUST"])


def _key(message: dict[str, Any]) -> str:
    """The ledger key a message carries ("" for messages not sent by a job)."""
    return str(((message.get("metadata") or {}).get("event_payload") or {}).get("key", ""))


def _reports(fake: FakeSlack, channel: str) -> list[dict[str, Any]]:
    return [m for m in fake.posted(channel) if _key(m).startswith("customer_report:")]


def _all_text(message: dict[str, Any]) -> str:
    return json.dumps(message.get("blocks"), ensure_ascii=False) + "\n" + str(message.get("text"))


def test_customer_report_in_a_shared_project_channel_says_only_what_the_customer_may_see(
    week: SlackHarness,
) -> None:
    _share(week.fake)

    report = _runner(week).run([digest_job], JobContext(now=SLOT))

    assert report.failed == 0 and report.pending == 0
    [message] = _reports(week.fake, "CPROJ")
    assert message["metadata"]["event_payload"]["key"] == KEY
    body = _all_text(message)
    blocks = message["blocks"]
    assert blocks[0] == {
        "type": "header",
        "text": {"type": "plain_text", "text": "Weekly update · Acme Corp after-sales", "emoji": True},
    }
    sections = {b["text"]["text"].split("\n")[0]: b["text"]["text"] for b in blocks if b["type"] == "section"}
    assert set(sections) == {
        "*Done and delivered this week* (2)",
        "*In progress* (2)",
        "*Open issues you raised* (2)",
        "*Due next week* (2)",
    }
    assert (
        "*ACME-1* Export invoices to PDF · requirement · Fri, Nov 20, 2026"
        in sections["*Done and delivered this week* (2)"]
    )
    assert "*ACME-7* Label printer offline · issue" in sections["*Done and delivered this week* (2)"]
    assert (
        "*ACME-2* Install the printer driver · task · Due: Wed, Nov 25, 2026" in sections["*In progress* (2)"]
    )
    assert "*ACME-3* Printer jams on tray 2 · issue · no due date" in sections["*In progress* (2)"]
    raised = sections["*Open issues you raised* (2)"]
    assert (
        "*ACME-3* Printer jams on tray 2 · in progress" in raised
        and "*ACME-7* Label printer offline · resolved" in raised
    )
    due = sections["*Due next week* (2)"]
    assert "ACME-2" in due and "*ACME-6* Write the user guide · task · Due: Fri, Nov 27, 2026" in due
    # Nothing internal: no risk, no internal issue, no comment, no people, no figures, nothing to click.
    for internal in (
        "ACME-4", "SECRET-RISK", "ACME-5", "flaky", "INTERNAL-NOTE", "grumpy", "UBOB", "UALICE", "<@",
        "Risk", "risk", "Workload", "workload", "KPI", "on time", "Satisfaction", "satisfaction", "hours",
        "30", "critical", "Overdue", "SLA", "breach", "Unassigned",
    ):  # fmt: skip
        assert internal not in body, internal
    assert all(b["type"] in ("header", "context", "section") for b in blocks)
    assert message["text"] == (
        "Weekly update for Acme Corp after-sales: 2 done, 2 in progress, 2 open issues you raised, 2 due next week."
    )
    # The full digest did not go to the shared channel: the owner got it by DM.
    assert not any(_key(m).startswith("digest:") for m in week.fake.posted("CPROJ"))
    assert any(_key(m).startswith("digest:") for m in week.fake.posted("UALICE"))


def test_customer_report_is_sent_once_and_replanned_from_the_ledger(week: SlackHarness) -> None:
    _share(week.fake)
    _runner(week).run([digest_job], JobContext(now=SLOT))
    week.fake.reset_calls()

    again = _runner(week).run([digest_job], JobContext(now=SLOT + timedelta(hours=1)))

    assert len(_reports(week.fake, "CPROJ")) == 1
    assert again.sent == 0 and again.already_sent >= 1
    assert [c for c in week.fake.calls_to("chat.postMessage") if c.args.get("channel") == "CPROJ"] == []


def test_no_customer_report_in_an_internal_project_channel_or_when_turned_off(week: SlackHarness) -> None:
    week.fake.add_channel("CPROJ", members=["UALICE", "UBOB"])
    _runner(week).run([digest_job], JobContext(now=SLOT))
    assert _reports(week.fake, "CPROJ") == []
    # The internal digest went into the internal project channel.
    assert any(_key(m).startswith("digest:") for m in week.fake.posted("CPROJ"))

    # Shared later in the same week: the week was decided when its digest went out (no report, no Slack check).
    _share(week.fake)
    week.fake.reset_calls()
    later = _runner(week).run([digest_job], JobContext(now=SLOT + timedelta(hours=2)))
    assert _reports(week.fake, "CPROJ") == [] and later.planned == 1  # the digest, replayed
    with week.db.write() as session:
        session.execute(update(Project).values(customer_report=False))
    _runner(week).run([digest_job], JobContext(now=SLOT + timedelta(days=7)))
    assert _reports(week.fake, "CPROJ") == []


def test_customer_report_goes_to_every_other_linked_shared_channel(week: SlackHarness) -> None:
    _share(week.fake)
    week.fake.add_channel("CSUPPORT", name="support", is_ext_shared=True, members=["UALICE", "UCUST"])
    week.fake.add_channel("CTEAM", name="team", members=["UALICE", "UBOB"])
    for channel in ("CSUPPORT", "CTEAM"):
        assert week.command("/project", "link ACME", channel=channel).status == 200

    _runner(week).run([digest_job], JobContext(now=SLOT))

    assert len(_reports(week.fake, "CPROJ")) == 1
    [support] = _reports(week.fake, "CSUPPORT")
    assert support["metadata"]["event_payload"]["key"] == f"customer_report:{TEAM}:ACME:2026-W48:CSUPPORT"
    assert _reports(week.fake, "CTEAM") == []


def test_customer_report_in_chinese(week: SlackHarness) -> None:
    with week.db.write() as session:
        session.execute(update(Project).values(locale="zh-CN"))
    _share(week.fake)

    _runner(week).run([digest_job], JobContext(now=SLOT))

    [message] = _reports(week.fake, "CPROJ")
    texts = [message["text"], message["blocks"][0]["text"]["text"]]
    texts += [b["text"]["text"] for b in message["blocks"] if b["type"] == "section"]
    texts += [e["text"] for b in message["blocks"] if b["type"] == "context" for e in b["elements"]]
    assert message["blocks"][0]["text"]["text"] == "每周进展 · Acme Corp after-sales"
    assert any(t.startswith("*本周完成与交付*（2）") for t in texts)
    assert any(t.startswith("*您提出的未结问题*（2）") for t in texts)
    assert "2026年11月27日" in _all_text(message)
    for text in texts:
        assert mixed_punctuation(text) == [], text
    assert "Weekly" not in _all_text(message) and "Due:" not in _all_text(message)


def test_a_300_item_project_fits_block_kit(week: SlackHarness) -> None:
    with week.db.write() as session:
        project = session.scalar(select(Project).where(Project.key == "ACME"))
        assert project is not None
        for n in range(100, 400):
            kind = (Kind.REQUIREMENT, Kind.TASK, Kind.ISSUE)[n % 3]
            session.add(
                Record(
                    team_id=TEAM, project_id=project.id, kind=kind, seq=n, key=f"ACME-{n}",
                    title=f"<!channel> item {n} " + "x" * 200, status="in_progress", created_by="UALICE",
                    created_at=STORY, updated_at=STORY, due_date=date(2026, 11, 24),
                    requester_external=kind is Kind.ISSUE,
                )
            )  # fmt: skip
    _share(week.fake)

    _runner(week).run([digest_job], JobContext(now=SLOT))

    [message] = _reports(week.fake, "CPROJ")
    blocks = message["blocks"]
    assert len(blocks) <= limits.MESSAGE_BLOCKS
    assert all(len(b["text"]["text"]) <= limits.SECTION_TEXT for b in blocks if b["type"] == "section")
    assert "<!channel>" not in _all_text(message) and "&lt;!channel&gt;" in _all_text(message)
    more = [e["text"] for b in blocks if b["type"] == "context" for e in b["elements"] if "more" in e["text"]]
    assert more and all(m.startswith("…and ") for m in more)
    assert week.fake.invalid == []


def test_dry_run_prints_the_customer_report(week: SlackHarness) -> None:
    report = _runner(week).dry_run([digest_job], JobContext(now=SLOT))

    [line] = [line for line in report.lines if line.startswith(f"--- {KEY} → CPROJ")]
    assert "Done and delivered this week" in line and "SECRET-RISK" not in line
    assert week.fake.calls == []


def test_dry_run_statements_do_not_grow_with_projects(week: SlackHarness) -> None:
    """Each customer post's audience is read with everybody else's: no statement per project."""

    def count() -> tuple[int, int]:
        with statements(week.db) as seen:
            report = _runner(week).dry_run([digest_job], JobContext(now=SLOT))
        return len(seen), sum(line.startswith("--- customer_report:") for line in report.lines)

    alone, reports = count()
    assert reports == 1
    created = SLOT - timedelta(days=20)
    with week.db.write() as session:
        for n in range(6):
            project = Project(
                team_id=TEAM, key=f"P{n}", name=f"Project {n}", channel_id=f"CP{n}", status="active",
                timezone="UTC", locale="en", created_by="UALICE", created_at=created, last_seq=1,
            )  # fmt: skip
            session.add(project)
            session.flush()
            session.add(
                Record(
                    team_id=TEAM, project_id=project.id, kind=Kind.TASK, seq=1, key=f"P{n}-1",
                    title="Ship it", description="", status="in_progress", priority="medium",
                    created_by="UALICE", created_at=created, updated_at=created, version=1,
                )
            )  # fmt: skip
    many, reports = count()
    assert reports == 7
    assert many == alone
