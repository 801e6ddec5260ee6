"""records life cycle, meetings, people, project settings

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "people",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=True),
        sa.Column("locale", sa.String(length=16), nullable=True),
        sa.Column("is_admin", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("is_bot", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("is_deleted", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("home_team_id", sa.String(length=32), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("notify_assignments", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_people")),
        sa.UniqueConstraint("team_id", "user_id", name=op.f("uq_people_team_id_user_id")),
    )
    op.create_table(
        "meetings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=24), nullable=False),
        sa.Column("title", sa.String(length=255), nullable=False),
        sa.Column("held_on", sa.Date(), nullable=False),
        sa.Column("attendees", sa.JSON(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("decisions", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("source_url", sa.String(length=500), nullable=True),
        sa.Column("card_channel_id", sa.String(length=32), nullable=True),
        sa.Column("card_ts", sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(
            ["project_id"], ["projects.id"], name=op.f("fk_meetings_project_id_projects"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_meetings")),
        sa.UniqueConstraint("project_id", "seq", name=op.f("uq_meetings_project_id_seq")),
    )
    with op.batch_alter_table("meetings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_meetings_team_id"), ["team_id"], unique=False)

    with op.batch_alter_table("history", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("scope_change", sa.Boolean(), server_default=sa.false(), nullable=False)
        )

    with op.batch_alter_table("projects", schema=None) as batch_op:
        batch_op.add_column(sa.Column("digest_weekday", sa.Integer(), server_default="0", nullable=False))
        batch_op.add_column(
            sa.Column("digest_time", sa.String(length=5), server_default="09:00", nullable=False)
        )
        batch_op.add_column(sa.Column("review_weekday", sa.Integer(), server_default="3", nullable=False))
        batch_op.add_column(
            sa.Column("review_time", sa.String(length=5), server_default="10:00", nullable=False)
        )
        batch_op.add_column(sa.Column("review_every_weeks", sa.Integer(), server_default="1", nullable=False))
        batch_op.add_column(
            sa.Column("nudges_enabled", sa.Boolean(), server_default=sa.true(), nullable=False)
        )
        batch_op.add_column(
            sa.Column("escalate_after_days", sa.Integer(), server_default="3", nullable=False)
        )
        batch_op.add_column(sa.Column("survey_pulse_days", sa.Integer(), server_default="0", nullable=False))
        batch_op.add_column(sa.Column("survey_open_days", sa.Integer(), server_default="7", nullable=False))
        batch_op.add_column(
            sa.Column("survey_include_team", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.add_column(sa.Column("closing_summary", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("lessons_learned", sa.Text(), nullable=True))

    with op.batch_alter_table("records", schema=None) as batch_op:
        batch_op.add_column(sa.Column("meeting_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("snoozed_until", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("last_reviewed_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_records_meeting_id_meetings"),
            "meetings",
            ["meeting_id"],
            ["id"],
            ondelete="SET NULL",
        )


def downgrade() -> None:
    with op.batch_alter_table("records", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_records_meeting_id_meetings"), type_="foreignkey")
        batch_op.drop_column("last_reviewed_at")
        batch_op.drop_column("snoozed_until")
        batch_op.drop_column("meeting_id")

    with op.batch_alter_table("projects", schema=None) as batch_op:
        batch_op.drop_column("lessons_learned")
        batch_op.drop_column("closing_summary")
        batch_op.drop_column("survey_include_team")
        batch_op.drop_column("survey_open_days")
        batch_op.drop_column("survey_pulse_days")
        batch_op.drop_column("escalate_after_days")
        batch_op.drop_column("nudges_enabled")
        batch_op.drop_column("review_every_weeks")
        batch_op.drop_column("review_time")
        batch_op.drop_column("review_weekday")
        batch_op.drop_column("digest_time")
        batch_op.drop_column("digest_weekday")

    with op.batch_alter_table("history", schema=None) as batch_op:
        batch_op.drop_column("scope_change")

    with op.batch_alter_table("meetings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_meetings_team_id"))

    op.drop_table("meetings")
    op.drop_table("people")
