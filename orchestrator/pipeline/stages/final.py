"""Final stage (Assembling): clips in order, narration lines placed at their clips, subtitles.

There is nothing to pick at its review: Final Error assembles again, with whatever
changed since. Approving it (Done) ends the task.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from notion_sync.ops import BlockSpec
from orchestrator.db.models import Clip, Task
from orchestrator.media import assemble, export, run_ffmpeg
from orchestrator.pipeline.context import PipelineContext, ProviderSet
from orchestrator.pipeline.files import ensure_local, task_ref
from orchestrator.pipeline.gates import reach_gate
from orchestrator.pipeline.notion_out import file_ref, update_task_fields
from orchestrator.pipeline.stages.base import Redo, Review
from orchestrator.state.clips import USABLE
from orchestrator.state.status import stage_named
from storage.keys import (
    clip_file_name,
    export_key,
    final_file_name,
    final_key,
    narration_line_file_name,
    narration_track_file_name,
)

__all__ = [
    "GATE_HINT",
    "STAGE",
    "approve",
    "build_narration_track",
    "mark_redo",
    "redo_cost",
    "redo_targets",
    "run",
    "srt_for",
]

STAGE = stage_named("final")
GATE_HINT = (
    "Watch the final video. Set Status to {status:done}, or to {status:final_error} to "
    "assemble it again."
)


def _srt_time(seconds: float) -> str:
    ms = round(seconds * 1000)
    h, rest = divmod(ms, 3_600_000)
    m, rest = divmod(rest, 60_000)
    s, ms = divmod(rest, 1000)
    return f"{h:02d}:{m:02d}:{s:02d},{ms:03d}"


def srt_for(lines: list[tuple[float, float, str]]) -> str:
    """(start, end, text) cues -> SRT text."""
    cues = [
        f"{i}\n{_srt_time(start)} --> {_srt_time(end)}\n{text.strip()}\n"
        for i, (start, end, text) in enumerate(lines, 1)
        if text.strip() and end > start
    ]
    return "\n".join(cues)


async def build_narration_track(parts: list[tuple[Path | None, float]], out: Path) -> Path:
    """One WAV: each clip's line (or silence) padded or cut to that clip's length."""
    inputs: list[str | Path] = []
    chains: list[str] = []
    labels: list[str] = []
    index = 0
    for i, (wav, seconds) in enumerate(parts):
        if wav is None:
            chains.append(f"anullsrc=r=24000:cl=mono,atrim=0:{seconds:.3f}[a{i}]")
        else:
            inputs += ["-i", wav]
            chains.append(
                f"[{index}:a]aresample=24000,aformat=channel_layouts=mono,apad,"
                f"atrim=0:{seconds:.3f},asetpts=N/SR/TB[a{i}]"
            )
            index += 1
        labels.append(f"[a{i}]")
    graph = ";".join(chains) + f";{''.join(labels)}concat=n={len(parts)}:v=0:a=1[out]"
    await run_ffmpeg(*inputs, "-filter_complex", graph, "-map", "[out]", "-c:a", "pcm_s16le", out)
    return out


async def run(ctx: PipelineContext, task_id: int) -> datetime | None:
    async with ctx.sessions() as session:
        task = await session.get(Task, task_id)
        assert task is not None
        channel = ctx.channels.get(task.channel)
        clips = [
            c
            for c in (
                await session.execute(
                    select(Clip).where(Clip.task_id == task_id).order_by(Clip.number)
                )
            ).scalars()
            if c.status in USABLE
        ]
        ref, round_no = task_ref(task), task.final_round + 1
    work = ctx.task_dir(task_id)
    clip_paths = [
        await ensure_local(work / clip_file_name(c.number, c.attempt), c.public_url) for c in clips
    ]
    parts: list[tuple[Path | None, float]] = []
    cues: list[tuple[float, float, str]] = []
    position = 0.0
    for clip in clips:
        seconds = clip.duration_s or float(clip.seconds)
        wav = None
        if clip.narration_attempt:
            wav = await ensure_local(
                work / narration_line_file_name(clip.number, clip.narration_attempt),
                clip.narration_url,
            )
            spoken = min(seconds, clip.narration_seconds or seconds)
            cues.append((position, position + spoken, clip.narration))
        parts.append((wav, seconds))
        position += seconds
    narration = await build_narration_track(parts, work / narration_track_file_name(round_no))
    subtitles = work / final_file_name(round_no, "srt")
    subtitles.write_text(srt_for(cues), encoding="utf-8")
    final = await assemble(clip_paths, narration, work / final_file_name(round_no), subtitles)
    storage = ctx.storage_for(channel)
    key = final_key(channel.name, ref, round_no)
    stored = await storage.put(key, final, "video/mp4")
    exported: list[tuple[str, str]] = []
    for item in channel.exports:
        out = await export(final, item.format, item.height, work / "exports")
        ekey = export_key(channel.name, ref, round_no, item.height, item.format)
        put = await storage.put(
            ekey, out, f"video/{'quicktime' if item.format == 'mov' else item.format}"
        )
        exported.append((f"{item.format} {item.height}p", put.url))

    async with ctx.sessions() as session, session.begin():
        task = await session.get(Task, task_id)
        assert task is not None
        task.final_round = round_no
        task.final_key = stored.key
        task.final_url = stored.url or None
        video = file_ref(final.name, stored.url or None, stored.file_upload_id)
        update_task_fields(session, task, final_video=[video.model_dump()] if video else [])
        body: list[BlockSpec] = []
        if video is not None:
            body.append(BlockSpec(kind="video", text="Final video", file=video))
        body += [
            BlockSpec(kind="paragraph", text=f"Export {name}: {url}")
            for name, url in exported
            if url
        ]
        await reach_gate(
            session,
            task,
            STAGE,
            channel,
            headline=f"Final video ready (round {round_no}, {position:.1f}s, {len(clips)} clips).",
            body=body,
            hint=GATE_HINT,
        )
    return None


def redo_targets(review: Review) -> Redo:
    # Nothing to pick: Final Error re-assembles (with whatever changed since).
    return Redo(whole="re-assemble after Final Error")


async def mark_redo(session: AsyncSession, review: Review, targets: Mapping[int, str]) -> None:
    return None


def redo_cost(providers: ProviderSet, task: Task, n: int) -> float:
    return 0.0  # assembly is local work


async def approve(session: AsyncSession, task: Task) -> None:
    return None
