"""End to end: the real ``aftercare serve`` process, signed HTTP requests, the fake Slack Web API."""

from __future__ import annotations

import json
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.demo.simulator import Call, FakeSlack, command_body, sign
from storage.db import Database
from storage.models import Project, Record
from tests.conftest import free_port, scratch_postgres
from tests.ops.test_cli import aftercare_command, clean_env

SECRET = "0f3c9a1b2d4e6f708192a3b4c5d6e7f8"
TEAM = "T0001"
ACK_BUDGET = 2.5  # Slack gives up after 3 s


@dataclass
class Reply:
    status: int
    body: bytes
    headers: dict[str, str]
    seconds: float


@dataclass
class Server:
    base: str
    process: subprocess.Popen[bytes]
    log: Path

    def request(self, method: str, path: str, body: str = "", headers: dict[str, str] | None = None) -> Reply:
        request = urllib.request.Request(
            self.base + path, data=body.encode() if method == "POST" else None, method=method
        )
        for key, value in (headers or {}).items():
            request.add_header(key, value)
        started = time.monotonic()
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                status, payload, got = response.status, response.read(), dict(response.headers)
        except urllib.error.HTTPError as error:
            status, payload, got = error.code, error.read(), dict(error.headers)
        return Reply(status, payload, {k.lower(): v for k, v in got.items()}, time.monotonic() - started)

    def command(self, fake: FakeSlack, command: str, text: str, *, channel: str = "C1",
                secret: str = SECRET, timestamp: int | None = None) -> Reply:  # fmt: skip
        fake.ensure_channel(channel, member="UALICE")  # a command is typed in a channel that exists
        body = command_body(
            command=command, text=text, user_id="UALICE", channel_id=channel, team_id=TEAM,
            response_url=fake.response_url("e2e"),
        )  # fmt: skip
        headers = {"Content-Type": "application/x-www-form-urlencoded", **sign(secret, body, timestamp)}
        return self.request("POST", "/slack/events", body, headers)

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")


@contextmanager
def serving(
    tmp_path: Path, fake: FakeSlack, database_url: str, *, options: tuple[str, ...] = (), **extra: str
) -> Iterator[Server]:
    port = free_port()
    log = tmp_path / "serve.log"
    env = clean_env(
        SLACK_BOT_TOKEN="xoxb-test",
        SLACK_SIGNING_SECRET=SECRET,
        SLACK_API_URL=fake.url,
        DATABASE_URL=database_url,
        **extra,
    )
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [*aftercare_command(), "serve", "--host", "127.0.0.1", "--port", str(port), *options],
            cwd=tmp_path,
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    server = Server(f"http://127.0.0.1:{port}", process, log)
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                pytest.fail(f"aftercare serve exited with {process.returncode}:\n{server.output()}")
            try:
                health = server.request("GET", "/healthz")
            except OSError:
                health = None
            if health is not None and health.status == 200:
                break
            if time.monotonic() > deadline:
                pytest.fail(f"aftercare serve did not become healthy:\n{server.output()}")
            time.sleep(0.05)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def posted_text(calls: list[Call], needle: str) -> bool:
    return any(c.method == "chat.postMessage" and needle in json.dumps(c.args) for c in calls)


def wait_posted(server: Server, fake: FakeSlack, needle: str) -> list[Call]:
    try:
        return fake.wait_for(lambda calls: posted_text(calls, needle), timeout=10)
    except AssertionError as error:
        raise AssertionError(f"{error}\n--- aftercare serve output ---\n{server.output()}") from None


def scenario(tmp_path: Path, fake: FakeSlack, database_url: str) -> None:
    with serving(tmp_path, fake, database_url) as server:
        health = server.request("GET", "/healthz")
        assert health.status == 200
        assert health.headers["content-type"].startswith("application/json")
        assert isinstance(json.loads(health.body), dict) and json.loads(health.body)

        assert server.request("GET", "/nowhere").status == 404
        assert server.request("POST", "/slack/nowhere", "x=1").status == 404

        # Forged: signed with the wrong secret, or replayed with an old timestamp.
        fake.reset_calls()
        forged = server.command(fake, "/project", "new EVIL Evil Corp", secret="0" * 32)
        assert forged.status == 401
        replayed = server.command(fake, "/project", "new EVIL Evil Corp", timestamp=int(time.time()) - 3600)
        assert replayed.status == 401
        time.sleep(0.2)
        assert fake.calls == [], [c.method for c in fake.calls]
        db = Database(database_url)
        try:
            with db.read() as session:
                assert session.scalar(select(func.count()).select_from(Project)) == 0

            created = server.command(fake, "/project", "new ACME Acme")
            assert created.status == 200, (created, server.output())
            assert created.seconds < ACK_BUDGET, created.seconds
            wait_posted(server, fake, "ACME")

            logged = server.command(fake, "/issue", "new Printer jams <@UBOB|bob> due:2026-12-01 !high")
            assert logged.status == 200, (logged, server.output())
            assert logged.seconds < ACK_BUDGET, logged.seconds
            calls = wait_posted(server, fake, "ACME-1")
            posts = [c for c in calls if c.method == "chat.postMessage" and "ACME-1" in json.dumps(c.args)]
            [card] = [c for c in posts if c.args["channel"] == "C1"]
            assert card.headers.get("authorization") == "Bearer xoxb-test"

            with db.read() as session:
                [project] = session.scalars(select(Project)).all()
                assert (project.key, project.name, project.channel_id) == ("ACME", "Acme", "C1")
                [record] = session.scalars(select(Record)).all()
            assert record.key == "ACME-1"
            assert record.title == "Printer jams"
            assert record.assignee_id == "UBOB"
            assert record.due_date == date(2026, 12, 1)
            assert record.priority == "high"
        finally:
            db.dispose()
        assert "Traceback" not in server.output(), server.output()


def test_serve_end_to_end_sqlite(tmp_path: Path, fake_slack: FakeSlack) -> None:
    scenario(tmp_path, fake_slack, f"sqlite:///{tmp_path / 'e2e.db'}")


def test_serve_end_to_end_postgresql(tmp_path: Path, fake_slack: FakeSlack) -> None:
    with scratch_postgres("aftercare_e2e_test") as url:
        scenario(tmp_path, fake_slack, url)


def test_json_logs_one_line_per_request_without_secrets_and_a_graceful_stop(
    tmp_path: Path, fake_slack: FakeSlack
) -> None:
    with serving(
        tmp_path, fake_slack, f"sqlite:///{tmp_path / 'logs.db'}", AFTERCARE_LOG_FORMAT="json"
    ) as server:
        reply = server.command(fake_slack, "/project", "new ACME Acme")
        assert reply.status == 200
        request_id = reply.headers["x-request-id"]
        wait_posted(server, fake_slack, "ACME")
        started = time.monotonic()
        server.process.terminate()  # SIGTERM
        assert server.process.wait(timeout=15) == 0
        assert time.monotonic() - started < 10
    lines = [json.loads(line) for line in server.output().splitlines() if line.startswith("{")]
    [logged] = [line for line in lines if line.get("request_id") == request_id]
    assert (logged["method"], logged["path"], logged["status"]) == ("POST", "/slack/events", 200)
    # Before the first request, what the start left alive was set aside from the collector's full walks.
    [settled] = [n for n, line in enumerate(lines) if line["message"].startswith("startup objects set aside")]
    assert settled < lines.index(logged) and lines[settled]["objects"] > 10_000
    assert "xoxb-test" not in server.output() and SECRET not in server.output()
