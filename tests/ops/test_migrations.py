"""Alembic owns every table, and the migrations produce exactly what the models declare."""

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from slack_sdk import WebClient
from sqlalchemy import inspect

import storage.slack_tables  # noqa: F401  (registers slack_sdk's tables on the metadata)
from storage import migrate
from storage.db import Database
from storage.models import Base
from storage.schema_version import is_current, script_heads


def test_migrated_schema_matches_the_models(db: Database) -> None:
    with db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
    assert diff == []


def test_slack_sdk_tables_are_created_by_migrations(db: Database) -> None:
    tables = set(inspect(db.engine).get_table_names())
    assert {"slack_installations", "slack_bots", "slack_oauth_states", "alembic_version"} <= tables
    assert migrate.current_revision(db) == migrate.head_revision()


def test_upgrade_is_idempotent(db: Database) -> None:
    migrate.upgrade(db)
    migrate.upgrade(db)
    assert not migrate.pending(db)


def test_check_reports_pending_migrations(tmp_path: Path) -> None:
    from bot.ops.check import run_check
    from bot.ops.settings import Settings

    url = f"sqlite:///{tmp_path / 'old.db'}"
    old = Database(url)
    migrate.upgrade(old, "0001")
    old.dispose()
    settings = Settings(database_url=url, _env_file=None)  # type: ignore[call-arg]

    def no_slack(token: str) -> WebClient:
        raise AssertionError("without a token, Slack is not asked")

    report = run_check(settings, client=no_slack)
    assert any("run `aftercare db upgrade`" in p and "0001" in p for p in report.problems), report.problems


def test_the_dry_runs_head_is_alembics(db: Database, tmp_path: Path) -> None:
    """A dry run reads the migrations' head from the scripts' text (no Alembic): it must be Alembic's head,
    and tell a migrated database from one behind it."""
    assert script_heads() == {migrate.head_revision()}
    assert is_current(db)
    behind = Database(f"sqlite:///{tmp_path / 'behind.db'}")
    migrate.upgrade(behind, "0001")
    assert not is_current(behind)
    behind.dispose()
    never = Database(f"sqlite:///{tmp_path / 'never.db'}")
    assert not is_current(never)
    never.dispose()
