"""Alembic environment: always run with a connection handed over by ``storage.migrate``."""

from alembic import context

import storage.slack_tables  # noqa: F401  (registers slack_sdk tables)
from storage.models import Base

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - only reachable through the alembic CLI
    raise RuntimeError("run migrations with `aftercare db upgrade`")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
