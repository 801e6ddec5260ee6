"""Satisfaction per resolved issue: a 1-5 card in the issue's thread, answerable by its requester only,
once per resolution, its own figure in the digest and the retrospective, carried by export and import."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select, update

from bot.blocks.closure import report_message
from bot.delivery.base import JobContext
from bot.delivery.runner import Runner, job_client_factory
from bot.domain.kpis import issue_satisfaction
from bot.domain.retrospective import retrospective
from bot.jobs.surveys import plan
from bot.slack import ids
from storage.db import Database
from storage.models import Delivery, HistoryEntry, Project, Record, Survey, SurveyParticipant, SurveyResponse
from tests.harness import HARNESS_NOW, TEAM, SlackHarness, click, find_button, run_job
from tests.ops.test_import import db2, exported, pg_second, restore  # noqa: F401 (fixtures)
from tests.surveys.test_surveys import add_member, start

THREAD = "1790000000.000100"  # the customer's message the issue was logged from


def log_issue(
    slack: SlackHarness,
    title: str = "Login fails",
    *,
    requester: str = "UCHEN",
    external: bool | None = True,
    thread: str | None = THREAD,
    recorded: bool = True,
) -> str:
    """An issue logged from a customer's message in CPROJ (as intake stores it), through /issue new."""
    if thread and recorded:
        slack.fake.record_message(
            "CPROJ", {"type": "message", "ts": thread, "user": requester, "text": title}
        )
    slack.command("/issue", f"new {title}")
    key = slack.records()[-1].key
    with slack.db.write() as session:
        session.execute(
            update(Record)
            .where(Record.key == key)
            .values(
                requester_id=requester,
                requester_external=external,
                source_channel_id="CPROJ" if thread else None,
                source_ts=thread,
            )
        )
    return key


def customer(slack: SlackHarness, user: str = "UCHEN") -> None:
    """A person of another organisation, in the shared project channel."""
    slack.fake.add_user(user, team_id="TCUSTOMER", tz="Asia/Shanghai")


def without_thread_updates(slack: SlackHarness) -> None:
    """Only the satisfaction card is posted in the thread (a failure injected for it hits it, not an update)."""
    with slack.db.write() as session:
        session.execute(update(Project).values(thread_updates=False))


def thread_cards(slack: SlackHarness) -> list[dict[str, Any]]:
    found = []
    for call in slack.fake.calls_to("chat.postMessage"):
        args = call.args
        key = ((args.get("metadata") or {}).get("event_payload") or {}).get("key", "")
        if key.startswith("issue-csat:"):
            blocks = args["blocks"]
            found.append(
                {**args, "key": key, "blocks": json.loads(blocks) if isinstance(blocks, str) else blocks}
            )
    return found


def answer(slack: SlackHarness, user: str, score: int, card: dict[str, Any]) -> None:
    click(slack, find_button(card["blocks"], ids.survey_score_action(score)), user=user, message_ts=THREAD)


def issue_surveys(slack: SlackHarness) -> list[Survey]:
    with slack.db.read() as session:
        return list(session.scalars(select(Survey).where(Survey.kind == "issue").order_by(Survey.id)))


def scores(slack: SlackHarness) -> list[int | None]:
    with slack.db.read() as session:
        return [r.score for r in session.scalars(select(SurveyResponse).order_by(SurveyResponse.id))]


def test_the_requester_gets_one_card_per_resolution_in_the_issue_thread(project: SlackHarness) -> None:
    slack = project
    customer(slack)
    key = log_issue(slack)
    record_id = slack.records()[-1].id
    slack.command("/issue", f"resolve {key}")
    [card] = thread_cards(slack)
    assert (card["channel"], card["thread_ts"]) == ("CPROJ", THREAD)
    assert card["key"] == f"issue-csat:{TEAM}:{record_id}:1"
    assert "<@UCHEN>" in card["text"] and f"{key} Login fails has been resolved" in card["text"]
    assert "Only the person who raised it can answer" in card["text"]
    [survey] = issue_surveys(slack)
    assert (survey.record_id, survey.resolution, survey.status) == (record_id, 1, "open")
    with slack.db.read() as session:
        [participant] = session.scalars(
            select(SurveyParticipant).where(SurveyParticipant.survey_id == survey.id)
        )
    assert participant.user_id == "UCHEN" and participant.invited_at == HARNESS_NOW

    # Anyone else who clicks is told privately; nothing is stored.
    answer(slack, "UALICE", 5, card)
    assert "This survey was not sent to you." in slack.last_ephemeral()
    assert scores(slack) == []
    # The requester answers; a second click changes the answer, never adds one.
    answer(slack, "UCHEN", 2, card)
    answer(slack, "UCHEN", 4, card)
    assert "Your answer (4 / 5) is saved" in slack.last_ephemeral()
    assert scores(slack) == [4]

    # Other changes of the resolved issue send no second card.
    slack.command("/issue", f"comment {key} Deployed the fix")
    slack.command("/issue", f"resolve {key}")
    assert len(thread_cards(slack)) == 1 and len(issue_surveys(slack)) == 1

    # Reopened and resolved again: a new card for the second resolution.
    slack.command("/issue", f"reopen {key}")
    slack.command("/issue", f"resolve {key}")
    cards = thread_cards(slack)
    assert [c["key"] for c in cards] == [
        f"issue-csat:{TEAM}:{record_id}:1",
        f"issue-csat:{TEAM}:{record_id}:2",
    ]
    assert [s.resolution for s in issue_surveys(slack)] == [1, 2]
    answer(slack, "UCHEN", 5, cards[1])
    assert sorted(s for s in scores(slack) if s is not None) == [4, 5]

    # Issue satisfaction is its own figure in the digest preview.
    slack.command("/project", "digest")
    assert "Issue satisfaction: 4.5 / 5 (2 answers)" in slack.last_ephemeral()
    # ... and in the retrospective; project surveys' satisfaction is apart (none here).
    with slack.db.read() as session:
        project_id = session.scalars(select(Project.id)).one()
        report = retrospective(
            session, team_id=TEAM, project_id=project_id, now=HARNESS_NOW + timedelta(days=1)
        )
    _text, blocks = report_message(report, file_name="ACME.md")
    shown = json.dumps(blocks)
    assert "Issue satisfaction: 4.5 / 5 (2 answers)" in shown and "Satisfaction:" not in shown


