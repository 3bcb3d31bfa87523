"""review history, settle time, acted-on lines per gate, clip generated time

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 09:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "review_visits",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("task_id", sa.Integer(), nullable=False),
        sa.Column("gate", sa.String(length=20), nullable=False),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("verdict", sa.String(length=40), nullable=True),
        sa.Column("verdict_by", sa.String(length=64), nullable=True),
        sa.Column("verdict_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("duration_s", sa.Float(), nullable=True),
        sa.Column("named", sa.JSON(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("history_written", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["task_id"],
            ["tasks.id"],
            name=op.f("fk_review_visits_task_id_tasks"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_visits")),
    )
    with op.batch_alter_table("review_visits", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_review_visits_task_id"), ["task_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_review_visits_verdict_at"), ["verdict_at"], unique=False
        )

    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.add_column(sa.Column("review_input_hash", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("review_input_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("review_settled_hash", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("review_noted_hash", sa.String(length=64), nullable=True))
        batch_op.add_column(
            sa.Column("review_waiting_since", sa.DateTime(timezone=True), nullable=True)
        )

    with op.batch_alter_table("clips", schema=None) as batch_op:
        batch_op.add_column(sa.Column("generated_at", sa.DateTime(timezone=True), nullable=True))

    with op.batch_alter_table("review_lines", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("stage", sa.String(length=20), server_default="", nullable=False)
        )
        batch_op.add_column(sa.Column("retired_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("review_lines", schema=None) as batch_op:
        batch_op.drop_column("retired_at")
        batch_op.drop_column("stage")
    with op.batch_alter_table("clips", schema=None) as batch_op:
        batch_op.drop_column("generated_at")
    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.drop_column("review_waiting_since")
        batch_op.drop_column("review_noted_hash")
        batch_op.drop_column("review_settled_hash")
        batch_op.drop_column("review_input_at")
        batch_op.drop_column("review_input_hash")
    with op.batch_alter_table("review_visits", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_review_visits_verdict_at"))
        batch_op.drop_index(batch_op.f("ix_review_visits_task_id"))
    op.drop_table("review_visits")
