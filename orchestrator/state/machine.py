"""Guarded status transitions: the only way a task's status changes."""

from __future__ import annotations

from datetime import datetime

import structlog
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from orchestrator.db.models import Event, Task
from orchestrator.db.types import utcnow
from orchestrator.errors import IllegalTransition, StaleState
from orchestrator.state.status import STAGES, Actor, Status, allowed_moves, is_allowed

__all__ = ["explain_refusal", "transition"]

log = structlog.get_logger(__name__)

_STAGE_STATUSES = frozenset(
    status
    for stage in STAGES
    for status in (stage.working, stage.ready, stage.approved, stage.error)
)


def explain_refusal(current: Status, target: Status, actor: Actor) -> str:
    moves = allowed_moves(current, actor)
    if moves:
        listed = ", ".join(m.label for m in moves)
    elif current.terminal:
        listed = "nothing (the task is finished)"
    else:
        listed = "none (the daemon moves it on)"
    return (
        f"{current.label} -> {target.label} is not an allowed move. "
        f"From {current.label} you can choose: {listed}."
    )


async def transition(
    session: AsyncSession,
    task: Task,
    to: Status,
    actor: Actor,
    note: str = "",
    *,
    now: datetime | None = None,
) -> None:
    """Move `task` to `to` if the table allows it and nobody moved it first.

    A guarded UPDATE (`WHERE id = :id AND status = :expected`) makes racing
    workers safe on every backend; the loser gets StaleState. The event row is
    written in the same transaction; the caller commits.
    """
    current = Status(task.status)
    if not is_allowed(current, to, actor):
        raise IllegalTransition(
            explain_refusal(current, to, actor),
            allowed=tuple(m.value for m in allowed_moves(current, actor)),
        )
    at = now or utcnow()
    previous_since = task.status_changed_at
    result = await session.execute(
        update(Task)
        .where(Task.id == task.id, Task.status == current.value)
        .values(status=to.value, status_changed_at=at, updated_at=at)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise StaleState(f"task {task.id} is no longer {current.label}")
    task.status = to.value
    task.status_changed_at = at
    if to is Status.CANCELLED and current in _STAGE_STATUSES:
        # Where Cancelled -> Queued picks up again (Failed keeps its own resume point).
        task.resume_status = current.value
    session.add(
        Event(
            task_id=task.id,
            at=at,
            kind="transition",
            actor=actor,
            from_status=current.value,
            to_status=to.value,
            note=note,
        )
    )
    metrics = session.info.get("metrics")
    if metrics is not None:  # the daemon's sessions carry its Metrics
        metrics.transitions.labels(actor=actor, to=to.value).inc()
    # The lifecycle line: read in a row, a task's lines tell its story.
    log.info(
        "transition_task",
        task=task.id,
        page=task.notion_page_id,
        from_status=current.label,
        to_status=to.label,
        actor=actor,
        seconds_in_previous=(
            round((at - previous_since).total_seconds(), 1) if previous_since else None
        ),
        note=note[:200] or None,
    )
