"""X Error: read what the reviewer asked for once it has settled; regenerate only that.

Which lines are new is `review.lines.new_review_lines` (pure); what each means and
where it goes is `review.explain.explain_review` (the same reading `reelgate
explain-review` prints). This module does the I/O around them for every stage
alike:

1. it waits until the review input has settled (pipeline/settle.py): a half-typed
   line is never read;
2. it reads the new lines, and asks each stage module what the review names for it
   (`redo_targets`: issue classes route some lines upstream, Videos rows set to
   Regenerate count at the video review);
3. with nothing to act on it **stays** in *X Error* and says once what it is
   waiting for; with a line it cannot read it stays and quotes it. Nothing bounces:
   the reviewer fixes the line, and the daemon acts once the text settles again;
4. it checks the round limit and the budget (`redo_cost`); past either it goes back
   to the gate with a comment, and nothing is spent;
5. it has the stages mark their items (`mark_redo`), records the lines it acted
   on, says what it understood line by line, writes the verdict's line to the
   page's Review history, and moves the task to the earliest stage that has work.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from orchestrator.channels import ChannelConfig
from orchestrator.db.models import ReviewLine, Task
from orchestrator.limits import NOTE_MAX_CHARS, bound, quote, summarise_numbers
from orchestrator.pipeline.context import PipelineContext
from orchestrator.pipeline.drift import error_log_missing
from orchestrator.pipeline.gates import review_rounds_used
from orchestrator.pipeline.history import (
    named_of,
    open_visit,
    pending_visit,
    summary_of,
    write_history,
)
from orchestrator.pipeline.notion_out import comment, move
from orchestrator.pipeline.queries import load_clips, load_keyframes
from orchestrator.pipeline.settle import is_settled, review_input_hash
from orchestrator.pipeline.stages import STAGE_MODULES, Review, StageModule, stage_for
from orchestrator.review import (
    LineExplanation,
    NewLine,
    accepted_forms_help,
    explain_review,
    issue_classes,
    lines_to_retire,
    new_review_lines,
    plan_review,
    reviewer_lines,
    route_description,
)
from orchestrator.state.status import Stage, Status

__all__ = ["apply_review", "waiting_comment"]

# What to write, per stage, in the "waiting for your notes" comment.
_EXAMPLES = {
    "storyboard": "`Regenerate: shots 2, 3 - more suspense`",
    "keyframes": "`keyframe 3: warmer light`",
    "video": "`Regenerate: clips 2, 3 - too dark` or `Bad motion: 5, 12`",
    "audio": "`clip 4: slower`",
    "final": "`Final Error` alone assembles again",
}
_ITEMS = {"storyboard": "shots", "keyframes": "keyframes", "audio": "narration lines"}
# What one number names at each stage (event notes, comments).
_UNITS = {
    "storyboard": "shot",
    "keyframes": "keyframe",
    "video": "clip",
    "audio": "line",
    "final": "clip",
}
# Unreadable lines quoted back in one comment; the rest are counted.
_QUOTED_LINES = 10


def _seconds(value: float) -> str:
    return f"{value:g} s"


def _recheck(ctx: PipelineContext) -> timedelta:
    """How soon a waiting review is looked at again if nobody wakes it.

    The leader wakes it (clears `not_before`) when it confirms new input; this is
    only the fallback.
    """
    settings = ctx.settings
    return timedelta(seconds=max(1.0, min(settings.notion_poll_seconds, 60.0)))


def waiting_comment(stage: Stage, settle_seconds: float, already: Sequence[str] = ()) -> str:
    """The one comment an *X Error* without new notes gets."""
    items = _ITEMS.get(stage.name, "clips")
    text = (
        f"Waiting for your notes: write which {items} to redo in Error Log "
        f"(e.g. {_EXAMPLES[stage.name]})"
    )
    if stage.name == "video":
        text += " or set their rows to Regenerate"
    text += (
        f". I act on them once Error Log has stayed the same for {_seconds(settle_seconds)}. "
        f"To leave it as it is, set Status back to {stage.ready.label}."
    )
    if already:
        quoted = "; ".join(f"“{quote(line)}”" for line in already[:5])
        more = f" and {len(already) - 5} more" if len(already) > 5 else ""
        text += (
            f"\nThe lines in Error Log were all acted on before ({quoted}{more}): "
            "to ask for the same again, write the line again on a new line."
        )
    return text


def _problems_comment(
    stage: Stage, problems: Sequence[tuple[str, str]], settle_seconds: float
) -> str:
    shown = problems[:_QUOTED_LINES]
    quoted = "\n".join(f"> {quote(line)} — {quote(reason)}" for line, reason in shown)
    if len(problems) > len(shown):
        quoted += f"\n(and {len(problems) - len(shown):,} more lines like these)"
    return (
        f"{stage.error.label}: I could not read "
        + ("this line" if len(problems) == 1 else f"these {len(problems)} lines")
        + " of Error Log, so nothing was regenerated yet:\n"
        + quoted
        + "\n"
        + accepted_forms_help()
        + "\nEdit or delete "
        + ("it" if len(problems) == 1 else "them")
        + f"; I read Error Log again once it has stayed the same for {_seconds(settle_seconds)}."
        f" To leave it as it is, set Status back to {stage.ready.label}."
    )


async def _back_to_gate(
    ctx: PipelineContext,
    session: AsyncSession,
    task: Task,
    stage: Stage,
    message: str,
    summary: str,
) -> None:
    """Nothing is regenerated: the verdict's history says why; the gate opens again."""
    now = ctx.clock()
    visit = await pending_visit(session, task.id)
    if visit is not None:
        write_history(session, task, visit, summary)
    comment(session, task, message)
    await move(session, task, stage.ready, message[:200])
    await open_visit(session, task, stage.name, int(task.rounds.get(stage.name, 1)), now)


