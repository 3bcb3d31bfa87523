"""Arriving at a review gate, and leaving it when a human (or the channel) approves."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from notion_sync.ops import BlockSpec
from orchestrator.channels import ChannelConfig
from orchestrator.db.models import Task
from orchestrator.pipeline.notion_out import blocks, comment, move, update_task_fields
from orchestrator.state.status import STAGES, Stage, Status

__all__ = ["GATE_HINTS", "reach_gate", "review_rounds_used", "stage_of"]

# What the reviewer can do at each gate, written into the gate comment.
GATE_HINTS: dict[str, str] = {
    "storyboard": (
        "Read the shots below. Set Status to Storyboard Approved to go on, or to "
        "Storyboard Error and write in Error Log which shots to re-plan "
        "(e.g. `Regenerate: shots 2, 3 - more suspense`)."
    ),
    "keyframes": (
        "Look at the keyframes below. Set Status to Keyframes Approved, or to Keyframes "
        "Error and name the keyframes to redo in Error Log (e.g. `keyframe 3: warmer light`)."
    ),
    "video": (
        "Watch the clips below or in the Videos table. Set Status to Video Approved, or to "
        "Video Error and write in Error Log which clips to regenerate "
        "(e.g. `Regenerate: clips 2, 3 - too dark`), or set a clip row to Regenerate. "
        "Keyframes Error or Storyboard Error send the named shots further back."
    ),
    "audio": (
        "Listen to the narration. Set Status to Audio Approved, or to Audio Error and name "
        "the clips whose narration to redo in Error Log (e.g. `clip 4: slower`)."
    ),
    "final": ("Watch the final video. Set Status to Done, or to Final Error to assemble it again."),
}


def stage_of(status: Status) -> Stage:
    for stage in STAGES:
        if status in (stage.working, stage.ready, stage.approved, stage.error):
            return stage
    raise KeyError(status)


async def reach_gate(
    session: AsyncSession,
    task: Task,
    stage: Stage,
    channel: ChannelConfig,
    *,
    headline: str,
    body: Sequence[BlockSpec] = (),
) -> int:
    """Working -> Ready; then auto-approve, or show the round and ask the owner.

    Returns the review round of this stage (1 for the first arrival).
    """
    round_no = int(task.rounds.get(stage.name, 0)) + 1
    task.rounds = {**task.rounds, stage.name: round_no}
    await move(session, task, stage.ready, headline)
    now = task.status_changed_at
    if stage.name in channel.auto_approve:
        await move(session, task, stage.approved, f"auto-approved by channel {channel.name}")
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
    comment(session, task, f"{headline} {GATE_HINTS[stage.name]}")
    return round_no


def review_rounds_used(task: Task, stage: Stage) -> int:
    """Regenerations already made at this stage (gate arrivals after the first)."""
    return max(0, int(task.rounds.get(stage.name, 0)) - 1)
