"""`aftercare jobs run NAME [--now] [--project] [--team] [--dry-run]` as a user types it."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from pytest_mock import MockerFixture
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from bot.demo.simulator import FakeSlack
from bot.domain.projects import create_project
from bot.domain.records import NewRecord, create_record
from bot.ops.cli import main
from storage import migrate
from storage.db import Database
from storage.models import Delivery, Kind
from tests.conftest import scratch_postgres
from tests.harness import joined
from tests.ops.test_cli import output, run, run_all

NOW = "2026-12-07T09:30:00+00:00"  # a Monday, 09:30 in UTC


def seeded(tmp_path: Path, url: str | None = None, people: int = 1) -> str:
    url = url or f"sqlite:///{tmp_path / 'jobs.db'}"
    db = Database(url)
    migrate.upgrade(db)
    created = datetime(2026, 11, 20, tzinfo=UTC)
    with db.write() as session:
        project = create_project(
            session, team_id="T0001", key="ACME", name="Acme", channel_id="CPROJ", user_id="UALICE",
            timezone="UTC", locale="en", now=created,
        )  # fmt: skip
        create_record(
            session, team_id="T0001", project_id=project.id, user_id="UALICE",
            new=NewRecord(kind=Kind.TASK, title="Renew the certificate", assignee_id="UBOB", due_date=date(2026, 12, 5)),
            now=created,
        )  # fmt: skip
        for n in range(1, people):
            create_record(
                session, team_id="T0001", project_id=project.id, user_id="UALICE",
                new=NewRecord(kind=Kind.ISSUE, title=f"Late issue {n}", assignee_id=f"UP{n:03d}", due_date=date(2026, 12, 5)),
                now=created,
            )  # fmt: skip
    db.dispose()
    return url


def deliveries(url: str) -> int:
    db = Database(url)
    with db.read() as session:
        count = session.scalar(select(func.count()).select_from(Delivery)) or 0
    db.dispose()
    return count


def settings(fake: FakeSlack, url: str) -> dict[str, str]:
    return {"SLACK_BOT_TOKEN": "xoxb-jobs", "SLACK_API_URL": fake.url, "DATABASE_URL": url}


def test_dry_run_prints_what_would_go_out_and_writes_nothing(tmp_path: Path) -> None:
    url = seeded(tmp_path)
    result = run(["jobs", "run", "nudges", "--now", NOW, "--dry-run"], tmp_path, DATABASE_URL=url)
    assert result.returncode == 0, output(result)
    assert "nudge:T0001:UBOB:2026-12-07" in result.stdout and "Renew the certificate" in result.stdout
    assert "1 message(s) would be sent" in result.stdout
    assert deliveries(url) == 0


def test_a_real_run_posts_once_and_a_second_run_nothing(tmp_path: Path, fake_slack: FakeSlack) -> None:
    url = seeded(tmp_path)
    first = run(["jobs", "run", "nudges", "--now", NOW], tmp_path, settings(fake_slack, url))
    assert first.returncode == 0, output(first)
    assert "1 sent" in first.stdout
    second = run(["jobs", "run", "nudges", "--now", NOW], tmp_path, settings(fake_slack, url))
    assert second.returncode == 0 and "0 sent, 1 already sent" in second.stdout, output(second)
    [dm] = fake_slack.posted("UBOB")
    assert "Renew the certificate" in str(dm)


def test_an_undeliverable_message_stays_pending_and_exits_non_zero(
    tmp_path: Path, fake_slack: FakeSlack
) -> None:
    url = seeded(tmp_path)
    fake_slack.fail("chat.postMessage", status=500, times=5)
    result = run(["jobs", "run", "nudges", "--now", NOW], tmp_path, settings(fake_slack, url))
    assert result.returncode == 1, output(result)
    assert "stay pending" in result.stderr and "Traceback" not in output(result)


def test_bad_arguments_get_one_clear_line(tmp_path: Path) -> None:
    url = seeded(tmp_path)
    naive = run(
        ["jobs", "run", "digest", "--now", "2026-12-07T09:00", "--dry-run"], tmp_path, DATABASE_URL=url
    )
    assert naive.returncode == 2 and "offset" in naive.stderr
    garbage = run(["jobs", "run", "digest", "--now", "monday", "--dry-run"], tmp_path, DATABASE_URL=url)
    assert garbage.returncode == 2 and "ISO 8601" in garbage.stderr
    unknown = run(["jobs", "run", "nudges", "--project", "NOPE", "--dry-run"], tmp_path, DATABASE_URL=url)
    assert unknown.returncode == 2 and "no project NOPE" in unknown.stderr
    no_token = run(["jobs", "run", "nudges"], tmp_path, DATABASE_URL=url)
    assert no_token.returncode == 2 and "SLACK_BOT_TOKEN" in no_token.stderr
    for result in (naive, garbage, unknown, no_token):
        assert "Traceback" not in output(result)


def _three_at_once(tmp_path: Path, fake: FakeSlack, url: str) -> None:
    seeded(tmp_path, url, people=12)
    joined(fake, "CPROJ")
    for n in range(1, 12):
        fake.add_user(f"UP{n:03d}")
    env = settings(fake, url)
    results = run_all(
        [(["jobs", "run", "nudges", "--now", NOW], env)] * 3
        + [(["jobs", "run", "digest", "--now", NOW], env)],
        tmp_path,
    )
    assert all(r.returncode == 0 for r in results), [output(r) for r in results]
    nudges = [
        m
        for m in fake.posted()
        if str(m.get("metadata", {}).get("event_payload", {}).get("key", "")).startswith("nudge:")
    ]
    # Twelve people, one DM each, however many processes ran at the same instant.
    assert len(nudges) == 12
    assert len({m["metadata"]["event_payload"]["key"] for m in nudges}) == 12
    assert deliveries(url) >= 12


def test_several_processes_at_the_same_instant_post_once_sqlite(
    tmp_path: Path, fake_slack: FakeSlack
) -> None:
    _three_at_once(tmp_path, fake_slack, f"sqlite:///{tmp_path / 'shared.db'}")


def test_several_processes_at_the_same_instant_post_once_postgresql(
    tmp_path: Path, fake_slack: FakeSlack
) -> None:
    with scratch_postgres("aftercare_jobs_test") as url:
        _three_at_once(tmp_path, fake_slack, url)


def test_a_dry_run_refuses_a_database_behind_the_migrations_and_migrates_nothing(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    db = Database(url)
    migrate.upgrade(db, "0009")
    db.dispose()
    result = run(["jobs", "run", "digest", "--now", NOW, "--dry-run"], tmp_path, DATABASE_URL=url)
    assert result.returncode == 1, output(result)
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1 and "aftercare db upgrade" in result.stderr, output(result)
    db = Database(url)
    assert migrate.current_revision(db) == "0009"
    db.dispose()


@pytest.mark.parametrize("where", ["bot.jobs.surveys.prepare", "bot.delivery.runner.Runner.run"])
def test_a_database_failing_mid_run_is_one_clear_line(
    where: str,
    tmp_path: Path,
    fake_slack: FakeSlack,
    monkeypatch: pytest.MonkeyPatch,
    mocker: MockerFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    url = seeded(tmp_path)
    monkeypatch.chdir(tmp_path)
    for key, value in settings(fake_slack, url).items():
        monkeypatch.setenv(key, value)
    gone = OperationalError("SELECT 1", {}, ConnectionRefusedError("connection refused: database is down"))
    mocker.patch(where, side_effect=gone)

    code = main(["jobs", "run", "surveys", "--now", NOW])

    err = capsys.readouterr().err.strip().splitlines()
    assert code == 1
    assert err == [
        "aftercare: the database failed during the surveys job (connection refused: database is down); "
        "run it again once it is back: nothing already sent is sent twice"
    ]
