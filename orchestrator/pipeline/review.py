"""X Error: read what the reviewer asked for, regenerate only that.

Which Error Log lines are new: each time the daemon reads a review it appends a
marker line (`[reelgate …] review read: …`). A reviewer line is new when it stands
after the last marker, or when its text was never acted on before. So a log kept
across rounds is not re-read, while a log that was cleared and retyped (the
marker gone with it) is read again, even where the words repeat an earlier round.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from orchestrator.channels import ChannelConfig
from orchestrator.db.models import ReviewLine, Task
from orchestrator.pipeline.budget import clip_cost, keyframe_cost, narration_cost, storyboard_cost
from orchestrator.pipeline.context import PipelineContext
from orchestrator.pipeline.gates import review_rounds_used, stage_of
from orchestrator.pipeline.notion_out import comment, log_error_line, move, sync_clip_row
from orchestrator.pipeline.queries import load_clips, load_keyframes
from orchestrator.review import accepted_forms_help, is_daemon_line, line_hash, parse_review
from orchestrator.state.status import Stage, Status

__all__ = ["REVIEW_MARK", "NewLine", "apply_review", "new_review_lines"]


@dataclass(frozen=True)
class NewLine:
    text: str
    key: str  # stored in review_lines.line_hash


REVIEW_MARK = "review read:"


def new_review_lines(error_log: str, acted_on: set[str]) -> list[NewLine]:
    lines = [raw.strip() for raw in error_log.splitlines()]
    last_mark = max(
        (i for i, text in enumerate(lines) if is_daemon_line(text) and REVIEW_MARK in text),
        default=-1,
    )
    out: list[NewLine] = []
    taken: set[str] = set()
    for i, text in enumerate(lines):
        if not text or is_daemon_line(text):
            continue
        key = line_hash(text)
        if (i > last_mark or key not in acted_on) and key not in taken:
            taken.add(key)
            out.append(NewLine(text, key))
    return out


def _quote(lines: list[str]) -> str:
    return "\n".join(f"> {line}" for line in lines)


async def _back_to_gate(
    ctx: PipelineContext, session: AsyncSession, task: Task, stage: Stage, message: str
) -> None:
    # The marker closes this round's lines: the reviewer writes fresh ones below it.
    log_error_line(session, task, f"{REVIEW_MARK} nothing regenerated", ctx.clock())
    comment(session, task, message)
    await move(session, task, stage.ready, message[:200])


async def apply_review(ctx: PipelineContext, task_id: int) -> None:
    async with ctx.sessions() as session, session.begin():
        task = await session.get(Task, task_id)
        assert task is not None
        stage = stage_of(Status(task.status))
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

        if stage.name == "final":
            # Nothing to pick: Final Error re-assembles (with whatever changed since).
            await move(session, task, stage.working, "re-assemble after Final Error")
            return

        count = task.clip_count + 1 if stage.name == "keyframes" else task.clip_count
        request = parse_review([line.text for line in lines], count)
        targets = dict(request.keyframes) if stage.name == "keyframes" and request.keyframes else {}
        if not targets:
            targets = request.selected_clips(count)
        if stage.name == "video":
            # Rows a reviewer set to Regenerate in the Videos table count too.
            for clip in clips:
                if clip.notion_verdict == "Regenerate":
                    targets.setdefault(clip.number, clip.reviewer_note)
                    clip.notion_verdict = None

        reasons_found = {p.reason for p in request.problems}
        if stage.name == "keyframes":
            # A task with N clips has keyframes 1..N+1; name any number past that.
            beyond = sorted(k for k in targets if k not in keyframes)
            if beyond:
                reasons_found.add(
                    f"keyframe {', '.join(map(str, beyond))} does not exist "
                    f"(this task has keyframes 1 to {len(keyframes)})"
                )
        if reasons_found or not targets:
            problems = [p.line for p in request.problems] or [line.text for line in lines]
            reasons = "; ".join(sorted(reasons_found))
            message = (
                f"{stage.error.label} was set, but I could not tell what to regenerate"
                + (f" ({reasons})" if reasons else "")
                + ".\n"
                + (_quote(problems) + "\n" if problems else "(no new lines in Error Log)\n")
                + accepted_forms_help()
                + f"\nNothing was regenerated; the task is back at {stage.ready.label}."
            )
            await _back_to_gate(ctx, session, task, stage, message)
            return

        if review_rounds_used(task, stage) >= channel.max_review_rounds:
            await _back_to_gate(
                ctx,
                session,
                task,
                stage,
                f"This task already had {channel.max_review_rounds} {stage.name} review rounds, "
                f"the channel's maximum. Nothing was regenerated: approve it, or Cancel.",
            )
            return
        over = _over_budget(ctx, task, channel, stage, len(targets))
        if over:
            await _back_to_gate(ctx, session, task, stage, over)
            return

        named = ", ".join(map(str, sorted(targets)))
        log_error_line(
            session,
            task,
            f"{REVIEW_MARK} {stage.error.label}, round {round_no}: regenerating "
            f"{stage.name} {named}",
            ctx.clock(),
        )
        if stage.name == "storyboard":
            task.pending_targets = {
                **task.pending_targets,
                "storyboard": {str(k): v for k, v in targets.items()},
            }
        elif stage.name == "keyframes":
            for number, note in targets.items():
                keyframes[number].status = "rejected"
                keyframes[number].reviewer_note = note
        elif stage.name == "video":
            for clip in clips:
                if clip.number in targets:
                    clip.status = "rejected"
                    clip.reviewer_note = targets[clip.number]
                    clip.rai_retries = 0
                    sync_clip_row(session, task, clip, keyframes)
        elif stage.name == "audio":
            for clip in clips:
                if clip.number in targets:
                    clip.narration_status = "rejected"
                    clip.narration_note = targets[clip.number]
        await move(session, task, stage.working, f"regenerate {stage.name} {named}")


def _over_budget(
    ctx: PipelineContext, task: Task, channel: ChannelConfig, stage: Stage, n: int
) -> str | None:
    if channel.budget_usd is None:
        return None
    providers = ctx.providers_for(channel)
    extra = {
        "storyboard": storyboard_cost(providers)
        + keyframe_cost(providers, n)
        + clip_cost(providers, task.clip_seconds, min(task.clip_count, n + 1)),
        "keyframes": keyframe_cost(providers, n) + clip_cost(providers, task.clip_seconds, 2 * n),
        "video": clip_cost(providers, task.clip_seconds, n),
        "audio": narration_cost(providers, task.clip_seconds, n),
    }.get(stage.name, 0.0)
    projected = task.cost_usd + extra
    if projected <= channel.budget_usd + 1e-9:
        return None
    return (
        f"Regenerating {n} item(s) would bring this task to about ${projected:.2f}, over the "
        f"channel budget of ${channel.budget_usd:.2f}. Nothing was spent. Raise the budget, "
        "or approve what is there."
    )
