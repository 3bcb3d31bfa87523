"""operations are claimed before a poll, priced at submit, charged once; creates are paced

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 14:10:00

- clips.quoted_charge: the price fixed at submit time from what was submitted (model,
  seconds, resolution, audio); the poller charges exactly this.
- clips.poll_owner: the process (see orchestrator/state/owners.py) that claimed the
  operation's current poll; next_poll_at doubles as the claim's expiry.
- tasks.lease_process: the process holding a task's lease, so a restarted daemon can
  re-adopt the leases of its own dead predecessor at once.
- cost_ledger.operation_name is unique: one charge per provider operation. Duplicate
  rows left by the two-replica bug (issue 10, case 11) are removed first and their
  amounts taken off the task and clip totals.
- provider_pacing: one row per model, the cluster-wide create slots and 429 back-off.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_DUPLICATE = (
    "d.operation_name IS NOT NULL AND d.id > "
    "(SELECT min(k.id) FROM cost_ledger k WHERE k.operation_name = d.operation_name)"
)


def upgrade() -> None:
    with op.batch_alter_table("clips") as batch:
        batch.add_column(sa.Column("quoted_charge", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("poll_owner", sa.String(200), nullable=True))
    with op.batch_alter_table("tasks") as batch:
        batch.add_column(sa.Column("lease_process", sa.String(200), nullable=True))
    # Charges counted twice before this revision: off the totals, then out of the ledger.
    op.execute(
        "UPDATE tasks SET cost_usd = cost_usd - COALESCE((SELECT sum(d.usd) FROM cost_ledger d "
        f"WHERE d.task_id = tasks.id AND {_DUPLICATE}), 0)"
    )
    op.execute(
        "UPDATE clips SET cost_usd = cost_usd - COALESCE((SELECT sum(d.usd) FROM cost_ledger d "
        f"WHERE d.clip_id = clips.id AND {_DUPLICATE}), 0)"
    )
    op.execute(
        f"DELETE FROM cost_ledger WHERE id IN (SELECT d.id FROM cost_ledger d WHERE {_DUPLICATE})"
    )
    with op.batch_alter_table("cost_ledger") as batch:
        batch.create_unique_constraint("uq_cost_ledger_operation_name", ["operation_name"])
    op.create_table(
        "provider_pacing",
        sa.Column("key", sa.String(200), primary_key=True),
        sa.Column("version", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("grants", sa.JSON(), nullable=False, server_default="[]"),
        sa.Column("next_slot_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("backoff_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("backoff_reason", sa.Text(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("key", name="pk_provider_pacing"),
    )


def downgrade() -> None:
    op.drop_table("provider_pacing")
    with op.batch_alter_table("cost_ledger") as batch:
        batch.drop_constraint("uq_cost_ledger_operation_name", type_="unique")
    with op.batch_alter_table("tasks") as batch:
        batch.drop_column("lease_process")
    with op.batch_alter_table("clips") as batch:
        batch.drop_column("poll_owner")
        batch.drop_column("quoted_charge")
