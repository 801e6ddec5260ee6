"""customers and service levels: intake settings, service-level clocks, channel messages, issue surveys

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("projects", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("intake", sa.String(length=8), server_default="suggest", nullable=False)
        )
        batch_op.add_column(
            sa.Column("intake_emoji", sa.String(length=64), server_default="ticket", nullable=False)
        )
        batch_op.add_column(
            sa.Column("thread_updates", sa.Boolean(), server_default=sa.true(), nullable=False)
        )
        batch_op.add_column(
            sa.Column("customer_report", sa.Boolean(), server_default=sa.true(), nullable=False)
        )
        batch_op.add_column(sa.Column("issue_csat", sa.Boolean(), server_default=sa.true(), nullable=False))
        batch_op.add_column(
            sa.Column(
                "business_hours", sa.String(length=200), server_default="Mon-Fri 09:00-18:00", nullable=False
            )
        )
        batch_op.add_column(sa.Column("holidays", sa.JSON(), server_default="[]", nullable=False))
        batch_op.add_column(sa.Column("sla", sa.JSON(), server_default="{}", nullable=False))
        batch_op.add_column(sa.Column("removed_contacts", sa.JSON(), server_default="[]", nullable=False))

    with op.batch_alter_table("records", schema=None) as batch_op:
        batch_op.add_column(sa.Column("requester_external", sa.Boolean(), nullable=True))
        batch_op.add_column(sa.Column("sla_start", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("first_response_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("first_response_due", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("resolution_due", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("sla_paused_minutes", sa.Integer(), server_default="0", nullable=False))
        batch_op.add_column(sa.Column("sla_breached", sa.JSON(), server_default="[]", nullable=False))
        batch_op.create_unique_constraint(
            "uq_records_source_message", ["team_id", "source_channel_id", "source_ts"]
        )

    op.create_table(
        "channel_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("channel_id", sa.String(length=32), nullable=False),
        sa.Column("ts", sa.String(length=32), nullable=False),
        sa.Column("thread_ts", sa.String(length=32), nullable=True),
        sa.Column("project_id", sa.Integer(), nullable=True),
        sa.Column("user_id", sa.String(length=32), nullable=True),
        sa.Column("is_bot", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("internal", sa.Boolean(), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("file_name", sa.String(length=255), nullable=True),
        sa.Column("deleted", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("triage", sa.String(length=16), nullable=True),
        sa.Column("record_id", sa.Integer(), nullable=True),
        sa.Column("decided_by", sa.String(length=32), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_channel_messages_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["record_id"],
            ["records.id"],
            name=op.f("fk_channel_messages_record_id_records"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_channel_messages")),
        sa.UniqueConstraint(
            "team_id", "channel_id", "ts", name=op.f("uq_channel_messages_team_id_channel_id_ts")
        ),
    )
    with op.batch_alter_table("channel_messages", schema=None) as batch_op:
        batch_op.create_index(
            "ix_channel_messages_thread", ["team_id", "channel_id", "thread_ts"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_channel_messages_project_id"), ["project_id"], unique=False)

    with op.batch_alter_table("surveys", schema=None) as batch_op:
        batch_op.add_column(sa.Column("record_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("resolution", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_surveys_record_id_records"), "records", ["record_id"], ["id"], ondelete="CASCADE"
        )


def downgrade() -> None:
    with op.batch_alter_table("surveys", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_surveys_record_id_records"), type_="foreignkey")
        batch_op.drop_column("resolution")
        batch_op.drop_column("record_id")
    op.drop_table("channel_messages")
    with op.batch_alter_table("records", schema=None) as batch_op:
        batch_op.drop_constraint("uq_records_source_message", type_="unique")
        for name in (
            "sla_breached",
            "sla_paused_minutes",
            "resolved_at",
            "resolution_due",
            "first_response_due",
            "first_response_at",
            "sla_start",
            "requester_external",
        ):
            batch_op.drop_column(name)
    with op.batch_alter_table("projects", schema=None) as batch_op:
        for name in (
            "removed_contacts",
            "sla",
            "holidays",
            "business_hours",
            "issue_csat",
            "customer_report",
            "thread_updates",
            "intake_emoji",
            "intake",
        ):
            batch_op.drop_column(name)
