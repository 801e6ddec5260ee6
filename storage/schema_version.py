"""Is the schema at the migrations' head? Answered without Alembic: for commands that only read.

Alembic's own answer (:func:`storage.migrate.head_revision`) imports Alembic and loads every migration
script, about a third of a second before a dry run could start. The scripts name their revision and the
one before it in two plain assignments (``revision = "0003"``, ``down_revision = "0002"``); the head is the
revision no other names as the one before it. The stored revision is one row of ``alembic_version``.
"""

from __future__ import annotations

import re
from importlib import resources

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from storage.db import Database

_ASSIGNMENT = re.compile(r"^(revision|down_revision)\s*(?::[^=]*)?=\s*(?:[\"']([^\"']*)[\"']|None)\s*$", re.M)


def script_heads() -> set[str] | None:
    """The revisions of the migration scripts that no other script follows; None when a script does not
    name them in the plain form (a merge's tuple, say): then only Alembic can tell."""
    revisions: set[str] = set()
    followed: set[str] = set()
    for script in (resources.files("storage") / "migrations" / "versions").iterdir():
        if not script.name.endswith(".py") or script.name.startswith("__"):
            continue
        found = dict(_ASSIGNMENT.findall(script.read_text(encoding="utf-8")))
        if not found.get("revision") or "down_revision" not in found:
            return None
        revisions.add(found["revision"])
        if found["down_revision"]:
            followed.add(found["down_revision"])
    return revisions - followed


def stored_revisions(db: Database) -> set[str]:
    """The revisions the database says it is at (none: it was never migrated)."""
    try:
        with db.engine.connect() as conn:
            return {str(row[0]) for row in conn.execute(text("SELECT version_num FROM alembic_version"))}
    except DBAPIError:  # no alembic_version table
        return set()


def is_current(db: Database) -> bool:
    """The database is at the head of the migration scripts (a dry run can read it as it is)."""
    heads = script_heads()
    if heads is None:
        from storage.migrate import pending  # Alembic: only when the scripts cannot be read plainly

        return not pending(db)
    return bool(heads) and stored_revisions(db) == heads