async def _live_lines(session: AsyncSession, task: Task, now: datetime) -> Counter[str]:
    """Acted-on copies per line hash; records whose line left the (settled) log are retired."""
    rows = list(
        (
            await session.execute(
                select(ReviewLine)
                .where(ReviewLine.task_id == task.id, ReviewLine.retired_at.is_(None))
                .order_by(ReviewLine.id.desc())
            )
        )
        .scalars()
        .all()
    )
    acted = Counter(row.line_hash for row in rows)
    retire = lines_to_retire(task.error_log, acted)
    for row in rows:  # newest first
        if retire.get(row.line_hash, 0) > 0:
            row.retired_at = now
            retire[row.line_hash] -= 1
            acted[row.line_hash] -= 1
    return +acted


def _row_explanations(
    module: StageModule, review: Review, clip_count: int
) -> list[tuple[str, str]]:
    """(what, description) for the Videos rows set to Regenerate that this review uses."""
    out: list[tuple[str, str]] = []
    for clip in review.clips:
        if clip.notion_verdict != "Regenerate" or module.STAGE.name != "video":
            continue
        if clip.number in review.plan.targets.get("video", {}):
            continue  # named in Error Log too: that line says it already
        text = route_description("regenerate", [clip.number], clip_count)
        if clip.reviewer_note:
            text += f" (note: {clip.reviewer_note})"
        out.append((f"Videos row of clip {clip.number} set to Regenerate", text))
    return out


def _bounded_notes(
    targets: Sequence[tuple[StageModule, dict[int, str]]],
) -> tuple[list[tuple[StageModule, dict[int, str]]], list[str]]:
    """Each note as it goes into a prompt and onto a row: at most NOTE_MAX_CHARS.

    Returns the bounded targets and one line per stage with cut notes, for the
    comment: the reviewer learns what the model was actually told.
    """
    bounded: list[tuple[StageModule, dict[int, str]]] = []
    cuts: list[str] = []
    for owner, items in targets:
        bounded.append((owner, {n: bound(note, NOTE_MAX_CHARS).text for n, note in items.items()}))
        long_notes = [n for n, note in items.items() if len(note) > NOTE_MAX_CHARS]
        if long_notes:
            longest = max(len(items[n]) for n in long_notes)
            cuts.append(
                f"- Too long for the model: the note for "
                f"{summarise_numbers(long_notes, _UNITS[owner.STAGE.name])} has "
                f"{longest:,} characters; only the first {NOTE_MAX_CHARS:,} are used "
                f"({longest - NOTE_MAX_CHARS:,} cut). Shorten it to say it all."
            )
    return bounded, cuts


