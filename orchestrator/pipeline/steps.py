"""One step of work for a claimed task, chosen by its status.

Queued starts the task (checks and estimate); a working status runs its stage
module; an approved status leaves the gate for the next stage; an error status
applies the review. Stages are found through `stages.STAGE_MODULES`, never named.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from orchestrator.db.models import Task
from orchestrator.pipeline.context import PipelineContext
from orchestrator.pipeline.estimate import estimate_breakdown
from orchestrator.pipeline.notion_out import (
    comment,
    history_line,
    move,
    progress_text,
    update_task_fields,
)
from orchestrator.pipeline.queries import load_clips
from orchestrator.pipeline.references import (
    REFERENCE_RETRY,
    fetch_references,
    problems_text,
    references_pending,
)
from orchestrator.pipeline.review import apply_review
from orchestrator.pipeline.stages import STAGE_MODULES, StageModule, next_stage, stage_for
from orchestrator.state.status import Status

__all__ = ["RUNNABLE", "fail_task", "page_problems", "run_step", "unknown_channel_text"]

# Statuses a worker acts on; gates, Draft and the terminal ones wait for a human.
# Leaving the last gate (Done) is no work: the task is finished.
RUNNABLE: tuple[Status, ...] = (
    Status.QUEUED,
    *(m.STAGE.working for m in STAGE_MODULES),
    *(m.STAGE.approved for m in STAGE_MODULES if next_stage(m) is not None),
    *(m.STAGE.error for m in STAGE_MODULES),
)


async def run_step(ctx: PipelineContext, task_id: int) -> datetime | None:
    """Do the next piece of work; return when to look at the task again (None: now)."""
    async with ctx.sessions() as session:
        task = await session.get(Task, task_id)
        assert task is not None
        status = Status(task.status)
    if status is Status.QUEUED:
        await _start(ctx, task_id)
        return None
    if status not in RUNNABLE:
        return None
    stage = stage_for(status)
    if status is stage.STAGE.working:
        return await stage.run(ctx, task_id)
    if status is stage.STAGE.approved:
        await _leave_gate(ctx, task_id, stage)
    elif status is stage.STAGE.error:
        if not await _references_ready(ctx, task_id):
            return ctx.clock() + REFERENCE_RETRY  # or sooner: the poller clears it
        return await apply_review(ctx, task_id)
    return None


async def _references_ready(ctx: PipelineContext, task_id: int) -> bool:
    """References changed at a review (only Storyboard Error follows them): fetch and
    check them before anything is redone; bad ones leave the task waiting."""
    async with ctx.sessions() as session:
        task = await session.get(Task, task_id)
        assert task is not None
        if not references_pending(task):
            return True
    problems = await fetch_references(ctx, task_id)
    if not problems:
        return True
    async with ctx.sessions() as session, session.begin():
        task = await session.get(Task, task_id)
        assert task is not None
        comment(
            session,
            task,
            f"The References changed, and {problems_text(problems)}\n"
            f"Nothing was regenerated or spent; the task waits at {Status(task.status).label}. "
            "Fix References (reelgate looks again when the page changes).",
        )
    return False


def unknown_channel_text(ctx: PipelineContext, name: str) -> str | None:
    """Why a task's Channel cannot be used, or None when the channels file has it.

    An unknown name never falls back to `default`: that would spend on a channel
    nobody chose. An empty Channel is `default` by the channels file's own rule.
    """
    if name in ctx.channels:
        return None
    known = ", ".join(ctx.channels.names)
    return (
        f"the Channel {name!r} is not one of reelgate's channels (known: {known}). "
        "Pick one of those in Channel, or leave it empty for default"
    )


async def _start(ctx: PipelineContext, task_id: int) -> None:
    async with ctx.sessions() as session, session.begin():
        task = await session.get(Task, task_id)
        assert task is not None
        unknown = unknown_channel_text(ctx, task.channel)
        if unknown is not None:
            # Before anything is fetched, priced or paid for: wait in Draft.
            message = f"Not started: {unknown}, then set Status to {Status.QUEUED.label} again."
            comment(session, task, message)
            await move(session, task, Status.DRAFT, message[:500])
            return
    async with ctx.sessions() as session:
        task = await session.get(Task, task_id)
        assert task is not None
        # A fresh start with a sound page (page_problems fail it below) fetches its
        # references first: before the estimate and any paid call.
        fetch = not task.resume_status and not page_problems(task)
    if fetch:
        bad = await fetch_references(ctx, task_id)
        if bad:
            async with ctx.sessions() as session, session.begin():
                task = await session.get(Task, task_id)
                assert task is not None
                message = (
                    f"Not started: {problems_text(bad)}\nFix References, then set "
                    f"Status to {Status.QUEUED.label} again."
                )
                comment(session, task, message)
                await move(session, task, Status.DRAFT, message[:500])
            return
    async with ctx.sessions() as session, session.begin():
        task = await session.get(Task, task_id)
        assert task is not None
        if task.resume_status:
            resume = Status(task.resume_status)
            if resume is stage_for(resume).STAGE.error:
                # X Error -> Queued by a reviewer: "go ahead with the notes I wrote".
                task.resume_status = None
                await move(session, task, resume, "go ahead with the notes in Error Log")
                return
            # Failed -> Queued: pick up at the stage that failed; its step skips
            # everything already made (and paid for).
            target = stage_for(resume).STAGE.working
            task.resume_status = None
            task.error = None
            await move(session, task, target, "resume after retry")
            return
        channel = ctx.channels.get(task.channel)
        problems = page_problems(task)
        if problems:
            await fail_task(
                session,
                task,
                "Not started: "
                + "; ".join(problems)
                + f". Fix the page, then set Status to {Status.QUEUED.label}.",
                resume=False,
            )
            return
        providers = ctx.providers_for(channel)
        estimate = estimate_breakdown(providers, task.clip_count, task.clip_seconds)
        task.estimated_cost_usd = estimate.total_usd
        clips = await load_clips(session, task_id)
        update_task_fields(
            session,
            task,
            estimated_cost=task.estimated_cost_usd,
            cost=round(task.cost_usd, 4),
            progress=progress_text(clips, task.clip_count),
        )
        if channel.budget_usd is not None and task.estimated_cost_usd > channel.budget_usd:
            message = (
                f"Not started: the estimate is ${task.estimated_cost_usd:.2f} "
                f"({task.clip_count} clips x {task.clip_seconds}s on {providers.name}), over the "
                f"channel budget of ${channel.budget_usd:.2f}. Use fewer or shorter clips, or "
                f"raise the budget, then set Status to {Status.QUEUED.label}.\n"
                f"{estimate.table()}"
            )
            await fail_task(session, task, message, resume=False)
            return
        # The Review history toggle goes in now, above the stages' sections.
        history_line(session, task, [])
        await move(session, task, Status.PLANNING, f"estimate ${task.estimated_cost_usd:.2f}")


def page_problems(task: Task) -> list[str]:
    """What is wrong with the values a creator typed (shown to them as a comment)."""
    problems = []
    if not (task.brief or task.title).strip():
        problems.append("Brief is empty: write what the video is about")
    if not 1 <= task.clip_count <= 60:
        problems.append(f"Clips must be 1 to 60 (it is {task.clip_count})")
    if task.clip_seconds not in (4, 6, 8):
        problems.append(f"Clip Seconds must be 4, 6 or 8 (it is {task.clip_seconds})")
    if task.aspect_ratio not in ("16:9", "9:16"):
        problems.append(f"Aspect Ratio must be 16:9 or 9:16 (it is {task.aspect_ratio!r})")
    return problems


async def _leave_gate(ctx: PipelineContext, task_id: int, stage: StageModule) -> None:
    following = next_stage(stage)
    assert following is not None  # the last approved status is not RUNNABLE
    async with ctx.sessions() as session, session.begin():
        task = await session.get(Task, task_id)
        assert task is not None
        await stage.approve(session, task)
        approved = stage.STAGE.approved
        await move(session, task, following.STAGE.working, f"{approved.label} -> next stage")


async def fail_task(
    session: AsyncSession, task: Task, message: str, *, resume: bool = True
) -> None:
    """Stop with a reason the owner can act on; Failed -> Queued resumes here."""
    if resume and Status(task.status) is not Status.QUEUED:
        task.resume_status = task.status
    task.error = message
    comment(
        session,
        task,
        f"{message}\nSet Status to {Status.QUEUED.label} to try again from this stage.",
    )
    await move(session, task, Status.FAILED, message[:500])
