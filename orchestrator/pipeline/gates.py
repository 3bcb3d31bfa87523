"""Arriving at a review gate: the round, auto-approval, and what the reviewer is told.

Each stage module calls `reach_gate` at the end of its `run` with its statuses and
its gate hint; leaving a gate is the step runner's (pipeline/steps.py).
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from notion_sync.ops import BlockSpec
from orchestrator.channels import ChannelConfig
from orchestrator.db.models import Task
from orchestrator.pipeline.history import AUTO, close_visit, open_visit, write_history
from orchestrator.pipeline.notion_out import blocks, comment, move, update_task_fields
from orchestrator.state.status import Stage

__all__ = ["reach_gate", "review_rounds_used"]


async def reach_gate(
    session: AsyncSession,
    task: Task,
    stage: Stage,
    channel: ChannelConfig,
    *,
    headline: str,
    body: Sequence[BlockSpec] = (),
    hint: str,
) -> int:
    """Working -> Ready; then auto-approve, or show the round and ask the owner.

    Returns the review round of this stage (1 for the first arrival).
    """
    round_no = int(task.rounds.get(stage.name, 0)) + 1
    task.rounds = {**task.rounds, stage.name: round_no}
    await move(session, task, stage.ready, headline)
    now = task.status_changed_at
    await open_visit(session, task, stage.name, round_no, now)
    if stage.name in channel.auto_approve:
        await move(session, task, stage.approved, f"auto-approved by channel {channel.name}")
        visit = await close_visit(session, task, AUTO, None, now)
        if visit is not None:
            write_history(session, task, visit, f"channel {channel.name}")
        return round_no
    task.review_started_at = now
    task.review_completed_at = None
    update_task_fields(
        session,
        task,
        review_started=now.isoformat(),
        review_completed=None,
        # Keyframes and storyboards are paid too: the reviewer sees the total so far.
        cost=round(task.cost_usd, 4),
    )
    title = f"{stage.name.capitalize()} review — round {round_no}"
    blocks(session, task, [BlockSpec(kind="heading_2", text=title), *body])
    comment(session, task, f"{headline} {hint}")
    return round_no


def review_rounds_used(task: Task, stage: Stage) -> int:
    """Regenerations already made at this stage (gate arrivals after the first)."""
    return max(0, int(task.rounds.get(stage.name, 0)) - 1)