def _understood(
    stage: Stage,
    round_no: int,
    explanations: Sequence[LineExplanation],
    rows: Sequence[tuple[str, str]],
    next_step: str,
    cuts: Sequence[str] = (),
) -> str:
    lines = [f"{stage.error.label}, round {round_no}. What I read, line by line:"]
    for explanation in explanations:
        if explanation.actions:
            lines.append(
                f"- “{quote(explanation.reading.line)}”: {quote(explanation.description, 400)}"
            )
    for what, description in rows:
        lines.append(f"- {what}: {quote(description, 400)}")
    lines.extend(cuts)
    lines.append(next_step)
    lines.append("If that is not what you meant, set Status to Cancelled or write to the team.")
    return "\n".join(lines)


async def apply_review(ctx: PipelineContext, task_id: int) -> datetime | None:
    """Apply the review of a task in an *X Error* status; return when to look again."""
    now = ctx.clock()
    settle = ctx.settings.review_settle_seconds
    async with ctx.sessions() as session, session.begin():
        task = await session.get(Task, task_id)
        assert task is not None
        module = stage_for(Status(task.status))
        stage = module.STAGE
        channel = ctx.channels.get(task.channel)
        clips = await load_clips(session, task_id)
        keyframes = await load_keyframes(session, task_id)

        own = module.redo_targets(Review(task, clips, keyframes, []))
        if own.whole is not None:
            # Nothing to pick (Final Error): redo the stage, whatever the notes say.
            visit = await pending_visit(session, task_id)
            if visit is not None:
                write_history(session, task, visit, own.whole)
            await move(session, task, stage.working, own.whole)
            return None

        if await error_log_missing(session, ctx.notion_settings):
            # Error Log was renamed or deleted: the notes are unknown, not absent.
            # No "waiting for your notes" bounce; the drift comment said what to fix.
            return now + _recheck(ctx)
        if not is_settled(task, clips, settle):
            # The leader confirms the text with a page read after the settle time
            # and wakes us; until then a half-typed line is never read.
            return now + _recheck(ctx)
        input_hash = review_input_hash(task.error_log, clips)
        if settle <= 0:
            task.review_input_hash = task.review_settled_hash = input_hash

        acted = await _live_lines(session, task, now)
        new = new_review_lines(task.error_log, acted)
        classes = issue_classes(channel.review_labels.as_mapping())
        explanations = explain_review(
            [line.text for line in new], task.clip_count, stage.name, classes
        )
        plan = plan_review(explanations)
        review = Review(task, clips, keyframes, [line.text for line in new], plan)
        redos = [
            (m, m.redo_targets(review))
            for m in STAGE_MODULES
            if m is module or plan.targets.get(m.STAGE.name)
        ]
        problems = [(e.reading.line, e.problem) for e in explanations if e.problem is not None]
        for _, redo in redos:
            for reason in sorted(redo.reasons):
                lines = redo.problem_lines or [line.text for line in new] or ["(Error Log)"]
                problems.extend((line, reason) for line in lines)
        if problems:
            if task.review_noted_hash != input_hash:
                comment(session, task, _problems_comment(stage, problems, settle))
                task.review_noted_hash = input_hash
            return now + _recheck(ctx)

        targets = [(m, redo.targets) for m, redo in redos if redo.targets]
        if not targets:
            if task.review_waiting_since != task.status_changed_at:
                already = [line.text for line in reviewer_lines(task.error_log)]
                comment(session, task, waiting_comment(stage, settle, already if acted else []))
                task.review_waiting_since = task.status_changed_at
            task.review_noted_hash = input_hash
            return now + _recheck(ctx)

        round_no = int(task.rounds.get(stage.name, 1))
        all_targets: dict[str, dict[int, str]] = {m.STAGE.name: dict(t) for m, t in targets}
        if review_rounds_used(task, stage) >= channel.max_review_rounds:
            await _back_to_gate(
                ctx,
                session,
                task,
                stage,
                f"This task already had {channel.max_review_rounds} {stage.name} review rounds, "
                f"the channel's maximum. Nothing was regenerated: approve it, or Cancel.",
                "nothing regenerated (review round limit)",
            )
            return None
        over = _over_budget(ctx, task, channel, targets)
        if over:
            await _back_to_gate(
                ctx, session, task, stage, over, "nothing regenerated (over the budget)"
            )
            return None

        await _act(ctx, session, review, module, targets, explanations, new, round_no)
        # Reading the rows' Regenerate consumed them: the input changed, not by anyone
        # typing, so it stays settled.
        settled = review_input_hash(task.error_log, clips)
        task.review_input_hash = task.review_settled_hash = settled
        visit = await pending_visit(session, task_id)
        if visit is not None:
            visit.named = named_of(all_targets)
            write_history(session, task, visit, summary_of(all_targets))
    return None


