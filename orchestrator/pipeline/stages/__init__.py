"""The pipeline's stages, one module each, in the order a task goes through them.

Each module exports the interface of `base.StageModule`: its statuses (`STAGE`),
`run`, `redo_targets`, `mark_redo`, `redo_cost`, `approve` and `GATE_HINT`. The
step runner (pipeline/steps.py) and the review (pipeline/review.py) only loop over
`STAGE_MODULES`; neither names a stage. Adding a stage means adding its statuses to
state/status.py, a module here, and one line in `STAGE_MODULES`.
"""

from __future__ import annotations

from orchestrator.pipeline.stages import audio, final, keyframes, storyboard, video
from orchestrator.pipeline.stages.base import Redo, Review, StageModule, planned_redo
from orchestrator.state.status import Status

__all__ = [
    "STAGE_MODULES",
    "Redo",
    "Review",
    "StageModule",
    "next_stage",
    "planned_redo",
    "stage_for",
]

STAGE_MODULES: tuple[StageModule, ...] = (storyboard, keyframes, video, audio, final)


def stage_for(status: Status) -> StageModule:
    """The stage whose working, gate, approved or error status `status` is."""
    for module in STAGE_MODULES:
        stage = module.STAGE
        if status in (stage.working, stage.ready, stage.approved, stage.error):
            return module
    raise KeyError(status)


def next_stage(module: StageModule) -> StageModule | None:
    """The stage after `module` (None after the last one)."""
    index = STAGE_MODULES.index(module)
    return STAGE_MODULES[index + 1] if index + 1 < len(STAGE_MODULES) else None
