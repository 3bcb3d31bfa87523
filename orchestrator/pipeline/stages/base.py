"""The interface every stage module exports, and the review types it works with.

A stage module (storyboard.py, keyframes.py, ...) is a plain module with these
names; `StageModule` spells them out so mypy checks each module where
`stages.STAGE_MODULES` lists it:

- `STAGE`: its statuses (working, ready, approved, error) from state.status;
- `GATE_HINT`: what the reviewer can do at its gate (part of the gate comment);
- `run(ctx, task_id)`: do the work, end at the gate; returns when to look again
  (None: at the gate, or look again at once);
- `redo_targets(review)`: what an *X Error* review names;
- `mark_redo(session, review, targets)`: mark those items for regeneration;
- `redo_cost(providers, task, n)`: what redoing n items costs (checked against the
  channel budget before anything is marked);
- `approve(session, task)`: what approving its gate seals, before the next stage.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from orchestrator.db.models import Clip, Keyframe, Task
from orchestrator.pipeline.context import PipelineContext, ProviderSet
from orchestrator.review import RedoPlan
from orchestrator.state.status import Stage

__all__ = ["Redo", "Review", "StageModule", "planned_redo"]


@dataclass(frozen=True)
class Review:
    """One *X Error* review being applied: the task, what it is made of, the new lines.

    `plan` is what the lines ask of each stage (review.explain.plan_review: issue
    classes route some requests upstream); each stage module reads its own part
    in `redo_targets`.
    """

    task: Task
    clips: list[Clip]
    keyframes: dict[int, Keyframe]
    lines: list[str]
    plan: RedoPlan = field(default_factory=RedoPlan)


@dataclass(frozen=True)
class Redo:
    """What a review asked this stage to redo.

    `targets`: item number -> reviewer note. `problem_lines` and `reasons`: what
    could not be acted on, quoted back to the reviewer (any reason means nothing
    is regenerated). `whole`: the stage has no items to pick and is redone as a
    whole; the text is the audit note of that move.
    """

    targets: dict[int, str] = field(default_factory=dict)
    problem_lines: list[str] = field(default_factory=list)
    reasons: frozenset[str] = frozenset()
    whole: str | None = None


def planned_redo(review: Review, stage: Stage) -> Redo:
    """The items of `stage` the review's lines name (after issue-class routing)."""
    return Redo(targets=dict(review.plan.targets.get(stage.name, {})))


class StageModule(Protocol):
    """What each module of orchestrator/pipeline/stages/ exports (see the module docstring)."""

    STAGE: Stage
    GATE_HINT: str

    async def run(self, ctx: PipelineContext, task_id: int) -> datetime | None: ...

    def redo_targets(self, review: Review) -> Redo: ...

    async def mark_redo(
        self, session: AsyncSession, review: Review, targets: Mapping[int, str]
    ) -> None: ...

    def redo_cost(self, providers: ProviderSet, task: Task, n: int) -> float: ...

    async def approve(self, session: AsyncSession, task: Task) -> None: ...
