"""Schema migrations with Alembic, run under a lock so that processes starting together are safe."""

from __future__ import annotations

from importlib import resources

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, text

from storage.db import Database

# Arbitrary but fixed: the PostgreSQL advisory lock taken while migrating.
_ADVISORY_LOCK_ID = 7_311_420_615


def alembic_config(connection: Connection | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(resources.files("storage") / "migrations"))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(db: Database) -> str | None:
    with db.engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(db: Database, revision: str = "head") -> None:
    """Bring the schema to ``revision``; a no-op when it is already there."""
    if db.is_sqlite:
        # BEGIN IMMEDIATE takes SQLite's write lock: a second process waits, then finds nothing to do.
        with db.write_engine.connect() as conn, conn.begin():
            command.upgrade(alembic_config(conn), revision)
        return
    with db.engine.connect() as conn:
        conn.execute(text("SELECT pg_advisory_lock(:id)"), {"id": _ADVISORY_LOCK_ID})
        conn.commit()
        try:
            with conn.begin():
                command.upgrade(alembic_config(conn), revision)
        finally:
            conn.execute(text("SELECT pg_advisory_unlock(:id)"), {"id": _ADVISORY_LOCK_ID})
            conn.commit()


def pending(db: Database) -> bool:
    return current_revision(db) != head_revision()
