"""The status machine and the guarded transitions that move tasks through it."""

from __future__ import annotations

from orchestrator.state.claims import claim_next, heartbeat, release
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
)

__all__ = [
    "STAGES",
    "TRANSITIONS",
    "Actor",
    "Stage",
    "Status",
    "allowed_moves",
    "claim_next",
    "explain_refusal",
    "heartbeat",
    "is_allowed",
    "notion_status_options",
    "release",
    "transition",
]
