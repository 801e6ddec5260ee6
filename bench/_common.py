"""Shared helpers for the benchmarks: databases, the fake Slack API, a running ``aftercare serve``, figures.

Everything listens on 127.0.0.1 only. PostgreSQL is used only when 127.0.0.1:5432 answers, in a
scratch database created here and dropped afterwards.
"""

from __future__ import annotations

import json
import os
import platform
import socket
import sqlite3
import statistics
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bot.demo.simulator import FakeSlack, command_body, sign  # noqa: E402

SECRET = "0f3c9a1b2d4e6f708192a3b4c5d6e7f8"
TEAM = "T0001"
PG_BASE = os.environ.get("AFTERCARE_BENCH_POSTGRES", "postgresql://root@127.0.0.1:5432/test")


# -- figures ---------------------------------------------------------------------------------


def percentile(values: list[float], q: float) -> float:
    """The ``q``-th percentile (0–100), nearest rank; NaN for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def ms(seconds: float) -> str:
    return f"{seconds * 1000:8.1f}"


def process_tree_cpu(pid: int) -> float:
    """CPU seconds (user + system) used so far by process ``pid`` and its living descendants (gunicorn's
    workers), from ``/proc``; NaN where there is no ``/proc``. Every thread counts: this is what the
    process costs the machine, whichever thread spent it."""
    try:
        entries = [Path("/proc") / name for name in os.listdir("/proc") if name.isdigit()]
    except OSError:
        return float("nan")
    tick = os.sysconf("SC_CLK_TCK")
    parent_of: dict[int, int] = {}
    spent: dict[int, float] = {}
    for entry in entries:
        try:
            stat = (entry / "stat").read_text()
        except OSError:  # gone meanwhile
            continue
        fields = stat.rsplit(")", 1)[1].split()  # after the command name, which may hold spaces
        parent_of[int(entry.name)] = int(fields[1])
        spent[int(entry.name)] = (int(fields[11]) + int(fields[12])) / tick
    if pid not in spent:
        return float("nan")
    tree = {pid}
    grew = True
    while grew:
        grew = False
        for child, parent in parent_of.items():
            if parent in tree and child not in tree:
                tree.add(child)
                grew = True
    return sum(spent[member] for member in tree)


def machine() -> str:
    """One line about where the figures came from."""
    parts = [
        f"{os.cpu_count()} CPU",
        platform.machine(),
        f"Python {platform.python_version()}",
        f"SQLite {sqlite3.sqlite_version}",
    ]
    version = postgres_version()
    parts.append(f"PostgreSQL {version}" if version else "PostgreSQL not reachable")
    return ", ".join(parts)


# -- databases -------------------------------------------------------------------------------


def postgres_reachable() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 5432), timeout=0.5):
            return True
    except OSError:
        return False


def postgres_version() -> str | None:
    if not postgres_reachable():
        return None
    try:
        import psycopg

        with psycopg.connect(PG_BASE, autocommit=True, connect_timeout=2) as conn:
            row = conn.execute("SHOW server_version").fetchone()
        return str(row[0]).split()[0] if row else None
    except Exception:
        return None


@contextmanager
def scratch_postgres(prefix: str) -> Iterator[str]:
    """A PostgreSQL database of its own, created here and dropped (even on failure)."""
    import psycopg
    from psycopg import sql
    from sqlalchemy import make_url

    name = f"{prefix}_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG_BASE, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield (
            make_url(PG_BASE)
            .set(drivername="postgresql+psycopg", database=name)
            .render_as_string(hide_password=False)
        )
    finally:
        with psycopg.connect(PG_BASE, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@contextmanager
def databases(workdir: Path, prefix: str, *, only: str | None = None) -> Iterator[Iterator[tuple[str, str]]]:
    """Yields an iterator of (label, url): SQLite always, PostgreSQL when reachable (scratch database)."""

    def each() -> Iterator[tuple[str, str]]:
        if only in (None, "sqlite"):
            path = workdir / f"{prefix}_{uuid.uuid4().hex[:6]}.db"
            yield "SQLite", f"sqlite:///{path}"
        if only in (None, "postgresql"):
            if postgres_reachable():
                with scratch_postgres(prefix) as url:
                    yield "PostgreSQL", url
            else:
                print("(PostgreSQL: 127.0.0.1:5432 does not answer; skipped)")

    yield each()


def migrated(url: str) -> None:
    from storage import migrate
    from storage.db import Database

    db = Database(url)
    try:
        migrate.upgrade(db)
    finally:
        db.dispose()


# -- processes -------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def clean_env(**settings: str) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("SLACK_", "AFTERCARE_")) and key not in ("DATABASE_URL", "PORT")
    }
    env["PYTHONPATH"] = str(ROOT)
    env.update(settings)
    return env


def aftercare_command() -> list[str]:
    script = Path(sys.executable).with_name("aftercare")
    return [str(script)] if script.exists() else [sys.executable, "-m", "bot"]


class TimedFakeSlack(FakeSlack):
    """The fake Slack API, noting when a message carrying a marker first arrives (monotonic clock)."""

    def __init__(self, *, latency: float = 0.0) -> None:
        super().__init__()
        self.arrivals: dict[str, float] = {}
        self._arrivals_lock = threading.Lock()
        self.marker_prefix = "bench-"
        # Seconds each answer takes, as Slack's API does over the internet (the message counts as arrived
        # when its request does; the caller waits for the answer).
        self.latency = latency

    def handle(self, handler: Any, method: str, args: dict[str, Any]) -> None:
        if method == "chat.postMessage":
            at = time.monotonic()
            text = json.dumps(args)
            start = text.find(self.marker_prefix)
            if start >= 0:
                end = start + len(self.marker_prefix)
                while end < len(text) and text[end].isalnum():
                    end += 1
                marker = text[start:end]
                with self._arrivals_lock:
                    self.arrivals.setdefault(marker, at)
        if self.latency:
            time.sleep(self.latency)
        super().handle(handler, method, args)

    def arrival(self, marker: str, timeout: float = 10.0) -> float | None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._arrivals_lock:
                if marker in self.arrivals:
                    return self.arrivals[marker]
            time.sleep(0.002)
        return None

    def forget(self) -> None:
        """Drop recorded calls and messages, so a long run does not keep them all in memory."""
        with self.state.lock:
            self.state.calls.clear()
            self.state.history.clear()


@dataclass
class Served:
    base: str
    process: subprocess.Popen[bytes]
    log: Path

    def post(self, body: str, *, timeout: float = 30.0) -> int:
        headers = {"Content-Type": "application/x-www-form-urlencoded", **sign(SECRET, body)}
        request = urllib.request.Request(self.base + "/slack/events", data=body.encode(), method="POST")
        for key, value in headers.items():
            request.add_header(key, value)
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                response.read()
                return int(response.status)
        except urllib.error.HTTPError as error:
            return int(error.code)

    def command(self, fake: FakeSlack, command: str, text: str, *, channel: str = "CBENCH") -> int:
        return self.post(
            command_body(
                command=command,
                text=text,
                user_id="UALICE",
                channel_id=channel,
                team_id=TEAM,
                response_url=fake.response_url("bench"),
            )
        )


def _wait_healthy(base: str, process: subprocess.Popen[bytes], log: Path, what: str) -> None:
    deadline = time.monotonic() + 30
    while True:
        if process.poll() is not None:
            raise SystemExit(f"{what} exited with {process.returncode}:\n{log.read_text(errors='replace')}")
        try:
            with urllib.request.urlopen(base + "/healthz", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise SystemExit(f"{what} did not become healthy:\n{log.read_text(errors='replace')}")
        time.sleep(0.05)


@contextmanager
def _running(args: list[str], env: dict[str, str], workdir: Path, port: int, what: str) -> Iterator[Served]:
    log = workdir / f"{what.replace(' ', '_')}_{port}.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(args, cwd=workdir, env=env, stdout=sink, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(base, process, log, what)
        yield Served(base, process, log)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextmanager
def aftercare_serve(
    workdir: Path, fake: FakeSlack, database_url: str, *, workers: int = 1
) -> Iterator[Served]:
    """The real ``aftercare serve`` (waitress, default settings; gunicorn with ``workers`` > 1),
    against the fake Slack API."""
    port = free_port()
    env = clean_env(
        SLACK_BOT_TOKEN="xoxb-bench",
        SLACK_SIGNING_SECRET=SECRET,
        SLACK_API_URL=fake.url,
        DATABASE_URL=database_url,
    )
    with _running(
        [*aftercare_command(), "serve", "--host", "127.0.0.1", "--port", str(port)]
        + (["--workers", str(workers)] if workers > 1 else []),
        env,
        workdir,
        port,
        "aftercare serve",
    ) as served:
        yield served


@contextmanager
def floor_serve(workdir: Path, fake: FakeSlack) -> Iterator[Served]:
    """A bare Bolt app under the same server (waitress, same thread count) whose listener only acks,
    then posts one chat.postMessage echoing the text (so the "reaches Slack" figure has a floor too)."""
    port = free_port()
    env = clean_env(SLACK_API_URL=fake.url)
    with _running(
        [sys.executable, str(Path(__file__).resolve()), "floor", str(port)], env, workdir, port, "bare bolt"
    ) as served:
        yield served


def _floor_main(port: int) -> None:
    """``python bench/_common.py floor PORT``: the framework's floor."""
    import logging

    import waitress
    from slack_bolt import App
    from slack_bolt.adapter.wsgi import SlackRequestHandler
    from slack_sdk import WebClient

    from bot.ops.settings import Settings

    logging.basicConfig(level=logging.WARNING)
    threads = Settings(_env_file=None).threads  # type: ignore[call-arg]
    client = WebClient(token="xoxb-floor", base_url=os.environ["SLACK_API_URL"])
    app = App(signing_secret=SECRET, client=client, token_verification_enabled=False)

    @app.command("/issue")
    def issue(ack: Callable[..., None], command: dict[str, Any], client: WebClient) -> None:
        ack()
        client.chat_postMessage(channel=command["channel_id"], text=command["text"])

    handler = SlackRequestHandler(app)

    def wsgi(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        if environ.get("PATH_INFO") == "/healthz":
            start_response("200 OK", [("Content-Type", "application/json")])
            return [b'{"status": "ok"}']
        return handler(environ, start_response)

    waitress.serve(wsgi, host="127.0.0.1", port=port, threads=threads, _quiet=True)


if __name__ == "__main__" and len(sys.argv) == 3 and sys.argv[1] == "floor":
    _floor_main(int(sys.argv[2]))
