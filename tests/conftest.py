"""Fixtures: a migrated database (SQLite always; PostgreSQL when reachable), the fake Slack API, the harness."""

from __future__ import annotations

import os
import shutil
import socket
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest
from psycopg import sql
from sqlalchemy import make_url, text

from bot.demo.simulator import FakeSlack
from storage import migrate
from storage.db import Database
from storage.models import Base
from tests.harness import SlackHarness, seed_workspace

DEFAULT_PG = "postgresql+psycopg://root@127.0.0.1:5432/test"
_pg_checked: dict[str, bool] = {}


def postgres_url() -> str | None:
    """The PostgreSQL to test against: ``AFTERCARE_TEST_POSTGRES`` (``off`` to skip), else the local one if up."""
    url = os.environ.get("AFTERCARE_TEST_POSTGRES", DEFAULT_PG)
    if url.lower() in ("", "off", "0", "no"):
        return None
    if url not in _pg_checked:
        try:
            probe = Database(url)
            with probe.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            probe.dispose()
            _pg_checked[url] = True
        except Exception:
            _pg_checked[url] = False
    return url if _pg_checked[url] else None


def free_port() -> int:
    """A TCP port of 127.0.0.1 that nothing listens on just now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def scratch_postgres(prefix: str) -> Iterator[str]:
    """A PostgreSQL database of its own (created and dropped here), apart from the suite's ``test`` database."""
    base = postgres_url()
    if base is None:
        pytest.skip("PostgreSQL is not reachable (set AFTERCARE_TEST_POSTGRES to a URL)")
    name = f"{prefix}_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    admin = make_url(base).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield make_url(base).set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    db = Database(f"sqlite:///{path}")
    migrate.upgrade(db)
    with db.engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    db.dispose()
    return path


@contextmanager
def migrated_schema(prefix: str) -> Iterator[str | None]:
    """A private, migrated PostgreSQL schema (its URL), dropped afterwards; None when PostgreSQL is away.

    One schema per use, so parallel runs against one database never collide.
    """
    base = postgres_url()
    if base is None:
        yield None
        return
    schema = f"{prefix}_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = Database(base)
    with admin.engine.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = (
        make_url(base)
        .update_query_dict({"options": f"-csearch_path={schema}"})
        .render_as_string(hide_password=False)
    )
    db = Database(url)
    migrate.upgrade(db)
    db.dispose()
    try:
        yield url
    finally:
        with admin.engine.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(scope="session")
def pg_migrated() -> Iterator[str | None]:
    with migrated_schema("aftercare_test") as url:
        yield url


def truncate_all(db: Database) -> None:
    """Empty every table of a PostgreSQL database (ids start again at 1)."""
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with db.engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path) -> Iterator[Database]:
    if request.param == "sqlite":
        path = tmp_path / "aftercare.db"
        shutil.copy(sqlite_template, path)
        database = Database(f"sqlite:///{path}")
    else:
        url = request.getfixturevalue("pg_migrated")
        if url is None:
            pytest.skip("PostgreSQL is not reachable (set AFTERCARE_TEST_POSTGRES to a URL)")
        database = Database(url)
        truncate_all(database)
    yield database
    database.dispose()


@pytest.fixture
def fake_slack() -> Iterator[FakeSlack]:
    fake = FakeSlack().start()
    seed_workspace(fake)
    yield fake
    fake.stop()
    # Every message and view the bot sent keeps Block Kit's rules, as real Slack would insist.
    assert not fake.invalid, fake.invalid


@pytest.fixture
def slack(fake_slack: FakeSlack, db: Database) -> Iterator[SlackHarness]:
    harness = SlackHarness(fake_slack, db)
    fake_slack.reset_calls()  # forget auth.test at start-up
    yield harness
    harness.close()


@pytest.fixture
def project(slack: SlackHarness) -> SlackHarness:
    """A harness with project ACME created in channel CPROJ."""
    response = slack.command("/project", "new ACME Acme Corp after-sales")
    assert response.status == 200
    slack.fake.reset_calls()
    return slack


@pytest.fixture
def home_ready(slack: SlackHarness) -> SlackHarness:
    """A workspace whose directory is synced, with Alice's App Home drawn once (then calls forgotten)."""
    from tests.home.test_app_home import open_home

    slack.fake.responders["users.list"] = lambda args: {
        "ok": True,
        "members": [{"id": "UALICE", "name": "a"}],
    }
    open_home(slack)
    slack.fake.reset_calls()
    return slack
