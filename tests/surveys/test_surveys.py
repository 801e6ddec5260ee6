"""Satisfaction surveys: a whole life with an injected clock, anonymity, strangers, results, never twice."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from bot.blocks.survey import results_message
from bot.commands.surveys import register
from bot.delivery.base import JobContext
from bot.delivery.runner import Runner, RunReport, job_client_factory
from bot.demo.clock import Clock
from bot.domain.people import upsert_member
from bot.domain.survey_results import survey_results
from bot.domain.surveys import latest_satisfaction, latest_satisfaction_scores
from bot.domain.working_hours import parse_working_hours
from bot.jobs import JOBS
from bot.jobs.surveys import plan
from bot.ops.export import export_data
from bot.slack import ids
from storage.models import (
    Delivery,
    MemberRole,
    Project,
    ProjectMember,
    Survey,
    SurveyParticipant,
    SurveyResponse,
)
from tests.harness import TEAM, SlackHarness, click, find_button

# Monday 30 November 2026, 01:00 UTC: 09:00 in Shanghai, still Sunday 20:00 in New York.
START = datetime(2026, 11, 30, 1, 0, tzinfo=UTC)
KINDS = JOBS["surveys"].kinds


@pytest.fixture(autouse=True)
def survey_listeners(slack: SlackHarness) -> None:
    """The survey buttons and form on the app (harmless once ``register_all`` has them too: the first match runs)."""
    register(slack.app)


@pytest.fixture
def clock(slack: SlackHarness) -> Clock:
    return slack.use_clock(Clock(START))


def person(slack: SlackHarness, user: str, tz: str, locale: str = "en-US", **extra: Any) -> None:
    """Someone Slack knows (of this workspace unless ``team_id`` says otherwise), already in the directory."""
    slack.fake.add_user(
        user, tz=tz, locale=locale, **{k: v for k, v in extra.items() if k in ("team_id", "is_bot")}
    )
    with slack.db.write() as session:
        upsert_member(
            session,
            team_id=TEAM,
            member={"id": user, "name": user.lower(), "tz": tz, "locale": locale, **extra},
            now=START,
        )


def add_member(slack: SlackHarness, user: str, role: MemberRole = MemberRole.CUSTOMER_CONTACT) -> None:
    slack.fake.ensure_user(user)  # a contact DMed here is a member (or guest) of this workspace
    with slack.db.write() as session:
        project = session.scalars(select(Project)).one()
        session.add(ProjectMember(team_id=TEAM, project_id=project.id, user_id=user, role=role))


def set_project(slack: SlackHarness, **values: Any) -> None:
    with slack.db.write() as session:
        session.execute(update(Project).values(**values))


def runner_for(slack: SlackHarness, clock: Clock) -> Runner:
    return Runner(
        slack.services, job_client_factory(slack.services), sleep=clock.sleep, monotonic=clock.monotonic
    )


def run_job(slack: SlackHarness, clock: Clock, when: datetime, runner: Runner | None = None) -> RunReport:
    clock.at(when)
    return (runner or runner_for(slack, clock)).run([plan], JobContext(now=when), kinds=KINDS)


def pulse_notices(slack: SlackHarness) -> list[dict[str, Any]]:
    """The "pulse survey started" notices posted in the project channel."""
    calls = [c.args for c in slack.fake.calls_to("chat.postMessage") if c.args.get("channel") == "CPROJ"]
    return [
        {"key": c["metadata"]["event_payload"]["key"], "text": c["text"]}
        for c in calls
        if c.get("metadata") and "Pulse survey of ACME started" in c["text"]
    ]


def dms(slack: SlackHarness, user: str) -> list[dict[str, Any]]:
    """What the bot posted to ``user`` (text, blocks, ts), in order."""
    posted = slack.fake.posted(user)
    calls = [c.args for c in slack.fake.calls_to("chat.postMessage") if c.args.get("channel") == user]
    by_key = {json.dumps(c.get("metadata"), sort_keys=True): c for c in calls}
    found = []
    for message in posted:
        args = by_key[json.dumps(message.get("metadata"), sort_keys=True)]
        blocks = args.get("blocks")
        found.append(
            {
                "ts": message["ts"],
                "text": message["text"],
                "key": message["metadata"]["event_payload"]["key"],
                "blocks": json.loads(blocks) if isinstance(blocks, str) else blocks,
            }
        )
    return found


def press(
    slack: SlackHarness, user: str, score: int, *, message: dict[str, Any], as_user: str | None = None
) -> None:
    button = find_button(message["blocks"], ids.survey_score_action(score))
    click(slack, button, user=as_user or user, channel=f"D_{user}", message_ts=message["ts"])


def last_update(slack: SlackHarness, user: str) -> dict[str, Any]:
    calls = [c.args for c in slack.fake.calls_to("chat.update") if c.args.get("channel") == f"D_{user}"]
    assert calls, f"the survey DM was not redrawn; calls: {[c.method for c in slack.fake.calls]}"
    args = dict(calls[-1])
    if isinstance(args.get("blocks"), str):
        args["blocks"] = json.loads(args["blocks"])
    return args


def primary_scores(blocks: list[dict[str, Any]]) -> list[int]:
    return [
        json.loads(e["value"])["score"]
        for b in blocks
        if b.get("type") == "actions"
        for e in b["elements"]
        if e.get("style") == "primary"
    ]


def has_buttons(blocks: list[dict[str, Any]]) -> bool:
    return any(b.get("type") == "actions" for b in blocks)


def responses(slack: SlackHarness) -> list[SurveyResponse]:
    with slack.db.read() as session:
        return list(session.scalars(select(SurveyResponse).order_by(SurveyResponse.id)))


def participants(slack: SlackHarness) -> dict[str, SurveyParticipant]:
    with slack.db.read() as session:
        return {p.user_id: p for p in session.scalars(select(SurveyParticipant))}


def surveys(slack: SlackHarness) -> list[Survey]:
    with slack.db.read() as session:
        return list(session.scalars(select(Survey).order_by(Survey.id)))


def submit_details(
    slack: SlackHarness, user: str, *, score: str, recommend: str | None, comment: str | None, signed: bool
) -> Any:
    view = slack.opened_view()
    values: dict[str, dict[str, Any]] = {
        ids.BLOCK_SURVEY_SCORE: {
            ids.ACTION_SURVEY_SCORE_SELECT: {"type": "static_select", "selected_option": {"value": score}}
        },
        ids.BLOCK_SURVEY_RECOMMEND: {
            ids.ACTION_SURVEY_RECOMMEND: {
                "type": "static_select",
                "selected_option": {"value": recommend} if recommend is not None else None,
            }
        },
        ids.BLOCK_SURVEY_COMMENT: {ids.ACTION_SURVEY_COMMENT: {"type": "plain_text_input", "value": comment}},
        ids.BLOCK_SURVEY_SIGN: {
            ids.ACTION_SURVEY_SIGN: {
                "type": "checkboxes",
                "selected_options": [{"value": ids.SURVEY_SIGN_VALUE}] if signed else [],
            }
        },
    }
    return slack.submit_view(view, values, user=user)


@pytest.fixture
def customers(project: SlackHarness, clock: Clock) -> SlackHarness:
    """ACME (owner UALICE, report channel CREPORT) with customer contacts in Shanghai and New York."""
    person(project, "UALICE", "Europe/London")
    person(project, "UCHEN", "Asia/Shanghai", "zh-CN", team_id="TCUSTOMER")  # from another organisation
    person(project, "UNY", "America/New_York")
    person(project, "ULATE", "America/New_York")
    person(project, "UBOT", "UTC", is_bot=True)
    for user in ("UCHEN", "UNY", "ULATE", "UBOT"):
        add_member(project, user)
    # The project channel is shared with the customer's organisation (Slack Connect); the report
    # channel is the team's own.
    project.fake.state.channels["CPROJ"].is_ext_shared = True
    project.fake.add_channel("CREPORT", name="acme-internal", members=("UALICE", "UBOB"))
    set_project(project, report_channel_id="CREPORT")
    return project


def cards(slack: SlackHarness, channel: str = "CPROJ") -> list[dict[str, Any]]:
    """Survey cards and reminders the bot posted in a channel (text, blocks, ts, ledger key), in order."""
    found = []
    for message in slack.fake.posted(channel):
        key = ((message.get("metadata") or {}).get("event_payload") or {}).get("key", "")
        if key.startswith(("survey-card", "issue-csat")):
            found.append(
                {"ts": message["ts"], "text": message["text"], "key": key, "blocks": message["blocks"]}
            )
    return found


def press_card(
    slack: SlackHarness, user: str, score: int, card: dict[str, Any], channel: str = "CPROJ"
) -> None:
    click(slack, find_button(card["blocks"], ids.survey_score_action(score)), user=user, channel=channel,
          message_ts=card["ts"])  # fmt: skip


def start(slack: SlackHarness, user: str = "UALICE") -> str:
    slack.command("/project", "survey", user=user)
    return slack.last_ephemeral()


# -- the whole life --------------------------------------------------------------------------------


def test_a_survey_from_invitation_to_results(customers: SlackHarness, clock: Clock) -> None:
    slack = customers
    reply = start(slack)
    assert "3 people" in reply and "Mon, Dec 7, 2026" in reply
    [survey] = surveys(slack)
    assert (survey.kind, survey.status, survey.created_by) == ("on_demand", "open", "UALICE")
    assert survey.closes_at == START + timedelta(days=7)
    assert set(participants(slack)) == {"UCHEN", "UNY", "ULATE"}  # the bot is not asked

    # Monday 09:30 in Shanghai, Sunday evening in New York: only Shanghai is invited. UCHEN is of another
    # organisation (Slack Connect): Slack refuses the bot a DM to her, so one card in the project channel
    # mentions her (and only her).
    run_job(slack, clock, START + timedelta(minutes=30))
    assert dms(slack, "UCHEN") == []
    assert [c.args["channel"] for c in slack.fake.calls_to("chat.postMessage")] == ["CPROJ"]
    [chen_card] = cards(slack)
    assert chen_card["key"] == f"survey-card:{TEAM}:{survey.id}"
    assert "<@UCHEN>" in chen_card["text"] and "<@UNY>" not in chen_card["text"]
    assert "Mon, Dec 7, 2026" in chen_card["text"]  # the closing date, in the project's language and zone
    assert participants(slack)["UCHEN"].invited_at == START + timedelta(minutes=30)
    assert dms(slack, "UNY") == [] and dms(slack, "ULATE") == []
    # Monday 09:30 in New York.
    run_job(slack, clock, datetime(2026, 11, 30, 14, 30, tzinfo=UTC))
    [ny_dm] = dms(slack, "UNY")
    assert "Sun, Dec 6, 2026" in ny_dm["text"]  # 01:00 UTC on the 7th is still the 6th in New York
    assert len(dms(slack, "ULATE")) == 1 and len(cards(slack)) == 1 and dms(slack, "UCHEN") == []
    assert next(b for b in ny_dm["blocks"] if b["type"] == "actions")["elements"][0]["value"] == json.dumps(
        {"s": survey.id, "score": 1}, separators=(",", ":")
    )  # the buttons carry no secret

    # Tuesday: UCHEN answers 4 on the card, anonymously (the default): told privately, the card unchanged.
    clock.at(datetime(2026, 12, 1, 2, 0, tzinfo=UTC))
    updates = len(slack.fake.calls_to("chat.update"))
    press_card(slack, "UCHEN", 2, chen_card)
    press_card(slack, "UCHEN", 4, chen_card)  # a second click changes her answer
    assert "您的回答（4 / 5）已保存" in slack.last_ephemeral()  # in her language
    assert len(slack.fake.calls_to("chat.update")) == updates
    [chen_answer] = responses(slack)
    assert (chen_answer.score, chen_answer.user_id) == (4, None)
    # Someone else who clicks the card is told privately; nothing is stored.
    press_card(slack, "UEVE", 1, chen_card)
    assert "This survey was not sent to you." in slack.last_ephemeral()
    assert [r.score for r in responses(slack)] == [4]

    # UNY answers 2, changes it to 5, then adds details and shows their name.
    clock.at(datetime(2026, 12, 1, 15, 0, tzinfo=UTC))
    press(slack, "UNY", 2, message=ny_dm)
    press(slack, "UNY", 5, message=ny_dm)
    assert primary_scores(last_update(slack, "UNY")["blocks"]) == [5]
    click(
        slack,
        find_button(last_update(slack, "UNY")["blocks"], ids.ACTION_SURVEY_DETAILS),
        user="UNY",
        channel="D_UNY",
        message_ts=ny_dm["ts"],
    )
    form = slack.opened_view()
    assert form["callback_id"] == ids.VIEW_SURVEY
    answer = submit_details(
        slack, "UNY", score="5", recommend="9", comment="Fast & <b>kind</b> support", signed=True
    )
    assert answer.status == 200 and not answer.body
    assert len(responses(slack)) == 2  # changed, not doubled
    ny_answer = responses(slack)[1]
    assert (ny_answer.score, ny_answer.recommend, ny_answer.comment, ny_answer.user_id) == (
        5,
        9,
        "Fast & <b>kind</b> support",
        "UNY",
    )
    assert "Your name is shown" in json.dumps(last_update(slack, "UNY")["blocks"])

    # A stranger's click on the same button is refused; nothing is stored.
    updates = len(slack.fake.calls_to("chat.update"))
    press(slack, "UNY", 1, message=ny_dm, as_user="UEVE")
    assert "This survey was not sent to you." in slack.last_ephemeral()
    assert len(responses(slack)) == 2 and responses(slack)[1].score == 5
    assert len(slack.fake.calls_to("chat.update")) == updates

    # Thursday 09:00 in New York: ULATE was invited less than 3 days ago — no reminder yet.
    run_job(slack, clock, datetime(2026, 12, 3, 14, 0, tzinfo=UTC))
    assert len(dms(slack, "ULATE")) == 1
    # Thursday 09:30 in New York: one reminder, to ULATE only.
    run_job(slack, clock, datetime(2026, 12, 3, 14, 30, tzinfo=UTC))
    late = dms(slack, "ULATE")
    assert [m["key"] for m in late] == [
        f"survey:{TEAM}:{survey.id}:ULATE",
        f"survey-reminder:{TEAM}:{survey.id}:ULATE",
    ]
    assert "reminder" in late[1]["text"]
    assert len(cards(slack)) == 1 and len(dms(slack, "UNY")) == 1  # UCHEN answered: no reminder for her
    run_job(slack, clock, datetime(2026, 12, 4, 14, 30, tzinfo=UTC))
    assert len(dms(slack, "ULATE")) == 2  # one reminder only

    # Not closed a minute early.
    run_job(slack, clock, START + timedelta(days=7) - timedelta(minutes=1))
    assert slack.fake.posted("CREPORT") == [] and surveys(slack)[0].status == "open"
    # Closing: the summary to the report channel and to the owner.
    closing = START + timedelta(days=7)
    run_job(slack, clock, closing)
    [survey] = surveys(slack)
    assert survey.status == "closed" and survey.closed_at is not None
    [report] = slack.fake.posted("CREPORT")
    assert "Answered: 2 of 3 (67%)" in report["text"]
    assert "Average satisfaction: 4.5 / 5" in report["text"]
    assert "Likelihood to recommend: 9 / 10" in report["text"]
    # Two answers: no distribution, no comments (nobody can be singled out).
    assert "*Distribution*" not in report["text"] and "Fast" not in report["text"]
    assert "at least 3 people answered" in report["text"]
    [owner_copy] = dms(slack, "UALICE")
    assert owner_copy["key"] == f"survey-results:{TEAM}:{survey.id}:UALICE"
    assert "Average satisfaction: 4.5 / 5" in owner_copy["text"]
    assert latest_satisfaction_in(slack, survey.project_id) == 4.5

    # After closing, answers are refused politely and the DM loses its buttons.
    clock.at(closing + timedelta(hours=1))
    press(slack, "ULATE", 3, message=late[1])
    assert "This survey is closed" in slack.last_ephemeral()
    assert not has_buttons(last_update(slack, "ULATE")["blocks"])
    assert len(responses(slack)) == 2

    # Restarts and later ticks send nothing again.
    posted = len(slack.fake.posted())
    for when in (closing, closing + timedelta(hours=2), closing + timedelta(days=3)):
        report_run = run_job(slack, clock, when, runner_for(slack, clock))
        assert report_run.sent == 0
    assert len(slack.fake.posted()) == posted


def latest_satisfaction_in(slack: SlackHarness, project_id: int) -> float | None:
    with slack.db.read() as session:
        return latest_satisfaction(session, project_id)


# -- anonymity, strangers, refusals ---------------------------------------------------------------


def test_an_anonymous_answer_cannot_be_linked_to_its_author_from_the_database(
    customers: SlackHarness, clock: Clock
) -> None:
    slack = customers
    start(slack)
    run_job(slack, clock, START + timedelta(minutes=30))
    [card] = cards(slack)  # UCHEN is of another organisation: asked on the card in the project channel
    clock.at(START + timedelta(minutes=32))
    press_card(slack, "UCHEN", 3, card)
    [response] = responses(slack)
    chen = participants(slack)["UCHEN"]
    assert response.user_id is None
    # Only the day of the answer is kept: its time cannot be matched with the invitation's.
    assert response.created_at == response.updated_at == datetime(2026, 11, 30, tzinfo=UTC)
    assert chen.responded and chen.secret_check
    assert chen.secret_check != response.secret_hash
    # No value of the participant's row appears in the response's, nor the other way round.
    shared = {"id", "survey_id", "team_id"}
    participant_values = {
        getattr(chen, c.key) for c in SurveyParticipant.__table__.columns if c.key not in shared
    }
    response_values = {
        getattr(response, c.key) for c in SurveyResponse.__table__.columns if c.key not in shared
    }
    assert not {v for v in participant_values & response_values if v not in (None, True, False)}
    long_texts = [str(w) for w in response_values if isinstance(w, str) and len(w) > 8]
    assert not any(
        isinstance(v, str) and len(v) > 8 and any(v in w or w in v for w in long_texts)
        for v in participant_values
    )
    # The ledger holds no secret either.
    with slack.db.read() as session:
        payloads = json.dumps([d.payload for d in session.scalars(select(Delivery))])
    assert response.secret_hash not in payloads and chen.secret_check not in payloads
    # Adding details keeps it anonymous unless "show my name" is ticked.
    click(slack, find_button(card["blocks"], ids.ACTION_SURVEY_DETAILS), user="UCHEN", message_ts=card["ts"])
    form = slack.opened_view()
    assert form["blocks"][1]["element"]["initial_option"]["value"] == "3"  # her own answer, for her only
    submit_details(slack, "UCHEN", score="3", recommend=None, comment="ok", signed=False)
    [response] = responses(slack)
    assert (response.score, response.comment, response.user_id) == (3, "ok", None)
    [note] = [c.args for c in slack.fake.calls_to("chat.postEphemeral")]
    assert (note["channel"], note["user"]) == ("CPROJ", "UCHEN") and "您的回答（3 / 5）已保存" in note["text"]
    assert len(cards(slack)) == 1 and slack.fake.calls_to("chat.update") == []  # the shared card unchanged
    # The export keeps them apart as well.
    with slack.db.read() as session:
        [exported] = export_data(session)["surveys"]
    assert exported["recipients"] == ["UCHEN", "ULATE", "UNY"]
    assert exported["responses"][0]["user_id"] is None
    assert {"id", "team_id", "project", "kind", "status", "created_at", "closes_at", "closed_at"} <= set(
        exported
    )
    assert exported["project"] == "ACME" and exported["status"] == "open"


def test_a_stranger_is_refused_even_with_a_well_formed_button(customers: SlackHarness, clock: Clock) -> None:
    slack = customers
    start(slack)
    run_job(slack, clock, START + timedelta(minutes=30))
    [card] = cards(slack)
    press_card(slack, "UEVE", 5, card)
    assert "This survey was not sent to you." in slack.last_ephemeral()
    # The details form does not open for a stranger either, from the card or a forged DM button.
    click(slack, find_button(card["blocks"], ids.ACTION_SURVEY_DETAILS), user="UEVE", message_ts=card["ts"])
    assert "This survey was not sent to you." in slack.last_ephemeral()
    click(slack, {"action_id": ids.ACTION_SURVEY_DETAILS, "value": json.dumps({"s": surveys(slack)[0].id}),
                  "text": {"type": "plain_text", "text": "x"}}, user="UEVE", channel="D_UEVE", message_ts=card["ts"])  # fmt: skip
    assert "This survey was not sent to you." in slack.last_ephemeral()
    assert slack.fake.calls_to("views.open") == []
    assert responses(slack) == [] and not any(p.responded for p in participants(slack).values())


def test_project_survey_needs_an_owner_and_someone_to_ask(project: SlackHarness, clock: Clock) -> None:
    slack = project
    assert "add customer contacts in /project settings" in start(slack)
    assert surveys(slack) == []
    add_member(slack, "UCUST")
    assert "Only an owner of project ACME" in start(slack, user="UMALLORY")
    assert surveys(slack) == []
    assert "1 person will get it" in start(slack)
    [survey] = surveys(slack)
    assert survey.kind == "on_demand"
    # One open survey at a time.
    assert "still open" in start(slack)
    assert len(surveys(slack)) == 1
    slack.command("/project", "survey now")
    assert "takes no options" in slack.last_ephemeral()


def test_team_members_are_asked_when_the_project_says_so(project: SlackHarness, clock: Clock) -> None:
    add_member(project, "UCUST")
    set_project(project, survey_include_team=True)
    start(project)
    roles = {user: p.role for user, p in participants(project).items()}
    assert roles == {"UCUST": "customer", "UALICE": "team"}


# -- results ------------------------------------------------------------------------------------


def _answer_all(slack: SlackHarness, clock: Clock, answers: dict[str, tuple[int, str | None, bool]]) -> int:
    for user in answers:
        person(slack, user, "UTC")
        add_member(slack, user)
    start(slack)
    run_job(slack, clock, START + timedelta(hours=8))  # 09:00 in UTC... and London
    for user, (score, comment, signed) in answers.items():
        [dm] = dms(slack, user)
        press(slack, user, score, message=dm)
        if comment is not None or signed:
            click(slack, find_button(last_update(slack, user)["blocks"], ids.ACTION_SURVEY_DETAILS), user=user,
                  channel=f"D_{user}", message_ts=dm["ts"])  # fmt: skip
            submit_details(slack, user, score=str(score), recommend=None, comment=comment, signed=signed)
    return surveys(slack)[0].id


def test_results_show_distribution_and_comments_from_three_answers(
    project: SlackHarness, clock: Clock
) -> None:
    slack = project
    survey_id = _answer_all(
        slack,
        clock,
        {"UA": (5, "Great <!channel> work", True), "UB": (4, "Slow replies", False), "UC": (2, None, False)},
    )
    run_job(slack, clock, START + timedelta(days=7, hours=1))
    # No report channel: the results go to the owner by DM, once.
    [message] = dms(slack, "UALICE")
    assert message["key"] == f"survey-results:{TEAM}:{survey_id}:UALICE"
    text = json.dumps(message["blocks"], ensure_ascii=False)
    assert "Answered: 3 of 3 (100%)" in text and "Average satisfaction: 3.7 / 5" in text
    assert "Distribution" in text and "`5`" in text and "`1`" in text
    assert "Great &lt;!channel&gt; work" in text and "<!channel>" not in text
    assert "<@UA>" in text  # signed
    assert "Slow replies" in text and "<@UB>" not in text and "anonymous" in text
    assert "<@UC>" not in text


def test_results_with_fewer_than_three_answers_hide_distribution_and_comments(
    project: SlackHarness, clock: Clock
) -> None:
    survey_id = _answer_all(project, clock, {"UA": (5, "Only me", True), "UB": (1, None, False)})
    with project.db.read() as session:
        results = survey_results(session, survey_id=survey_id)
    assert results.hidden and results.distribution == () and results.comments == ()
    text, blocks = results_message(results, locale="en")
    assert "Only me" not in json.dumps(blocks) and "<@UA>" not in json.dumps(blocks)
    assert "Average satisfaction: 3 / 5" in text


def test_nobody_answered(project: SlackHarness, clock: Clock) -> None:
    add_member(project, "UCUST")
    start(project)
    run_job(project, clock, START + timedelta(days=8))
    [message] = dms(project, "UALICE")
    assert "Answered: 0 of 1 (0%)" in message["text"] and "Nobody answered." in message["text"]
    with project.db.read() as session:
        assert latest_satisfaction(session, surveys(project)[0].project_id) is None


def test_the_digest_kpi_is_the_latest_closed_survey(project: SlackHarness, clock: Clock) -> None:
    survey_id = _answer_all(project, clock, {"UA": (2, None, False)})
    with project.db.read() as session:
        project_id = session.get_one(Survey, survey_id).project_id
        assert (
            latest_satisfaction_scores(session, project_ids=[project_id], before=START + timedelta(days=30))
            == {}
        )
    closing = START + timedelta(days=7)
    run_job(project, clock, closing)
    with project.db.read() as session:
        assert latest_satisfaction_scores(session, project_ids=[project_id], before=closing) == {
            project_id: 2.0
        }
        assert (
            latest_satisfaction_scores(
                session, project_ids=[project_id], before=closing - timedelta(seconds=1)
            )
            == {}
        )


# -- the ledger: never twice ----------------------------------------------------------------------


def test_surveys_are_never_sent_twice_across_restarts(customers: SlackHarness, clock: Clock) -> None:
    slack = customers
    start(slack)
    when = datetime(2026, 11, 30, 14, 30, tzinfo=UTC)  # both New Yorkers' 09:30
    runner = runner_for(slack, clock)
    first = run_job(slack, clock, when, runner)
    assert first.sent == 2
    assert run_job(slack, clock, when, runner).sent == 0
    assert run_job(slack, clock, when, runner_for(slack, clock)).sent == 0  # a restart: a fresh runner
    assert run_job(slack, clock, when + timedelta(minutes=5), runner_for(slack, clock)).sent == 0
    assert [len(dms(slack, u)) for u in ("UNY", "ULATE", "UCHEN")] == [1, 1, 0]
    # A dry run shows only what is still due, and writes nothing.
    clock.at(START + timedelta(days=1))
    with slack.db.read() as session:
        rows = session.scalars(select(Delivery)).all()
    dry = runner_for(slack, clock).dry_run([plan], JobContext(now=START + timedelta(days=1)))
    assert [line.split()[1] for line in dry.lines] == [f"survey-card:{TEAM}:{surveys(slack)[0].id}"]
    with slack.db.read() as session:
        assert len(session.scalars(select(Delivery)).all()) == len(rows)
        assert participants(slack)["UCHEN"].invited_at is None


def test_an_invitation_that_fails_for_a_while_is_sent_once_later(
    customers: SlackHarness, clock: Clock
) -> None:
    slack = customers
    start(slack)
    slack.fake.fail("chat.postMessage", status=500, times=1)
    report = run_job(slack, clock, START + timedelta(minutes=30))
    assert report.pending == 1 and cards(slack) == []
    assert participants(slack)["UCHEN"].invited_at is not None  # claimed: it will not be planned again
    run_job(slack, clock, START + timedelta(minutes=35))
    run_job(slack, clock, START + timedelta(minutes=40))
    assert [c["key"] for c in cards(slack)] == [f"survey-card:{TEAM}:{surveys(slack)[0].id}"]
    assert dms(slack, "UCHEN") == []


# -- pulse surveys ------------------------------------------------------------------------------


def test_a_monthly_pulse_starts_once_and_then_invites(project: SlackHarness, clock: Clock) -> None:
    slack = project
    add_member(slack, "UCUST")
    person(slack, "UCUST", "UTC")
    set_project(slack, survey_pulse_days=30, created_at=START - timedelta(days=40))
    run_job(slack, clock, START + timedelta(hours=2))  # Monday 03:00 UTC: outside the project's hours
    assert surveys(slack) == []
    noon = START + timedelta(hours=11)
    runner = runner_for(slack, clock)
    run_job(slack, clock, noon, runner)
    [survey] = surveys(slack)
    assert (survey.kind, survey.created_by, survey.created_at) == ("pulse", None, noon)
    [notice] = pulse_notices(slack)
    # No report channel: the notice goes to the project channel, which is internal.
    assert notice["key"] == f"survey-pulse:{TEAM}:ACME:{(START - timedelta(days=10)).date().isoformat()}"
    assert "Pulse survey of ACME started" in notice["text"]
    run_job(slack, clock, noon, runner_for(slack, clock))
    run_job(slack, clock, noon + timedelta(minutes=5), runner)
    assert len(surveys(slack)) == 1 and len(pulse_notices(slack)) == 1
    assert len(dms(slack, "UCUST")) == 1  # invited from the next tick on
    # The next pulse falls due 30 days after this one began, after this one closed.
    run_job(slack, clock, noon + timedelta(days=29))
    assert len(surveys(slack)) == 1
    run_job(slack, clock, noon + timedelta(days=30, minutes=1))
    assert len(surveys(slack)) == 2


def test_working_hours_can_be_read_from_a_setting() -> None:
    hours = parse_working_hours("Sun-Thu 08:30-16:00")
    assert hours.weekdays == (0, 1, 2, 3, 6)
    assert hours.contains(datetime(2026, 12, 6, 8, 30, tzinfo=UTC), "UTC")  # a Sunday
    assert not hours.contains(datetime(2026, 12, 4, 9, 0, tzinfo=UTC), "UTC")  # a Friday
    with pytest.raises(ValueError):
        parse_working_hours("Mon-Fri 17:00-09:00")


def test_results_never_go_to_a_channel_shared_with_the_customer(project: SlackHarness, clock: Clock) -> None:
    project.fake.add_channel("CSHARED", is_ext_shared=True)
    set_project(project, report_channel_id="CSHARED")
    survey_id = _answer_all(
        project, clock, {"UA": (4, "Nice", True), "UB": (4, None, False), "UC": (3, None, False)}
    )
    run_job(project, clock, START + timedelta(days=7))
    assert project.fake.posted("CSHARED") == []
    [message] = dms(project, "UALICE")  # once, though both the report and the owner's copy fell back to her
    assert message["key"] == f"survey-results:{TEAM}:{survey_id}:UALICE" and "Nice" in json.dumps(
        message["blocks"]
    )


def test_a_closing_survey_started_by_close_asks_the_team_too(project: SlackHarness, clock: Clock) -> None:
    from bot.domain.surveys import start_survey

    add_member(project, "UCUST")
    with project.db.write() as session:
        project_id = session.scalars(select(Project.id)).one()
        survey_id = start_survey(
            session, team_id=TEAM, project_id=project_id, kind="closing", created_by="UALICE", now=START,
            include_team=True,
        )  # fmt: skip
    assert {u: p.role for u, p in participants(project).items()} == {"UCUST": "customer", "UALICE": "team"}
    run_job(project, clock, START + timedelta(hours=8))
    [customer_dm] = dms(project, "UCUST")
    [team_dm] = dms(project, "UALICE")
    assert "has been closed" in customer_dm["text"] and "how we served you" in customer_dm["text"]
    assert "how the project went" in team_dm["text"]
    assert customer_dm["key"] == f"survey:{TEAM}:{survey_id}:UCUST"
