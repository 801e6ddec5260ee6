"""directory sync state: the users.list cursor and the next allowed instant, per workspace

Revision ID: 0008
Revises: 0006
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "directory_syncs",
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("cursor", sa.String(length=1024), nullable=True),
        sa.Column("complete", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("stored", sa.Integer(), server_default="0", nullable=False),
        sa.Column("next_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("error", sa.String(length=100), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("team_id", name=op.f("pk_directory_syncs")),
    )
    # Directories filled before this revision (by the old sync) count as synced.
    people = sa.table("people", sa.column("team_id", sa.String))
    syncs = sa.table(
        "directory_syncs",
        sa.column("team_id", sa.String),
        sa.column("complete", sa.Boolean),
        sa.column("stored", sa.Integer),
        sa.column("updated_at", sa.DateTime(timezone=True)),
    )
    op.execute(
        syncs.insert().from_select(
            ["team_id", "complete", "stored", "updated_at"],
            sa.select(people.c.team_id, sa.true(), sa.func.count(), sa.func.current_timestamp()).group_by(
                people.c.team_id
            ),
        )
    )


def downgrade() -> None:
    op.drop_table("directory_syncs")