def test_the_card_button_that_resolves_also_asks(project: SlackHarness) -> None:
    customer(project)
    key = log_issue(project)
    ts = project.records()[-1].card_ts
    posted = project.fake.calls_to("chat.postMessage")[0]
    click(project, find_button(posted.args["blocks"], ids.ACTION_CARD_MOVE, "resolve"), message_ts=ts)
    assert project.records()[-1].status == "resolved"
    [card] = thread_cards(project)
    assert card["thread_ts"] == THREAD and key in card["text"]


def test_no_card_without_an_external_requester_a_thread_or_the_setting(project: SlackHarness) -> None:
    customer(project)
    internal = log_issue(
        project, "Internal one", requester="UBOB", external=False, thread="1790000000.000300"
    )
    unknown = log_issue(project, "Not known", external=None, thread="1790000000.000400")
    no_thread = log_issue(project, "Typed by hand", thread=None)
    for key in (internal, unknown, no_thread):
        project.command("/issue", f"resolve {key}")
    with project.db.write() as session:
        session.execute(update(Project).values(issue_csat=False))
    switched_off = log_issue(project, "Setting off", thread="1790000000.000200")
    project.command("/issue", f"resolve {switched_off}")
    assert [r.status for r in project.records()] == ["resolved"] * 4
    assert thread_cards(project) == [] and issue_surveys(project) == []


def test_a_card_that_failed_is_sent_once_by_the_surveys_job(project: SlackHarness) -> None:
    customer(project)
    without_thread_updates(project)
    key = log_issue(project)
    project.fake.fail("chat.postMessage", status=500, times=1)
    project.command("/issue", f"resolve {key}")
    assert project.records()[-1].status == "resolved"  # the change is saved whatever Slack said
    with project.db.read() as session:
        [row] = session.scalars(select(Delivery).where(Delivery.key.like("issue-csat:%")))
    assert row.status != "sent"
    later = HARNESS_NOW + timedelta(minutes=10)
    project.services.clock = lambda: later
    for when in (later, later + timedelta(minutes=5)):
        runner = Runner(project.services, job_client_factory(project.services), sleep=lambda _s: None)
        runner.run([plan], JobContext(now=when), kinds=("survey",))
    with project.db.read() as session:
        [row] = session.scalars(select(Delivery).where(Delivery.key.like("issue-csat:%")))
    assert row.status == "sent"
    # One failed attempt (500: in doubt, looked for in the thread), then one card.
    [landed] = [m for m in project.fake.posted("CPROJ") if m.get("thread_ts") == THREAD]
    assert landed["ts"] == row.ts and "<@UCHEN>" in landed["text"]
    replies = project.fake.calls_to("conversations.replies")
    assert replies and all(c.args.get("ts") == THREAD for c in replies)


def test_the_card_speaks_the_projects_language(project: SlackHarness) -> None:
    customer(project)
    with project.db.write() as session:
        session.execute(update(Project).values(locale="zh-CN"))
    key = log_issue(project)
    project.command("/issue", f"resolve {key}")
    [card] = thread_cards(project)
    assert f"{key} Login fails 已解决。您对处理过程满意吗？" in card["text"]
    assert "只有提出该问题的人可以作答" in card["text"]


