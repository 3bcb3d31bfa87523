"""The status machines and the guarded transitions that move rows through them.

Tasks: `status.py` (the DESIGN §2 table) and `machine.py` (`transition`). Clips,
keyframes and narration lines: `clips.py` (`transition_clip` and friends). Claims
and leases: `claims.py`.
"""

from __future__ import annotations

from orchestrator.state.claims import WOKEN, claim_next, heartbeat, readopt_dead, release
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
from orchestrator.state.labels import (
    FORBIDDEN_CHARS,
    StatusLabels,
    current_labels,
    fold_label,
    install_labels,
    render_labels,
    reset_labels,
    status_ref,
)
from orchestrator.state.machine import explain_refusal, transition
from orchestrator.state.status import (
    STAGES,
    TRANSITIONS,
    WAITING_ON_HUMAN,
    Actor,
    Stage,
    Status,
    allowed_moves,
    default_label,
    is_allowed,
    notion_status_options,
    stage_named,
)

__all__ = [
    "CLIP_TRANSITIONS",
    "FINISHED",
    "FORBIDDEN_CHARS",
    "IN_FLIGHT",
    "KEYFRAME_TRANSITIONS",
    "NARRATION_TRANSITIONS",
    "STAGES",
    "TRANSITIONS",
    "USABLE",
    "WAITING_ON_HUMAN",
    "WOKEN",
    "Actor",
    "ClipStatus",
    "KeyframeStatus",
    "NarrationStatus",
    "Stage",
    "Status",
    "StatusLabels",
    "allowed_moves",
    "claim_next",
    "current_labels",
    "default_label",
    "explain_refusal",
    "fold_label",
    "heartbeat",
    "install_labels",
    "is_allowed",
    "notion_status_options",
    "readopt_dead",
    "release",
    "render_labels",
    "reset_labels",
    "stage_named",
    "status_ref",
    "transition",
    "transition_clip",
    "transition_keyframe",
    "transition_narration",
]
