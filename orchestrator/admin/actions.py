"""`reelgate retry / cancel / resume`: an admin's status moves.

Each goes through what a change made in Notion goes through: the transition
table for a human (`state.status`), the guarded transition with its audit event
(`state.machine.transition`), unsent daemon Status writes dropped as stale, and
Notion brought up to date through the outbox (the new Status, and a comment so
the task's owner knows). A move the table does not allow is refused, and the
refusal names the moves that are allowed, with the command or place to make them.
"""

from __future__ import annotations

import getpass
import os
import socket
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from notion_sync.ops import SetTaskStatus
from orchestrator.db.models import Event, Task
from orchestrator.errors import AdminError
from orchestrator.pipeline.notion_out import comment, enqueue, supersede_status_writes
from orchestrator.pipeline.stages import STAGE_MODULES, stage_for
from orchestrator.pipeline.steps import RUNNABLE, page_problems
from orchestrator.state.claims import WOKEN
from orchestrator.state.machine import transition
from orchestrator.state.status import Status, allowed_moves, stage_named

__all__ = ["cancel_task", "choices", "operator", "resume_task", "retry_task"]

STAGE_ORDER: tuple[str, ...] = tuple(m.STAGE.name for m in STAGE_MODULES)


def operator() -> str:
    """Who is running the command, for the audit trail (`user@host`)."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # a container uid with no passwd entry
        user = f"uid{os.getuid()}"
    return f"{user}@{socket.gethostname()}"


def _command_for(current: Status, target: Status) -> str | None:
    if target is Status.CANCELLED:
        return "reelgate cancel"
    if (current, target) == (Status.FAILED, Status.QUEUED):
        return "reelgate retry"
    if (current, target) == (Status.CANCELLED, Status.QUEUED):
        return "reelgate resume"
    return None


def choices(current: Status) -> str:
    """The moves a human may make from `current`, and where to make each."""
    parts = []
    for target in allowed_moves(current, "human"):
        command = _command_for(current, target)
        parts.append(f"{target.label} (`{command}`)" if command else f"{target.label} (in Notion)")
    if current in RUNNABLE:
        parts.append("have a worker look at it now (`reelgate retry`)")
    if not parts:
        return f"From {current.label} nothing can change it: the task is finished."
    return f"From {current.label} you can choose: {', '.join(parts)}."


def _resume_label(task: Task) -> str:
    if not task.resume_status:
        return "starts from the beginning"
    working = stage_for(Status(task.resume_status)).STAGE.working
    return f"resumes at {working.label}, reusing everything already made"


async def _human_move(
    session: AsyncSession, task: Task, to: Status, note: str, message: str, now: datetime
) -> None:
    """The move, the audit event, and Notion told: as if made in Notion, plus a comment."""
    await transition(session, task, to, "human", note, now=now)
    # Like a human move in Notion: unsent daemon Status writes are stale now.
    await supersede_status_writes(session, task, now)
    enqueue(session, task, SetTaskStatus(page_id=task.notion_page_id, status_label=to.label))
    comment(session, task, message)
    if to is Status.QUEUED:
        task.not_before = WOKEN


async def cancel_task(session: AsyncSession, task: Task, *, by: str, now: datetime) -> str:
    current = Status(task.status)
    if current is Status.CANCELLED:
        raise AdminError(f"task {task.id} is already Cancelled. {choices(current)}")
    if current.terminal:
        raise AdminError(f"task {task.id} is {current.label}. {choices(current)}")
    await _human_move(
        session,
        task,
        Status.CANCELLED,
        f"reelgate cancel by {by}",
        "An admin cancelled this task (`reelgate cancel`). Nothing more will be spent on "
        "it; clips already rendering are still saved. Set Status to Queued to resume it.",
        now,
    )
    return (
        f"task {task.id} ({task.title or task.notion_page_id}): {current.label} -> Cancelled. "
        "Clips already rendering are still saved; `reelgate resume` picks it up again."
    )


async def resume_task(session: AsyncSession, task: Task, *, by: str, now: datetime) -> str:
    current = Status(task.status)
    if current is not Status.CANCELLED:
        hint = (
            "; a failed task is retried with `reelgate retry`" if current is Status.FAILED else ""
        )
        raise AdminError(
            f"task {task.id} is {current.label}, not Cancelled: there is nothing to resume"
            f"{hint}. {choices(current)}"
        )
    where = _resume_label(task)
    await _human_move(
        session,
        task,
        Status.QUEUED,
        f"reelgate resume by {by}",
        f"An admin resumed this task (`reelgate resume`): it {where}.",
        now,
    )
    return f"task {task.id} ({task.title or task.notion_page_id}): Cancelled -> Queued; it {where}."


async def retry_task(
    session: AsyncSession, task: Task, *, stage: str | None, by: str, now: datetime
) -> str:
    """Failed -> Queued (from its last good stage, or an earlier `stage`); a task
    waiting to be worked on is looked at now. Anything else is refused."""
    current = Status(task.status)
    name = task.title or task.notion_page_id
    if current is Status.FAILED:
        if stage is not None:
            _resume_from(task, stage)
        elif not task.resume_status and page_problems(task):
            raise AdminError(
                f"task {task.id} failed before it started: {task.error or 'its page has problems'} "
                "Fix the page, then set Status to Queued in Notion: reelgate reads the fixed "
                "values then."
            )
        where = _resume_label(task)
        await _human_move(
            session,
            task,
            Status.QUEUED,
            f"reelgate retry by {by}" + (f" from {stage}" if stage else ""),
            f"An admin retried this task (`reelgate retry`): it {where}.",
            now,
        )
        return f"task {task.id} ({name}): Failed -> Queued; it {where}."
    if stage is not None:
        raise AdminError(
            f"--stage applies to a Failed task; task {task.id} is {current.label}. "
            f"{choices(current)}"
        )
    if current in RUNNABLE:
        # No move to make: the task waits for a worker (a back-off after an error,
        # or clips rendering). Clear the wait so the next free worker takes it.
        waited = task.not_before
        task.not_before = WOKEN
        session.add(
            Event(
                task_id=task.id,
                at=now,
                kind="retry",
                actor="human",
                from_status=current.value,
                note=f"reelgate retry by {by}"
                + (f" (it was waiting until {waited.isoformat()})" if waited else ""),
            )
        )
        held = ""
        if task.lease_owner and task.lease_expires_at and task.lease_expires_at > now:
            held = f" Worker {task.lease_owner} is on it now; it looks again when that step ends."
        return f"task {task.id} ({name}): {current.label}; a worker picks it up now.{held}"
    if current is Status.CANCELLED:
        raise AdminError(
            f"task {task.id} is Cancelled: `reelgate resume` queues it again. {choices(current)}"
        )
    raise AdminError(f"task {task.id} is {current.label}: retry does not apply. {choices(current)}")


def _resume_from(task: Task, stage: str) -> None:
    if stage not in STAGE_ORDER:
        raise AdminError(f"--stage must be one of {', '.join(STAGE_ORDER)} (got {stage!r})")
    if not task.resume_status:
        raise AdminError(
            f"task {task.id} failed before it started, so it has no stage to go back to: "
            "retry it without --stage"
        )
    failed_in = stage_for(Status(task.resume_status)).STAGE.name
    earliest = STAGE_ORDER[: STAGE_ORDER.index(failed_in) + 1]
    if stage not in earliest:
        raise AdminError(
            f"task {task.id} failed in {failed_in}: --stage may go back, not ahead "
            f"(choose one of {', '.join(earliest)})"
        )
    task.resume_status = stage_named(stage).working.value
