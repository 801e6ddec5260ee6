"""sla_warned: the service-level targets whose warning was sent, stored on the record like its breaches

Revision ID: 0011_sla_warned
Revises: 0010_intake
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = "0011_sla_warned"
down_revision = "0010_intake"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("records", schema=None) as batch_op:
        batch_op.add_column(sa.Column("sla_warned", sa.JSON(), server_default="[]", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("records", schema=None) as batch_op:
        batch_op.drop_column("sla_warned")
