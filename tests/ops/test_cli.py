"""The ``aftercare`` command line, run as a real process with a controlled environment."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

import pytest
import yaml

from bot.demo.simulator import FakeSlack
from bot.slack import ids
from bot.slack.manifest import render_manifest
from storage import migrate
from storage.db import Database
from tests.conftest import free_port, scratch_postgres

ROOT = Path(__file__).resolve().parents[2]
SECRET = "8f742231b10e8888abcd99eeefff85a5"
EXPORT_KEYS = {"projects", "requirements", "issues", "tasks", "risks", "meetings", "surveys", "history"}
TIMEOUT = 30


def aftercare_command() -> list[str]:
    """The installed console script when there is one (it is what users run), else ``python -m bot``."""
    script = Path(sys.executable).with_name("aftercare")
    return [str(script)] if script.exists() else [sys.executable, "-m", "bot"]


def clean_env(**settings: str) -> dict[str, str]:
    """This process's environment without any Aftercare or Slack setting, plus ``settings``."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("SLACK_", "AFTERCARE_")) and key not in ("DATABASE_URL", "PORT")
    }
    env.update(settings)
    return env


def run(
    args: list[str],
    cwd: Path,
    env: Mapping[str, str] | None = None,
    /,
    *,
    timeout: float = TIMEOUT,
    **settings: str,
) -> subprocess.CompletedProcess[str]:
    """``aftercare ARGS`` in ``cwd`` with the settings of ``env`` and ``settings`` (nothing else of ours)."""
    return subprocess.run(
        [*aftercare_command(), *args],
        cwd=cwd,
        env=clean_env(**{**(env or {}), **settings}),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def run_all(
    jobs: list[tuple[list[str], dict[str, str]]], cwd: Path, timeout: float = TIMEOUT
) -> list[subprocess.CompletedProcess[str]]:
    """Run several commands, as many at once as there are cores (each start costs half a second of imports).

    Bounded so that each process gets a core even on a busy machine: its own time stays far inside ``timeout``.
    """
    at_once = max(os.cpu_count() or 1, 1)
    results: list[subprocess.CompletedProcess[str]] = []
    for start in range(0, len(jobs), at_once):
        procs = [
            subprocess.Popen(
                [*aftercare_command(), *args],
                cwd=cwd,
                env=clean_env(**settings),
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for args, settings in jobs[start : start + at_once]
        ]
        try:
            for proc in procs:
                out, err = proc.communicate(timeout=timeout)
                results.append(subprocess.CompletedProcess(proc.args, proc.returncode, out, err))
        finally:
            for proc in procs:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()
    return results


def output(result: subprocess.CompletedProcess[str]) -> str:
    return result.stdout + result.stderr


def assert_stopped_cleanly(
    result: subprocess.CompletedProcess[str], *names: str, lines: int | None = None
) -> None:
    """Non-zero exit, no traceback, and each of ``names`` named on a line of its own."""
    assert result.returncode != 0, output(result)
    assert "Traceback" not in output(result), output(result)
    problem_lines = [line for line in result.stderr.splitlines() if line.strip()]
    for name in names:
        assert any(name in line for line in problem_lines), (name, result.stderr)
    if lines is not None:
        assert len(problem_lines) == lines, result.stderr


# -- missing and malformed settings ----------------------------------------------------------------


def test_serve_with_nothing_set_names_both_missing_settings(tmp_path: Path) -> None:
    result = run(["serve"], tmp_path)
    assert_stopped_cleanly(result, "SLACK_SIGNING_SECRET", "SLACK_BOT_TOKEN", lines=2)


MALFORMED = [
    ("AFTERCARE_TIMEZONE", "Mars/Base"),
    ("AFTERCARE_LOCALE", "fr"),
    ("SLACK_BOT_TOKEN", "abc"),
    ("PORT", "99999"),
    ("PORT", "http"),
    ("SLACK_SIGNING_SECRET", "not-a-secret"),
    ("SLACK_APP_TOKEN", "xoxb-wrong-kind"),
    ("SLACK_API_URL", "slack.com/api"),
    ("DATABASE_URL", "not a url"),
]


def test_serve_names_each_malformed_setting(tmp_path: Path) -> None:
    valid = {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": SECRET}
    jobs = [(["serve", "--host", "127.0.0.1"], {**valid, variable: value}) for variable, value in MALFORMED]
    for (variable, value), result in zip(MALFORMED, run_all(jobs, tmp_path), strict=True):
        assert_stopped_cleanly(result, variable, lines=1)
        if not variable.startswith("SLACK_") or variable == "SLACK_API_URL":
            assert value in result.stderr, result.stderr  # the value is shown, except secrets


def test_serve_names_every_malformed_setting_at_once(tmp_path: Path) -> None:
    result = run(
        ["serve"],
        tmp_path,
        AFTERCARE_TIMEZONE="Mars/Base",
        AFTERCARE_LOCALE="fr",
        SLACK_BOT_TOKEN="abc",
        PORT="99999",
    )
    assert_stopped_cleanly(
        result,
        "AFTERCARE_TIMEZONE",
        "AFTERCARE_LOCALE",
        "SLACK_BOT_TOKEN",
        "PORT",
        "SLACK_SIGNING_SECRET",
        lines=5,
    )


def test_serve_refuses_a_port_out_of_range(tmp_path: Path) -> None:
    result = run(
        ["serve", "--host", "127.0.0.1", "--port", "99999"],
        tmp_path,
        timeout=15,
        SLACK_BOT_TOKEN="xoxb-1",
        SLACK_SIGNING_SECRET=SECRET,
        SLACK_API_URL=f"http://127.0.0.1:{free_port()}/api/",
    )
    assert_stopped_cleanly(result, "port", lines=1)


def test_serve_on_a_busy_port_says_so(tmp_path: Path) -> None:
    fake = FakeSlack().start()
    try:
        with socket.socket() as busy:
            busy.bind(("127.0.0.1", 0))
            busy.listen()
            port = busy.getsockname()[1]
            result = run(
                ["serve", "--host", "127.0.0.1", "--port", str(port)],
                tmp_path,
                timeout=15,
                SLACK_BOT_TOKEN="xoxb-1",
                SLACK_SIGNING_SECRET=SECRET,
                SLACK_API_URL=fake.url,
            )
    finally:
        fake.stop()
    assert_stopped_cleanly(result, str(port))
    assert "aftercare:" in result.stderr


def test_serve_with_slack_unreachable_says_so(tmp_path: Path) -> None:
    api_url = f"http://127.0.0.1:{free_port()}/api/"
    result = run(
        ["serve", "--host", "127.0.0.1", "--port", str(free_port())],
        tmp_path,
        timeout=20,
        SLACK_BOT_TOKEN="xoxb-1",
        SLACK_SIGNING_SECRET=SECRET,
        SLACK_API_URL=api_url,
    )
    assert_stopped_cleanly(result, api_url)


def test_serve_with_a_refused_token_says_so(tmp_path: Path, fake_slack: FakeSlack) -> None:
    fake_slack.fail("auth.test", error="invalid_auth", times=5)
    result = run(
        ["serve", "--host", "127.0.0.1", "--port", str(free_port())],
        tmp_path,
        timeout=15,
        SLACK_BOT_TOKEN="xoxb-1",
        SLACK_SIGNING_SECRET=SECRET,
        SLACK_API_URL=fake_slack.url,
    )
    assert_stopped_cleanly(result, "invalid_auth")


def test_socket_without_app_token_names_it(tmp_path: Path) -> None:
    result = run(["socket"], tmp_path, SLACK_BOT_TOKEN="xoxb-1")
    assert_stopped_cleanly(result, "SLACK_APP_TOKEN", lines=1)


def test_socket_with_nothing_set_names_both_tokens(tmp_path: Path) -> None:
    result = run(["socket"], tmp_path)
    assert_stopped_cleanly(result, "SLACK_APP_TOKEN", "SLACK_BOT_TOKEN", lines=2)


# -- the database ----------------------------------------------------------------------------------


def test_a_database_that_cannot_be_opened_gives_one_clear_line(tmp_path: Path) -> None:
    urls = ["sqlite:////nonexistent-dir/x.db", "postgresql+psycopg://nobody:s3cret@127.0.0.1:1/x"]
    commands = [["db", "upgrade"], ["export"], ["serve", "--host", "127.0.0.1"]]
    cases = [(url, command) for url in urls for command in commands]
    slack = {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": SECRET}
    jobs = [(command, {**slack, "DATABASE_URL": url}) for url, command in cases]
    for case, result in zip(cases, run_all(jobs, tmp_path), strict=True):
        assert_stopped_cleanly(result, "database", lines=1)
        assert "s3cret" not in output(result), case
    assert not list(tmp_path.iterdir()), "nothing is written in the working directory"


def test_db_upgrade_creates_the_default_database_then_is_up_to_date(tmp_path: Path) -> None:
    first = run(["db", "upgrade"], tmp_path)
    assert first.returncode == 0, output(first)
    assert (tmp_path / "aftercare.db").is_file()
    db = Database(f"sqlite:///{tmp_path / 'aftercare.db'}")
    try:
        assert migrate.current_revision(db) == migrate.head_revision()
    finally:
        db.dispose()
    second = run(["db", "upgrade"], tmp_path)
    assert second.returncode == 0, output(second)
    assert "up to date" in second.stdout
    assert "up to date" not in first.stdout


def _upgrade_concurrently(tmp_path: Path, url: str, processes: int = 4) -> None:
    results = run_all([(["db", "upgrade"], {"DATABASE_URL": url})] * processes, tmp_path)
    assert all(r.returncode == 0 for r in results), [output(r) for r in results]
    assert not any("Traceback" in output(r) for r in results), [output(r) for r in results]
    db = Database(url)
    try:
        assert migrate.current_revision(db) == migrate.head_revision()
    finally:
        db.dispose()


def test_concurrent_db_upgrades_on_one_fresh_sqlite_file(tmp_path: Path) -> None:
    _upgrade_concurrently(tmp_path, f"sqlite:///{tmp_path / 'race.db'}")


def test_concurrent_db_upgrades_on_one_fresh_postgresql_database(tmp_path: Path) -> None:
    with scratch_postgres("aftercare_cli_test") as url:
        _upgrade_concurrently(tmp_path, url)


# -- export and manifest -----------------------------------------------------------------------------


def test_export_of_an_empty_database(tmp_path: Path) -> None:
    assert run(["db", "upgrade"], tmp_path).returncode == 0
    result = run(["export"], tmp_path)
    assert result.returncode == 0, output(result)
    data = json.loads(result.stdout)
    # The eight kinds of the public format; extensions (such as documents) may come with them.
    assert set(data) >= EXPORT_KEYS
    assert all(value == [] for value in data.values()), data


@pytest.mark.parametrize("command", [["export"], ["jobs", "run", "digest", "--dry-run"]])
def test_a_command_that_only_reads_creates_no_database(tmp_path: Path, command: list[str]) -> None:
    result = run(command, tmp_path)
    assert result.returncode == 1, output(result)
    assert (
        result.stderr
        == "aftercare: there is no database at aftercare.db (nothing to read; is DATABASE_URL right?)\n"
    )
    assert result.stdout == ""
    assert list(tmp_path.iterdir()) == []


def test_an_unreachable_database_is_named_in_the_drivers_words_without_its_class(tmp_path: Path) -> None:
    url = f"postgresql+psycopg://root@127.0.0.1:{free_port()}/test"
    result = run(["db", "upgrade"], tmp_path, DATABASE_URL=url)
    assert_stopped_cleanly(result, "cannot open the database", lines=1)
    assert "Connection refused" in result.stderr, result.stderr
    assert "OperationalError" not in result.stderr and "psycopg." not in result.stderr


def test_an_unsupported_database_says_which_are_supported(tmp_path: Path) -> None:
    result = run(["db", "upgrade"], tmp_path, DATABASE_URL="mysql://root@127.0.0.1/test")
    assert_stopped_cleanly(result, "DATABASE_URL", lines=1)
    assert "supports SQLite (sqlite:///aftercare.db) and PostgreSQL" in result.stderr
    assert "MySQLdb" not in result.stderr


def test_serve_help_shows_the_host_and_its_default(tmp_path: Path) -> None:
    result = run(["serve", "--help"], tmp_path)
    assert result.returncode == 0
    assert "address to listen on (default: 0.0.0.0, every interface)" in " ".join(result.stdout.split())


def test_export_csv_needs_out(tmp_path: Path) -> None:
    result = run(["export", "--format", "csv"], tmp_path)
    assert_stopped_cleanly(result, "--out", lines=1)
    assert result.stdout == ""


def test_manifest_for_http_mode(tmp_path: Path) -> None:
    result = run(["manifest", "--url", "https://x.example"], tmp_path)
    assert result.returncode == 0, output(result)
    assert result.stdout == render_manifest(url="https://x.example")
    manifest = yaml.safe_load(result.stdout)
    assert manifest["settings"]["socket_mode_enabled"] is False
    assert manifest["settings"]["event_subscriptions"]["request_url"] == "https://x.example/slack/events"
    assert manifest["settings"]["interactivity"]["request_url"] == "https://x.example/slack/events"
    assert {c["url"] for c in manifest["features"]["slash_commands"]} == {"https://x.example/slack/events"}
    assert not (tmp_path / "aftercare.db").exists(), "manifest needs no database"


def test_manifest_for_socket_mode_is_the_committed_one(tmp_path: Path) -> None:
    for args in (["manifest"], ["manifest", "--socket"]):
        result = run(args, tmp_path)
        assert result.returncode == 0, output(result)
        assert result.stdout == (ROOT / "manifest.yml").read_text(encoding="utf-8")


def test_manifest_refuses_a_url_that_is_not_http(tmp_path: Path) -> None:
    result = run(["manifest", "--url", "x.example"], tmp_path)
    assert_stopped_cleanly(result, "--url", lines=1)


# -- check -------------------------------------------------------------------------------------------


def check_settings(fake: FakeSlack, **overrides: str) -> dict[str, str]:
    settings = {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": SECRET, "SLACK_API_URL": fake.url}
    settings.update(overrides)
    return {key: value for key, value in settings.items() if value}


@pytest.fixture
def migrated(tmp_path: Path, sqlite_template: Path) -> Path:
    """``aftercare.db`` in the working directory, already migrated (quicker than running ``db upgrade``)."""
    path = tmp_path / "aftercare.db"
    shutil.copy(sqlite_template, path)
    return path


def problem_lines(result: subprocess.CompletedProcess[str]) -> list[str]:
    return [line for line in result.stdout.splitlines() if line.startswith("PROBLEM")]


def test_check_all_good(tmp_path: Path, fake_slack: FakeSlack) -> None:
    assert run(["db", "upgrade"], tmp_path).returncode == 0
    result = run(["check"], tmp_path, check_settings(fake_slack))
    assert result.returncode == 0, output(result)
    assert problem_lines(result) == []
    [auth] = fake_slack.calls_to("auth.test")
    assert auth.headers.get("authorization") == "Bearer xoxb-1"


@pytest.mark.parametrize(
    "missing",
    [("chat:write", "users:read", "files:read", "groups:read"), ("reactions:read", "channels:history")],
)
def test_check_reports_missing_scopes(
    tmp_path: Path, fake_slack: FakeSlack, migrated: Path, missing: tuple[str, ...]
) -> None:
    fake_slack.state.scopes = tuple(s for s in ids.BOT_SCOPES if s not in missing)
    result = run(["check"], tmp_path, check_settings(fake_slack))
    assert result.returncode == 1, output(result)
    [line] = problem_lines(result)
    for scope in missing:
        assert f"{scope} (" in line, line
    for scope in fake_slack.state.scopes:
        assert f"{scope} (" not in line, line
    assert "Traceback" not in output(result)


def test_check_with_slack_unreachable_prints_only_its_own_lines(
    tmp_path: Path, fake_slack: FakeSlack
) -> None:
    settings = check_settings(fake_slack, SLACK_API_URL=f"http://127.0.0.1:{free_port()}/api/")
    result = run(["check"], tmp_path, settings)
    assert result.returncode == 1, output(result)
    [line] = problem_lines(result)
    assert line.startswith("PROBLEM  Slack could not be reached at http://127.0.0.1:")
    assert result.stderr == "", result.stderr  # none of slack_sdk's own retry and error lines


def test_check_reports_a_refused_token(tmp_path: Path, fake_slack: FakeSlack, migrated: Path) -> None:
    fake_slack.fail("auth.test", error="invalid_auth")
    result = run(["check"], tmp_path, check_settings(fake_slack))
    assert result.returncode == 1, output(result)
    [line] = problem_lines(result)
    assert "invalid_auth" in line
    assert "Traceback" not in output(result)


def test_check_reports_every_problem_not_only_the_first(tmp_path: Path, fake_slack: FakeSlack) -> None:
    # No `db upgrade` first: check says the database will be created at start, and creates nothing itself.
    result = run(
        ["check"], tmp_path, check_settings(fake_slack, SLACK_BOT_TOKEN="", AFTERCARE_TIMEZONE="Mars/Base")
    )
    assert result.returncode == 1, output(result)
    problems = problem_lines(result)
    assert any("AFTERCARE_TIMEZONE" in line and "Mars/Base" in line for line in problems), problems
    assert any("SLACK_BOT_TOKEN" in line for line in problems), problems
    assert len(problems) == 2, problems
    assert "does not exist yet" in output(result)
    assert not (tmp_path / "aftercare.db").exists()
    assert "Traceback" not in output(result)
