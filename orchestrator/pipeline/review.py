"""X Error: read what the reviewer asked for, regenerate only that.

Which lines are new is `review.lines.new_review_lines` (pure); what they mean is
`review.parser.parse_review`. This module does the I/O around them for every stage
alike: it records the lines it read, asks the stage module what they name
(`redo_targets`), checks the round limit and the budget (`redo_cost`), then has the
stage mark those items (`mark_redo`) and sends the task back to work. Anything it
cannot act on goes back to the gate with a comment, and nothing is spent.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from orchestrator.channels import ChannelConfig
from orchestrator.db.models import ReviewLine, Task
from orchestrator.pipeline.context import PipelineContext
from orchestrator.pipeline.gates import review_rounds_used
from orchestrator.pipeline.notion_out import comment, log_error_line, move
from orchestrator.pipeline.queries import load_clips, load_keyframes
from orchestrator.pipeline.stages import Review, StageModule, stage_for
from orchestrator.review import REVIEW_MARK, accepted_forms_help, new_review_lines
from orchestrator.state.status import Status

__all__ = ["apply_review"]


def _quote(lines: list[str]) -> str:
    return "\n".join(f"> {line}" for line in lines)


async def _back_to_gate(
    ctx: PipelineContext, session: AsyncSession, task: Task, module: StageModule, message: str
) -> None:
    # The marker closes this round's lines: the reviewer writes fresh ones below it.
    log_error_line(session, task, f"{REVIEW_MARK} nothing regenerated", ctx.clock())
    comment(session, task, message)
    await move(session, task, module.STAGE.ready, message[:200])


async def apply_review(ctx: PipelineContext, task_id: int) -> None:
    async with ctx.sessions() as session, session.begin():
        task = await session.get(Task, task_id)
        assert task is not None
        module = stage_for(Status(task.status))
        stage = module.STAGE
        channel = ctx.channels.get(task.channel)
        acted = set(
            (
                await session.execute(
                    select(ReviewLine.line_hash).where(ReviewLine.task_id == task_id)
                )
            )
            .scalars()
            .all()
        )
        lines = new_review_lines(task.error_log, acted)
        clips = await load_clips(session, task_id)
        keyframes = await load_keyframes(session, task_id)
        round_no = int(task.rounds.get(stage.name, 1))
        for line in lines:
            session.add(
                ReviewLine(task_id=task_id, round=round_no, line_hash=line.key, line=line.text)
            )

        review = Review(task, clips, keyframes, [line.text for line in lines])
        redo = module.redo_targets(review)
        if redo.whole is not None:
            await move(session, task, stage.working, redo.whole)
            return
        targets = redo.targets
        if redo.reasons or not targets:
            problems = redo.problem_lines or review.lines
            reasons = "; ".join(sorted(redo.reasons))
            message = (
                f"{stage.error.label} was set, but I could not tell what to regenerate"
                + (f" ({reasons})" if reasons else "")
                + ".\n"
                + (_quote(problems) + "\n" if problems else "(no new lines in Error Log)\n")
                + accepted_forms_help()
                + f"\nNothing was regenerated; the task is back at {stage.ready.label}."
            )
            await _back_to_gate(ctx, session, task, module, message)
            return

        if review_rounds_used(task, stage) >= channel.max_review_rounds:
            await _back_to_gate(
                ctx,
                session,
                task,
                module,
                f"This task already had {channel.max_review_rounds} {stage.name} review rounds, "
                f"the channel's maximum. Nothing was regenerated: approve it, or Cancel.",
            )
            return
        over = _over_budget(ctx, task, channel, module, len(targets))
        if over:
            await _back_to_gate(ctx, session, task, module, over)
            return

        named = ", ".join(map(str, sorted(targets)))
        log_error_line(
            session,
            task,
            f"{REVIEW_MARK} {stage.error.label}, round {round_no}: regenerating "
            f"{stage.name} {named}",
            ctx.clock(),
        )
        await module.mark_redo(session, review, targets)
        await move(session, task, stage.working, f"regenerate {stage.name} {named}")


def _over_budget(
    ctx: PipelineContext, task: Task, channel: ChannelConfig, module: StageModule, n: int
) -> str | None:
    if channel.budget_usd is None:
        return None
    extra = module.redo_cost(ctx.providers_for(channel), task, n)
    projected = task.cost_usd + extra
    if projected <= channel.budget_usd + 1e-9:
        return None
    return (
        f"Regenerating {n} item(s) would bring this task to about ${projected:.2f}, over the "
        f"channel budget of ${channel.budget_usd:.2f}. Nothing was spent. Raise the budget, "
        "or approve what is there."
    )
