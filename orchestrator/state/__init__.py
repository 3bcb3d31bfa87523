"""The status machines and the guarded transitions that move rows through them.

Tasks: `status.py` (the DESIGN §2 table) and `machine.py` (`transition`). Clips,
keyframes and narration lines: `clips.py` (`transition_clip` and friends). Claims
and leases: `claims.py`.
"""

from __future__ import annotations

from orchestrator.state.claims import claim_next, heartbeat, release
from orchestrator.state.clips import (
    CLIP_TRANSITIONS,
    FINISHED,
    IN_FLIGHT,
    KEYFRAME_TRANSITIONS,
    NARRATION_TRANSITIONS,
    USABLE,
    ClipStatus,
    KeyframeStatus,
    NarrationStatus,
    transition_clip,
    transition_keyframe,
    transition_narration,
)
from orchestrator.state.machine import explain_refusal, transition
from orchestrator.state.status import (
    STAGES,
    TRANSITIONS,
    Actor,
    Stage,
    Status,
    allowed_moves,
    is_allowed,
    notion_status_options,
    stage_named,
)

__all__ = [
    "CLIP_TRANSITIONS",
    "FINISHED",
    "IN_FLIGHT",
    "KEYFRAME_TRANSITIONS",
    "NARRATION_TRANSITIONS",
    "STAGES",
    "TRANSITIONS",
    "USABLE",
    "Actor",
    "ClipStatus",
    "KeyframeStatus",
    "NarrationStatus",
    "Stage",
    "Status",
    "allowed_moves",
    "claim_next",
    "explain_refusal",
    "heartbeat",
    "is_allowed",
    "notion_status_options",
    "release",
    "stage_named",
    "transition",
    "transition_clip",
    "transition_keyframe",
    "transition_narration",
]
