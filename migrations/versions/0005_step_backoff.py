"""step back-off persisted per task; task pages in the trash hold their writes

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 14:10:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("tasks") as batch:
        batch.add_column(
            sa.Column("step_failures", sa.Integer(), nullable=False, server_default="0")
        )
        batch.add_column(sa.Column("step_failure_status", sa.String(40), nullable=True))
        batch.add_column(sa.Column("step_failing_since", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("step_failure_error", sa.Text(), nullable=True))
        batch.add_column(sa.Column("step_failure_provider", sa.String(40), nullable=True))
        batch.add_column(sa.Column("page_trashed_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("held", sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("held")
    with op.batch_alter_table("tasks") as batch:
        batch.drop_column("page_trashed_at")
        batch.drop_column("step_failure_provider")
        batch.drop_column("step_failure_error")
        batch.drop_column("step_failing_since")
        batch.drop_column("step_failure_status")
        batch.drop_column("step_failures")
