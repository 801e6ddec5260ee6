"""``aftercare serve --workers N``: several processes against one PostgreSQL; SQLite stays single-process."""

from __future__ import annotations

import json
import time
from pathlib import Path

from sqlalchemy import select

from bot.demo.simulator import FakeSlack
from storage.db import Database
from storage.models import Record
from tests.conftest import scratch_postgres
from tests.ops.test_cli import output, run
from tests.slack.test_serve_e2e import SECRET, serving


def _children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def test_several_workers_on_sqlite_stop_with_one_clear_line(tmp_path: Path) -> None:
    result = run(
        ["serve", "--workers", "2"], tmp_path,
        SLACK_BOT_TOKEN="xoxb-test", SLACK_SIGNING_SECRET=SECRET, DATABASE_URL=f"sqlite:///{tmp_path / 'a.db'}",
    )  # fmt: skip
    assert result.returncode == 2
    lines = output(result).strip().splitlines()
    assert len(lines) == 1, lines
    assert "--workers 2 needs PostgreSQL" in lines[0] and "SQLite serves from one process" in lines[0]
    assert not (tmp_path / "a.db").exists()  # refused before anything was created


def test_two_worker_processes_serve_one_postgresql(tmp_path: Path, fake_slack: FakeSlack) -> None:
    with (
        scratch_postgres("aftercare_workers_test") as url,
        serving(tmp_path, fake_slack, url, options=("--workers", "2")) as server,
    ):
        # gunicorn boots its workers one after another: the first can answer /healthz before the second is up.
        deadline = time.monotonic() + 20
        while len(_children(server.process.pid)) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(_children(server.process.pid)) == 2, server.output()
        assert server.command(fake_slack, "/project", "new ACME Acme").status == 200
        fake_slack.wait_for(lambda calls: any("ACME" in json.dumps(c.args) for c in calls), timeout=10)
        for n in range(8):
            assert server.command(fake_slack, "/issue", f"new Item {n}").status == 200
        cards = fake_slack.wait_for(
            lambda calls: sum(
                1 for c in calls if c.method == "chat.postMessage" and "Item " in json.dumps(c.args)
            ) == 8,
            timeout=15,
        )  # fmt: skip
        db = Database(url)
        try:
            with db.read() as session:
                keys = sorted(session.scalars(select(Record.key)))
        finally:
            db.dispose()
        assert keys == sorted(f"ACME-{n}" for n in range(1, 9))  # one key sequence across processes
        assert (
            len([c for c in cards if c.method == "chat.postMessage" and "Item " in json.dumps(c.args)]) == 8
        )
        server.process.terminate()
        assert server.process.wait(timeout=30) == 0
        assert "Traceback" not in server.output(), server.output()
        # Each worker set its start-up objects aside from the collector's full walks once its app was built.
        assert server.output().count("startup objects set aside from garbage collection") == 2
