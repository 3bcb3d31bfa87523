"""The status machines of what a task is made of: clips, keyframes, narration lines.

Each is an enum, a table of allowed moves, and a guarded transition, the same
pattern as tasks (state/machine.py). These are the states that cost money: a clip
moves to `submitting` before a paid create call, so two workers that both believe
they may submit it must not both succeed. Every move is one guarded UPDATE

    UPDATE clips SET status = :to, ... WHERE id = :id AND status = :expected
                                       AND attempt = :attempt

and the loser of a race (a stale status, or a stale attempt: someone submitted it
again meanwhile) gets StaleState. A move the table does not list raises
IllegalTransition. The caller commits.

Creating a row is not a transition: new rows start `planned`. A re-plan sets a
row back to `planned` only when it is not there already (there is no self-edge).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Any, TypeVar

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from orchestrator.db.models import Clip, Keyframe
from orchestrator.errors import IllegalTransition, StaleState

__all__ = [
    "CLIP_TRANSITIONS",
    "FINISHED",
    "IN_FLIGHT",
    "KEYFRAME_TRANSITIONS",
    "NARRATION_TRANSITIONS",
    "USABLE",
    "ClipStatus",
    "KeyframeStatus",
    "NarrationStatus",
    "transition_clip",
    "transition_keyframe",
    "transition_narration",
]


class ClipStatus(enum.StrEnum):
    PLANNED = "planned"
    SUBMITTING = "submitting"  # committed before the paid create call
    POLLING = "polling"  # the operation name is saved: resumable
    COMPLETE = "complete"
    RAI_FILTERED = "rai_filtered"
    TIMED_OUT = "timed_out"
    FAILED = "failed"
    APPROVED = "approved"
    REJECTED = "rejected"
    LOST = "lost"  # the daemon died between submitting and saving the operation name


class KeyframeStatus(enum.StrEnum):
    PLANNED = "planned"
    COMPLETE = "complete"
    REJECTED = "rejected"


class NarrationStatus(enum.StrEnum):
    """A clip's narration line (the clip's `narration_status` column)."""

    PLANNED = "planned"
    COMPLETE = "complete"
    REJECTED = "rejected"


# An operation the provider may be running for us right now.
IN_FLIGHT: tuple[ClipStatus, ...] = (ClipStatus.SUBMITTING, ClipStatus.POLLING)
# A clip with a video: shown, assembled, counted as done.
USABLE: tuple[ClipStatus, ...] = (ClipStatus.COMPLETE, ClipStatus.APPROVED)
# Clips that need no more work this round (a human decides about the unusable ones).
FINISHED: tuple[ClipStatus, ...] = (
    *USABLE,
    ClipStatus.RAI_FILTERED,
    ClipStatus.TIMED_OUT,
    ClipStatus.FAILED,
    ClipStatus.LOST,
)


def _clip_table() -> dict[tuple[ClipStatus, ClipStatus], str]:
    c = ClipStatus
    table = {
        # Submit: a new or rejected clip, or a finished one whose keyframe was
        # remade (it no longer joins its neighbours). attempt + 1 in the same update.
        (c.PLANNED, c.SUBMITTING): "submit",
        (c.REJECTED, c.SUBMITTING): "submit after a review",
        (c.COMPLETE, c.SUBMITTING): "submit again: a keyframe changed",
        (c.APPROVED, c.SUBMITTING): "submit again: a keyframe changed",
        (c.SUBMITTING, c.POLLING): "operation name saved",
        # The create call was refused (nothing started, attempt - 1), or the worker
        # died mid-call and the lost-submission policy resubmits or flags it.
        (c.SUBMITTING, c.PLANNED): "refused transiently, or lost and resubmitted",
        (c.SUBMITTING, c.FAILED): "refused permanently",
        (c.SUBMITTING, c.LOST): "lost mid-call: a human decides",
        (c.SUBMITTING, c.RAI_FILTERED): "input blocked by the safety filter",
        # The operation poller's outcomes; `planned` retries (softened prompt after
        # a safety filter, or a transient failure that produced nothing).
        (c.POLLING, c.COMPLETE): "video stored",
        (c.POLLING, c.PLANNED): "retry",
        (c.POLLING, c.RAI_FILTERED): "filtered by the provider",
        (c.POLLING, c.TIMED_OUT): "no result before the deadline",
        (c.POLLING, c.FAILED): "the operation failed",
        (c.POLLING, c.LOST): "finished with no video and no reason: a human decides",
        (c.COMPLETE, c.APPROVED): "video gate approved",
    }
    # A review names finished clips only (never one in flight); a re-plan starts a
    # finished or rejected clip over.
    for status in FINISHED:
        table[(status, c.REJECTED)] = "named at the video review"
    for status in (*FINISHED, c.REJECTED):
        table[(status, c.PLANNED)] = "shot re-planned"
    return table


_Line = TypeVar("_Line", KeyframeStatus, NarrationStatus)


def _line_table(status: type[_Line], *, name_unmade: bool) -> dict[tuple[_Line, _Line], str]:
    planned, complete, rejected = status("planned"), status("complete"), status("rejected")
    table = {
        (planned, complete): "made",
        (rejected, complete): "made again",
        (complete, rejected): "named at its review",
        (complete, planned): "re-planned",
        (rejected, planned): "re-planned",
    }
    if name_unmade:
        # A shot without narration text has no line to record; a review may still name it.
        table[(planned, rejected)] = "named at its review before it was made"
    return table


CLIP_TRANSITIONS: Mapping[tuple[ClipStatus, ClipStatus], str] = _clip_table()
KEYFRAME_TRANSITIONS: Mapping[tuple[KeyframeStatus, KeyframeStatus], str] = _line_table(
    KeyframeStatus, name_unmade=False
)
NARRATION_TRANSITIONS: Mapping[tuple[NarrationStatus, NarrationStatus], str] = _line_table(
    NarrationStatus, name_unmade=True
)


async def _guarded(
    session: AsyncSession,
    row: Clip | Keyframe,
    *,
    what: str,
    table: Mapping[tuple[Any, Any], str],
    status_column: str,
    attempt_column: str,
    current: enum.StrEnum,
    to: enum.StrEnum,
    values: dict[str, Any],
) -> None:
    if (current, to) not in table:
        allowed = tuple(sorted(t.value for (f, t) in table if f == current))
        raise IllegalTransition(
            f"{what} {row.number} cannot go from {current} to {to} "
            f"(allowed: {', '.join(allowed) or 'none'})",
            allowed=allowed,
        )
    model = type(row)
    attempt = getattr(row, attempt_column)
    result = await session.execute(
        update(model)
        .where(
            model.id == row.id,
            getattr(model, status_column) == current.value,
            getattr(model, attempt_column) == attempt,
        )
        .values({status_column: to.value, **values})
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise StaleState(f"{what} {row.number} is no longer {current} (attempt {attempt})")
    # Written already: record the new values as the loaded state, not as changes.
    for column, value in {status_column: to.value, **values}.items():
        set_committed_value(row, column, value)


async def transition_clip(session: AsyncSession, clip: Clip, to: ClipStatus, **values: Any) -> None:
    """Move `clip` to `to` if the table allows it and nobody moved it first.

    `values` are other columns set in the same guarded update (e.g. `attempt=`
    for a submission): the guard checks the status and attempt the caller loaded.
    """
    await _guarded(
        session,
        clip,
        what="clip",
        table=CLIP_TRANSITIONS,
        status_column="status",
        attempt_column="attempt",
        current=ClipStatus(clip.status),
        to=to,
        values=values,
    )


async def transition_keyframe(
    session: AsyncSession, keyframe: Keyframe, to: KeyframeStatus, **values: Any
) -> None:
    """Move `keyframe` to `to` (guarded on its status and attempt); see transition_clip."""
    await _guarded(
        session,
        keyframe,
        what="keyframe",
        table=KEYFRAME_TRANSITIONS,
        status_column="status",
        attempt_column="attempt",
        current=KeyframeStatus(keyframe.status),
        to=to,
        values=values,
    )


async def transition_narration(
    session: AsyncSession, clip: Clip, to: NarrationStatus, **values: Any
) -> None:
    """Move `clip`'s narration line to `to` (guarded on narration status and take)."""
    await _guarded(
        session,
        clip,
        what="narration line",
        table=NARRATION_TRANSITIONS,
        status_column="narration_status",
        attempt_column="narration_attempt",
        current=NarrationStatus(clip.narration_status),
        to=to,
        values=values,
    )