def test_issue_surveys_survive_export_and_import(project: SlackHarness, db2: Database) -> None:  # noqa: F811
    customer(project)
    key = log_issue(project)
    project.command("/issue", f"resolve {key}")
    [card] = thread_cards(project)
    answer(project, "UCHEN", 3, card)
    before = exported(project.db)
    [survey] = before["surveys"]
    assert (survey["kind"], survey["record"], survey["resolution"]) == ("issue", key, 1)
    assert survey["recipients"] == ["UCHEN"] and [r["score"] for r in survey["responses"]] == [3]
    restore(db2, copy.deepcopy(before))
    assert exported(db2) == before


def test_a_card_whose_time_is_up_is_closed_by_the_surveys_job_as_of_its_closing_time(
    project: SlackHarness,
) -> None:
    customer(project)
    add_member(project, "UCUST")
    key = log_issue(project)
    project.command("/issue", f"resolve {key}")
    assert "1 person will get it" in start(project)  # and a project survey, closing at the same time
    [survey] = issue_surveys(project)
    closes_at = survey.closes_at

    run_job(project, "surveys", closes_at - timedelta(minutes=1))
    assert [(s.status, s.closed_at) for s in issue_surveys(project)] == [("open", None)]

    after = closes_at + timedelta(hours=2)
    run_job(project, "surveys", after)
    assert [(s.status, s.closed_at) for s in issue_surveys(project)] == [("closed", closes_at)]
    [exported_issue_survey] = [s for s in exported(project.db)["surveys"] if s["kind"] == "issue"]
    assert (exported_issue_survey["status"], exported_issue_survey["closed_at"]) == (
        "closed",
        closes_at.isoformat(),
    )
    # The project's survey is closed by its results, when they are posted, not as of its closing time.
    with project.db.read() as session:
        [own] = session.scalars(select(Survey).where(Survey.kind == "on_demand"))
    assert (own.status, own.closed_at) == ("closed", after)
    results = project.fake.calls_to("chat.postMessage")[-1]
    assert results.args["text"].startswith(":bar_chart: *Survey results · ACME*")


def test_the_figure_counts_answers_up_to_the_digest(project: SlackHarness) -> None:
    day = datetime(2026, 11, 23, tzinfo=UTC)
    answers = [(day, 5), (day + timedelta(days=1), 2)]
    assert issue_satisfaction(answers, before=day + timedelta(hours=9)).count == 1
    whole = issue_satisfaction(answers, before=day + timedelta(days=2))
    assert (whole.average, whole.count) == (3.5, 2)
    assert issue_satisfaction([], before=day).average is None


def test_the_title_on_the_card_pings_nobody(project: SlackHarness) -> None:
    customer(project)
    key = log_issue(project)
    with project.db.write() as session:  # as intake stores a customer's first line
        session.execute(update(Record).where(Record.key == key).values(title="Down for <!channel> & <@UBOB>"))
    project.command("/issue", f"resolve {key}")
    [card] = thread_cards(project)
    assert "<!channel>" not in card["text"] and "&lt;!channel&gt; &amp; &lt;@UBOB&gt;" in card["text"]
    assert "<@UBOB>" not in json.dumps(card["blocks"])


def test_a_card_whose_thread_is_gone_fails_for_good_instead_of_waiting(project: SlackHarness) -> None:
    customer(project)
    without_thread_updates(project)
    key = log_issue(project, recorded=False)  # the customer's message was deleted meanwhile
    project.fake.fail("chat.postMessage", status=500, times=1)
    project.command("/issue", f"resolve {key}")
    later = HARNESS_NOW + timedelta(minutes=10)
    project.services.clock = lambda: later
    Runner(project.services, job_client_factory(project.services), sleep=lambda _s: None).run(
        [plan], JobContext(now=later), kinds=("survey",)
    )
    with project.db.read() as session:
        [row] = session.scalars(select(Delivery).where(Delivery.key.like("issue-csat:%")))
    assert (row.status, row.error) == ("failed", "thread_not_found")
    assert thread_cards(project) and not [
        m for m in project.fake.posted("CPROJ") if m.get("thread_ts") == THREAD
    ]


def test_two_follow_ups_of_one_resolution_at_once_make_one_survey_and_one_card(project: SlackHarness) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from bot.jobs.issue_csat import after_resolution

    customer(project)
    key = log_issue(project)
    with project.db.write() as session:  # resolved by someone else's process: the follow-ups race
        session.execute(update(Record).where(Record.key == key).values(status="resolved"))
        record = session.scalars(select(Record).where(Record.key == key)).one()
        session.add(
            HistoryEntry(team_id=TEAM, project_id=record.project_id, record_key=key, field="status",
                         old="open", new="resolved", by="UALICE", at=HARNESS_NOW)
        )  # fmt: skip
        record_id = record.id
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(lambda _n: after_resolution(project.services, record_id=record_id), range(4)))
    assert len(issue_surveys(project)) == 1
    assert len([m for m in project.fake.posted("CPROJ") if m.get("thread_ts") == THREAD]) == 1
