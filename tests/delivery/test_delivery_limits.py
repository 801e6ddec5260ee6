"""Delivery that holds in real workspaces (issue 10): Slack's history limits, transient errors that are
not permanent, the job clock (``--now``) for retries, Enterprise Grid installs, and reinstalling.

Runs through the runner or the real ``aftercare jobs run``, against the stand-in, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.oauth.installation_store import Installation
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.delivery.base import JobContext, Outgoing
from bot.delivery.runner import Runner, job_client_factory
from bot.demo.clock import Clock
from bot.demo.simulator import FakeSlack, command_body
from bot.domain.projects import create_project
from bot.ops.settings import Settings
from bot.slack.services import Services
from storage import ledger
from storage.db import Database
from storage.models import Delivery, Project, Workspace
from tests.conftest import scratch_postgres
from tests.delivery.test_delivery_ledger import START, ctx, make_runner, planner, rows
from tests.harness import SIGNING_SECRET, SlackHarness
from tests.ops.test_cli import output, run, run_all
from tests.ops.test_jobs_cli import NOW, seeded, settings
from tests.ops.test_jobs_cli import deliveries as count_deliveries

HISTORY = "conversations.history"


# -- 1. the stand-in reads history as Slack does ------------------------------------------------


def test_stand_in_history_keeps_slacks_rules(fake_slack: FakeSlack) -> None:
    now = [1_800_000_000.0]
    fake_slack.clock = lambda: now[0]
    fake_slack.token_teams["xoxb-other"] = "T0002"
    fake_slack.add_channel("CPUB")
    fake_slack.add_channel("COUT", is_member=False)
    fake_slack.add_channel("GPRIV", is_private=True, is_member=False)
    client = WebClient(token="xoxb-1", base_url=fake_slack.url, retry_handlers=[])
    other = WebClient(token="xoxb-other", base_url=fake_slack.url, retry_handlers=[])
    stamps = []
    for n in range(20):
        now[0] += 1
        sent = client.chat_postMessage(
            channel="CPUB", text=f"m{n}", metadata={"event_type": "x", "event_payload": {"n": n}}
        )
        stamps.append(sent["ts"])
    first = client.conversations_history(channel="CPUB", limit=100)
    # At most 15 a page, newest first, metadata only when asked for.
    assert [m["text"] for m in first["messages"]] == [f"m{n}" for n in range(19, 4, -1)]
    assert first["has_more"] and first["response_metadata"]["next_cursor"]
    assert all("metadata" not in m for m in first["messages"])
    # A second call within the minute, same workspace: HTTP 429 with Retry-After.
    with pytest.raises(SlackApiError) as refused:
        client.conversations_history(channel="CPUB", cursor=first["response_metadata"]["next_cursor"])
    assert refused.value.response.status_code == 429
    assert 1 <= int(refused.value.response.headers["Retry-After"]) <= 60
    # Another workspace has its own budget; a channel the bot is not in is refused as Slack does.
    with pytest.raises(SlackApiError) as outside:
        other.conversations_history(channel="COUT")
    assert outside.value.response["error"] == "not_in_channel"
    now[0] += 60
    rest = client.conversations_history(
        channel="CPUB", cursor=first["response_metadata"]["next_cursor"], include_all_metadata=True
    )
    assert [m["metadata"]["event_payload"]["n"] for m in rest["messages"]] == [4, 3, 2, 1, 0]
    assert rest["has_more"] is False and rest["response_metadata"]["next_cursor"] == ""
    now[0] += 60
    window = client.conversations_history(channel="CPUB", oldest=stamps[3], latest=stamps[6])
    assert [m["text"] for m in window["messages"]] == ["m5", "m4"]
    now[0] += 60
    inclusive = client.conversations_history(
        channel="CPUB", oldest=stamps[3], latest=stamps[6], inclusive=True
    )
    assert [m["text"] for m in inclusive["messages"]] == ["m6", "m5", "m4", "m3"]
    now[0] += 60
    with pytest.raises(SlackApiError) as private:
        client.conversations_history(channel="GPRIV")
    assert private.value.response["error"] == "channel_not_found"


def test_stand_in_replies_keep_the_same_rules(fake_slack: FakeSlack) -> None:
    now = [1_800_000_000.0]
    fake_slack.clock = lambda: now[0]
    fake_slack.add_channel("CPUB")
    client = WebClient(token="xoxb-1", base_url=fake_slack.url, retry_handlers=[])
    parent = client.chat_postMessage(channel="CPUB", text="parent")["ts"]
    for n in range(17):
        now[0] += 1
        client.chat_postMessage(channel="CPUB", text=f"r{n}", thread_ts=parent)
    replies = client.conversations_replies(channel="CPUB", ts=parent, limit=50)
    assert [m["text"] for m in replies["messages"]] == ["parent", *[f"r{n}" for n in range(14)]]
    assert replies["has_more"]
    with pytest.raises(SlackApiError) as refused:
        client.conversations_replies(channel="CPUB", ts=parent)
    assert refused.value.response.status_code == 429
    # Its own budget: history still answers, and shows no thread replies.
    history = client.conversations_history(channel="CPUB")
    assert [m["text"] for m in history["messages"]] == ["parent"]


# -- 2. transient is not permanent ------------------------------------------------------------------


def test_accepted_then_internal_error_is_not_resent_and_ends_sent(slack: SlackHarness) -> None:
    clock = Clock(START)
    runner = make_runner(slack, clock)
    slack.fake.add_channel("CREPORT")
    plan = planner(("digest:T0001:ACME:2026-W50:1", "CREPORT"))
    slack.fake.fail("chat.postMessage", error="internal_error", accept=True)
    first = runner.run([plan], ctx(clock))
    assert (first.sent, first.pending, first.failed) == (0, 1, 0)
    [row] = rows(slack.db)
    assert (row.status, row.in_doubt, row.error) == ("pending", True, "internal_error")
    clock.advance(minutes=5)
    assert runner.run([plan], ctx(clock)).sent == 1
    [message] = slack.fake.posted("CREPORT")
    [row] = rows(slack.db)
    assert (row.status, row.ts) == ("sent", message["ts"])
    assert len(slack.fake.calls_to("chat.postMessage")) == 1
    [check] = slack.fake.calls_to(HISTORY)
    # Only the attempt's time window, with the metadata, 15 at a time.
    assert check.args["include_all_metadata"] == "true" and int(check.args["limit"]) == 15
    assert float(check.args["oldest"]) <= float(message["ts"]) <= float(check.args["latest"])
    assert float(check.args["latest"]) - float(check.args["oldest"]) <= 5 * 60


@pytest.mark.parametrize("error", ["internal_error", "fatal_error", "service_unavailable", "request_timeout",
                                   "ratelimited"])  # fmt: skip
def test_transient_errors_are_retried_and_sent_once(slack: SlackHarness, error: str) -> None:
    clock = Clock(START)
    runner = make_runner(slack, clock)
    slack.fake.add_channel("CREPORT")
    plan = planner(("digest:T0001:ACME:2026-W50:1", "CREPORT"))
    slack.fake.fail("chat.postMessage", error=error)
    assert runner.run([plan], ctx(clock)).pending == 1
    assert slack.fake.posted("CREPORT") == []
    clock.advance(minutes=5)
    assert runner.run([plan], ctx(clock)).sent == 1
    assert len(slack.fake.posted("CREPORT")) == 1
    assert len(slack.fake.calls_to("chat.postMessage")) == 2
    assert len(slack.fake.calls_to(HISTORY)) == 1
    assert rows(slack.db)[0].status == "sent"


def test_an_unknown_error_is_retried_a_few_times_then_failed_visibly(slack: SlackHarness) -> None:
    clock = Clock(START)
    runner = make_runner(slack, clock)
    slack.fake.add_channel("CREPORT")
    plan = planner(("digest:T0001:ACME:2026-W50:1", "CREPORT"))
    slack.fake.fail("chat.postMessage", error="brand_new_error", times=50)
    statuses = []
    for _ in range(6):
        runner.run([plan], ctx(clock))
        statuses.append(rows(slack.db)[0].status)
        clock.advance(hours=2)
    assert statuses == ["pending"] * 4 + ["failed", "failed"]
    assert slack.fake.posted("CREPORT") == []
    assert rows(slack.db)[0].error == "brand_new_error"


# -- 3. in-doubt checks within Slack's limits -------------------------------------------------------


def test_twenty_in_doubt_deliveries_settle_within_the_history_budget(slack: SlackHarness) -> None:
    clock = Clock(START)
    runner = make_runner(slack, clock)
    channels = [f"C{n:02d}" for n in range(20)]
    for channel in channels:
        slack.fake.add_channel(channel)
    plan = planner(*[(f"digest:T0001:P{n:02d}:2026-W50:1", channel) for n, channel in enumerate(channels)])
    # Half were posted before the answer was lost; half never reached Slack.
    slack.fake.fail("chat.postMessage", status=503, accept=True, times=10)
    slack.fake.fail("chat.postMessage", status=503, times=10)
    assert runner.run([plan], ctx(clock)).pending == 20
    checks_at: list[datetime] = []
    for _ in range(60):
        clock.advance(seconds=20)
        before = len(slack.fake.calls_to(HISTORY))
        runner.run([plan], ctx(clock))
        checks_at += [clock.now] * (len(slack.fake.calls_to(HISTORY)) - before)
        if all(r.status == "sent" for r in rows(slack.db)):
            break
    assert {r.status for r in rows(slack.db)} == {"sent"}
    # Never a double post, never more than one history call a minute of the job's clock.
    assert [len(slack.fake.posted(c)) for c in channels] == [1] * 20
    assert len(checks_at) == 20
    assert all(b - a >= timedelta(minutes=1) for a, b in itertools.pairwise(checks_at))
    assert len(slack.fake.calls_to("chat.postMessage")) == 30


def test_a_check_pages_through_a_busy_window_across_runs(slack: SlackHarness) -> None:
    clock = Clock(START)
    runner = make_runner(slack, clock)
    slack.fake.add_channel("CBUSY")
    key = "digest:T0001:ACME:2026-W50:1"
    slack.fake.fail("chat.postMessage", status=503, accept=True)
    runner.run([planner((key, "CBUSY"))], ctx(clock))
    # Twenty people talk in the channel right after it: the message is on the second page.
    other = WebClient(token="xoxb-people", base_url=slack.fake.url)
    for n in range(20):
        clock.advance(seconds=1)
        other.chat_postMessage(channel="CBUSY", text=f"chatter {n}")
    clock.advance(minutes=1)
    first = runner.run([planner((key, "CBUSY"))], ctx(clock))
    assert (first.sent, first.pending) == (0, 1)
    [row] = rows(slack.db)
    assert row.check_cursor and row.in_doubt
    clock.advance(minutes=1)
    assert runner.run([planner((key, "CBUSY"))], ctx(clock)).sent == 1
    calls = slack.fake.calls_to(HISTORY)
    assert len(calls) == 2 and calls[1].args["cursor"] == row.check_cursor
    assert len([m for m in slack.fake.posted("CBUSY") if m["text"] == f"message {key}"]) == 1


def test_one_history_page_settles_every_in_doubt_message_on_it(slack: SlackHarness) -> None:
    clock = Clock(START)
    runner = make_runner(slack, clock)
    slack.fake.add_channel("CREPORT")
    plan = planner(*[(f"review:T0001:P{n}:2026-W50", "CREPORT") for n in range(3)])
    slack.fake.fail("chat.postMessage", status=503, accept=True, times=3)
    assert runner.run([plan], ctx(clock)).pending == 3
    clock.advance(minutes=5)
    runner.run([plan], ctx(clock))
    assert len(slack.fake.calls_to(HISTORY)) == 1
    assert {(r.status, r.ts) for r in rows(slack.db)} == {
        ("sent", m["ts"]) for m in slack.fake.posted("CREPORT")
    }
    assert len(slack.fake.posted("CREPORT")) == 3 and len(slack.fake.calls_to("chat.postMessage")) == 3


def _in_doubt_nudges(tmp_path: Path, fake: FakeSlack, url: str) -> None:
    seeded(tmp_path, url, people=8)
    fake.fail("chat.postMessage", status=503, times=50)
    first = run(["jobs", "run", "nudges", "--now", NOW], tmp_path, settings(fake, url))
    assert first.returncode == 1, output(first)
    fake.state.failures.clear()


def _two_processes_share_the_budget(tmp_path: Path, fake: FakeSlack, url: str) -> None:
    _in_doubt_nudges(tmp_path, fake, url)
    later = (datetime.fromisoformat(NOW) + timedelta(minutes=10)).isoformat()
    env = settings(fake, url)
    results = run_all([(["jobs", "run", "nudges", "--now", later], env)] * 2, tmp_path)
    assert all("Traceback" not in output(r) for r in results), [output(r) for r in results]
    # One history call for the workspace between both processes (a second would have met a 429).
    assert len(fake.calls_to(HISTORY)) == 1
    assert len(fake.posted()) == 1
    database = Database(url)
    with database.read() as session:
        waiting = [d for d in session.scalars(select(Delivery)) if d.status == "pending"]
    database.dispose()
    assert len(waiting) == 7 and all(d.in_doubt for d in waiting)


def test_two_processes_share_the_history_budget_postgresql(tmp_path: Path, fake_slack: FakeSlack) -> None:
    with scratch_postgres("aftercare_budget_test") as url:
        _two_processes_share_the_budget(tmp_path, fake_slack, url)


def test_two_processes_share_the_history_budget_sqlite(tmp_path: Path, fake_slack: FakeSlack) -> None:
    _two_processes_share_the_budget(tmp_path, fake_slack, f"sqlite:///{tmp_path / 'shared.db'}")


# -- 4. --now is the job's clock, retries included ---------------------------------------------------


def test_an_outage_at_now_is_retried_by_a_run_an_hour_later(tmp_path: Path, fake_slack: FakeSlack) -> None:
    url = seeded(tmp_path)
    env = settings(fake_slack, url)
    fake_slack.fail("chat.postMessage", status=503)
    down = run(["jobs", "run", "digest", "--now", NOW], tmp_path, env)
    assert down.returncode == 1 and "stay pending" in down.stderr, output(down)
    assert fake_slack.posted() == []
    # The same instant again: the retry is not due yet (it was scheduled from --now, not the wall clock).
    again = run(["jobs", "run", "digest", "--now", NOW], tmp_path, env)
    assert "0 sent" in again.stdout and fake_slack.posted() == [], output(again)
    later = (datetime.fromisoformat(NOW) + timedelta(hours=1)).isoformat()
    up = run(["jobs", "run", "digest", "--now", later], tmp_path, env)
    assert up.returncode == 0 and "1 sent" in up.stdout, output(up)
    [digest] = fake_slack.posted("UALICE")
    assert digest["metadata"]["event_payload"]["key"].startswith("digest:T0001:ACME:2026-W50")
    database = Database(url)
    with database.read() as session:
        [row] = session.scalars(select(Delivery))
    database.dispose()
    # Recorded on the job's clock too.
    assert row.sent_at is not None and row.sent_at >= datetime.fromisoformat(later)


# -- 5. Enterprise Grid -----------------------------------------------------------------------------


def oauth_settings(fake: FakeSlack, db: Database) -> Settings:
    return Settings(
        slack_client_id="111.222",
        slack_client_secret="oauth-secret",
        slack_signing_secret=SIGNING_SECRET,
        slack_api_url=fake.url,
        database_url=str(db.url),
        _env_file=None,  # type: ignore[call-arg]
    )


def install(services: Services, *, enterprise_id: str, team_id: str | None, token: str, at: float) -> None:
    from bot.slack.app import installation_store

    installation_store(services).save(
        Installation(
            app_id="A0001", enterprise_id=enterprise_id, team_id=team_id, bot_token=token, bot_id="BAFTERCARE",
            bot_user_id="UAFTERCARE", bot_scopes=["chat:write"], user_id="UINSTALLER",
            is_enterprise_install=team_id is None, installed_at=at,
        )
    )  # fmt: skip


def test_grid_workspaces_and_org_wide_installs_get_their_posts(fake_slack: FakeSlack, db: Database) -> None:
    clock = Clock(START)
    fake_slack.clock = clock.monotonic
    harness = SlackHarness(fake_slack, db, settings=oauth_settings(fake_slack, db), clock=clock)
    services = harness.services
    install(services, enterprise_id="E1", team_id="T0001", token="xoxb-grid-workspace", at=clock.monotonic())
    install(services, enterprise_id="E2", team_id=None, token="xoxb-org-wide", at=clock.monotonic())
    fake_slack.add_channel("CPROJ")
    # A project created in a Grid workspace keeps the organisation from Bolt's context.
    body = command_body(command="/project", text="new ACME Acme", user_id="UALICE", channel_id="CPROJ",
                        team_id="T0001", response_url=harness.next_response_url()) + "&enterprise_id=E1"  # fmt: skip
    assert harness.post_signed(body).status == 200
    with db.write() as session:
        acme = session.scalar(select(Project).where(Project.key == "ACME"))
        assert acme is not None and acme.enterprise_id == "E1"
        create_project(session, team_id="T0002", enterprise_id="E2", key="BETA", name="Beta", channel_id="CBETA",
                       user_id="UBEA", timezone="UTC", locale="en", now=clock.now)  # fmt: skip
    fake_slack.add_channel("CBETA", name="beta")  # BETA's channel, made above without a command
    fake_slack.reset_calls()
    runner = Runner(services, job_client_factory(services), sleep=clock.sleep, monotonic=clock.monotonic)

    def plan(session: Session, ctx: JobContext) -> list[Outgoing]:
        return [Outgoing(key="digest:T0001:ACME:2026-W50:1", team_id="T0001", kind="digest", text="a", blocks=[],
                         channel="CPROJ"),
                Outgoing(key="digest:T0002:BETA:2026-W50:1", team_id="T0002", kind="digest", text="b", blocks=[],
                         channel="CBETA")]  # fmt: skip

    report = runner.run([plan], ctx(clock))
    assert (report.sent, report.failed) == (2, 0)
    tokens = {c.args["channel"]: c.headers["authorization"] for c in fake_slack.calls_to("chat.postMessage")}
    assert tokens == {"CPROJ": "Bearer xoxb-grid-workspace", "CBETA": "Bearer xoxb-org-wide"}
    # Uninstalled from the organisation, then installed again: sending stops, then resumes.
    # (An org-wide install's app_uninstalled names the organisation as its tenant.)
    with db.write() as session:
        ledger.mark_uninstalled(session, team_id="E2", now=clock.now)
    clock.advance(hours=1)

    def beta(session: Session, ctx: JobContext) -> list[Outgoing]:
        return [Outgoing(key="digest:T0002:BETA:2026-W51:1", team_id="T0002", kind="digest", text="b2", blocks=[],
                         channel="CBETA")]  # fmt: skip

    assert runner.run([beta], ctx(clock)).sent == 0
    fake_slack.reset_calls()
    install(services, enterprise_id="E2", team_id=None, token="xoxb-org-wide-2", at=clock.monotonic() + 60)
    clock.advance(minutes=2)
    assert runner.run([beta], ctx(clock)).sent == 1
    [post] = fake_slack.calls_to("chat.postMessage")
    assert post.headers["authorization"] == "Bearer xoxb-org-wide-2"
    with db.read() as session:
        assert session.get_one(Workspace, "E2").uninstalled_at is None
    harness.executor.shutdown(wait=True)


# -- 6. single-workspace reinstall ------------------------------------------------------------------


def test_a_new_working_token_after_uninstall_resumes_sending(tmp_path: Path, fake_slack: FakeSlack) -> None:
    url = seeded(tmp_path)
    database = Database(url)
    harness = SlackHarness(fake_slack, database)
    harness.event({"type": "app_uninstalled"})
    harness.executor.shutdown(wait=True)
    env = settings(fake_slack, url)
    # The uninstalled token is revoked: nothing goes out.
    fake_slack.fail("auth.test", error="token_revoked")
    stopped = run(["jobs", "run", "nudges", "--now", NOW], tmp_path, env)
    assert stopped.returncode == 0, output(stopped)
    assert fake_slack.posted() == [] and count_deliveries(url) == 0
    # Installed again, started with the new token: auth.test answers for this workspace, sending resumes.
    resumed = run(["jobs", "run", "nudges", "--now", NOW], tmp_path, {**env, "SLACK_BOT_TOKEN": "xoxb-new"})
    assert resumed.returncode == 0 and "1 sent" in resumed.stdout, output(resumed)
    assert len(fake_slack.posted("UBOB")) == 1
    with database.read() as session:
        assert session.get_one(Workspace, "T0001").uninstalled_at is None
    database.dispose()


# -- export / import of the organisation ------------------------------------------------------------


def test_export_and_import_keep_the_enterprise_id(
    db: Database, tmp_path: Path, sqlite_template: Path
) -> None:
    import json
    import shutil

    from bot.ops.export import export_data, write_json
    from bot.ops.importer import import_data

    with db.write() as session:
        create_project(session, team_id="T0001", enterprise_id="E1", key="ACME", name="Acme", channel_id="CPROJ",
                       user_id="UALICE", timezone="UTC", locale="en", now=datetime(2026, 12, 1, tzinfo=UTC))  # fmt: skip
    with db.read() as session:
        data = json.loads(write_json(export_data(session)))
    assert data["projects"][0]["enterprise_id"] == "E1"
    path = tmp_path / "restored.db"
    shutil.copy(sqlite_template, path)
    restored = Database(f"sqlite:///{path}")
    with restored.write() as session:
        import_data(session, data, overwrite=False)
    with restored.read() as session:
        assert json.loads(write_json(export_data(session))) == data
        assert session.scalar(select(Project.enterprise_id)) == "E1"
    restored.dispose()
