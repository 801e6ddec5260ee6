"""closing report through the ledger; guests in the people directory

The file a delivery uploaded (so an in-doubt upload is looked up, never made twice),
and whether a person is a guest (``is_restricted`` / ``is_ultra_restricted``; null:
not known yet), which decides whether a channel counts as shared.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.add_column(sa.Column("file_id", sa.String(length=32), nullable=True))
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.add_column(sa.Column("is_guest", sa.Boolean(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.drop_column("is_guest")
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.drop_column("file_id")