async def _act(
    ctx: PipelineContext,
    session: AsyncSession,
    review: Review,
    module: StageModule,
    targets: Sequence[tuple[StageModule, dict[int, str]]],
    explanations: Sequence[LineExplanation],
    new: Sequence[NewLine],
    round_no: int,
) -> None:
    task = review.task
    stage = module.STAGE
    rows = _row_explanations(module, review, task.clip_count)
    for line in new:
        session.add(
            ReviewLine(
                task_id=task.id,
                round=round_no,
                stage=stage.name,
                line_hash=line.key,
                line=line.text,
            )
        )
    targets, cuts = _bounded_notes(targets)
    for owner, items in targets:
        await owner.mark_redo(session, review, items)
    here = STAGE_MODULES.index(module)
    working = [m for m, _ in targets if STAGE_MODULES.index(m) <= here]
    named = "; ".join(
        f"{m.STAGE.name} {summarise_numbers(items, _UNITS[m.STAGE.name])}" for m, items in targets
    )
    if not working:
        # Only notes for a later stage (narration lines named at the video review):
        # recorded; the clips stand, so the gate opens again.
        later = ", ".join(m.STAGE.working.label for m, _ in targets)
        message = _understood(
            stage,
            round_no,
            explanations,
            rows,
            f"Nothing to regenerate here: the notes are kept for {later}. The task is back "
            f"at {stage.ready.label}; approve it when the rest is right.",
            cuts,
        )
        comment(session, task, message)
        await move(session, task, stage.ready, f"notes for later: {named}")
        await open_visit(session, task, stage.name, round_no, ctx.clock())
        return
    first = working[0]
    next_step = f"Now: {first.STAGE.working.label}."
    if first is not module:
        next_step += " The later stages come back to their reviews as usual."
    comment(session, task, _understood(stage, round_no, explanations, rows, next_step, cuts))
    await move(session, task, first.STAGE.working, f"regenerate {named}")


def _over_budget(
    ctx: PipelineContext,
    task: Task,
    channel: ChannelConfig,
    targets: Sequence[tuple[StageModule, dict[int, str]]],
) -> str | None:
    if channel.budget_usd is None:
        return None
    providers = ctx.providers_for(channel)
    extra = sum(m.redo_cost(providers, task, len(items)) for m, items in targets)
    n = sum(len(items) for _, items in targets)
    projected = task.cost_usd + extra
    if projected <= channel.budget_usd + 1e-9:
        return None
    return (
        f"Regenerating {n} item(s) would bring this task to about ${projected:.2f}, over the "
        f"channel budget of ${channel.budget_usd:.2f}. Nothing was spent. Raise the budget, "
        "or approve what is there."
    )
