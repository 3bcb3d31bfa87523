"""keyframes remember their image type (PNG or JPEG)

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01 12:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Every keyframe made before this revision was written as PNG.
    with op.batch_alter_table("keyframes") as batch:
        batch.add_column(
            sa.Column("mime_type", sa.String(length=40), nullable=False, server_default="image/png")
        )


def downgrade() -> None:
    with op.batch_alter_table("keyframes") as batch:
        batch.drop_column("mime_type")
