"""Benchmark: a 6-clip storyboard through the local provider, against encoding's floor.

Pipeline (timed as a whole, stage by stage): plan a 6-shot storyboard, render 7
keyframes (each referencing the previous one), render 6 clips of 8 s (clip i runs
from keyframe i to keyframe i+1, started together, as the pipeline does), narrate
the 6 lines. The issue's target: under 60 s on 2 cores.

Baseline, measured in the same run: ffmpeg encoding the same number of frames of a
plain `color` source at the same size, frame rate, preset and CRF in one process —
the floor cost of encoding. The ratio pipeline / baseline is what to compare between
machines and runs; absolute seconds depend on the machine and its load.
"""

from __future__ import annotations

import asyncio
import io
import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import av

from orchestrator.media.ffmpeg import run_ffmpeg
from orchestrator.providers.base import Aspect, ClipDone, ClipPending, ClipRequest, Image
from orchestrator.providers.local import LocalProvider
from orchestrator.providers.local_settings import LocalProviderSettings

__all__ = ["main"]

BRIEF = (
    "At dawn a lighthouse keeper climbs the spiral stairs. "
    "Fog rolls over a grey sea. The great lamp flickers, then catches. "
    "Far out, a fishing boat is lost in the swell. "
    "She swings the beam across the water. "
    "The boat turns toward the light. "
    "By sunrise it is tied up safe in the harbour."
)
SHOTS = 6
SECONDS = 8
ASPECT: Aspect = "16:9"
TARGET_S = 60.0
BASELINE_RUNS = 3


async def _baseline(settings: LocalProviderSettings, frames: int, out: Path) -> float:
    """Seconds to encode `frames` frames of a flat colour: the floor of any render."""
    w, h = settings.size_for(ASPECT)
    started = time.perf_counter()
    await run_ffmpeg(
        "-f", "lavfi",
        "-i", f"color=c=0x336699:s={w}x{h}:r={settings.fps}",
        "-frames:v", str(frames),
        "-c:v", "libx264",
        "-preset", settings.x264_preset,
        "-crf", str(settings.crf),
        "-pix_fmt", "yuv420p",
        "-an",
        "-movflags", "+faststart",
        out,
    )  # fmt: skip
    return time.perf_counter() - started


async def _pipeline(provider: LocalProvider) -> tuple[dict[str, float], list[bytes], float]:
    stages: dict[str, float] = {}
    t0 = time.perf_counter()

    board = await provider.plan_storyboard(BRIEF, SHOTS, SECONDS, ASPECT)
    t1 = time.perf_counter()
    stages["storyboard_s"] = t1 - t0

    prompts = [s.visual_prompt for s in board.shots]
    prompts.append(f"{board.shots[-1].visual_prompt} Closing frame.")
    keyframes: list[Image] = []
    for prompt in prompts:
        reference = keyframes[-1] if keyframes else None
        keyframes.append(await provider.render_keyframe(prompt, ASPECT, reference=reference))
    t2 = time.perf_counter()
    stages["keyframes_s"] = t2 - t1

    names = [
        await provider.start_clip(
            ClipRequest(
                start_frame=keyframes[i],
                end_frame=keyframes[i + 1],
                prompt=f"{shot.visual_prompt} {shot.motion_prompt}",
                seconds=shot.seconds,
                aspect=ASPECT,
            )
        )
        for i, shot in enumerate(board.shots)
    ]
    clips: list[bytes] = []
    for name in names:
        while isinstance(result := await provider.poll_clip(name), ClipPending):
            await provider.wait_clip(name)
        if not isinstance(result, ClipDone) or result.video is None:
            raise RuntimeError(f"clip {name} did not finish: {result}")
        clips.append(result.video)
    t3 = time.perf_counter()
    stages["clips_s"] = t3 - t2

    narrations = [await provider.narrate(s.narration, "Kore") for s in board.shots]
    t4 = time.perf_counter()
    stages["narration_s"] = t4 - t3
    return stages, clips, sum(n.seconds for n in narrations)


def _check_clip(video: bytes, fps: int) -> tuple[int, float, str]:
    with av.open(io.BytesIO(video), mode="r") as container:
        stream = container.streams.video[0]
        frames = sum(1 for _ in container.decode(video=0))
        if stream.duration is not None and stream.time_base is not None:
            duration = float(stream.duration * stream.time_base)
        else:
            duration = frames / fps
        return frames, duration, f"{stream.codec_context.width}x{stream.codec_context.height}"


async def _run() -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="reelgate-bench-local-") as tmp:
        settings = LocalProviderSettings(work_dir=Path(tmp) / "local")
        frames = SHOTS * SECONDS * settings.fps
        baselines = [
            await _baseline(settings, frames, Path(tmp) / "baseline.mp4")
            for _ in range(BASELINE_RUNS)
        ]
        provider = LocalProvider(settings)
        try:
            started = time.perf_counter()
            stages, clips, narration_s = await _pipeline(provider)
            pipeline_s = time.perf_counter() - started
        finally:
            await provider.aclose()

    checks = [_check_clip(c, settings.fps) for c in clips]
    baseline_s = statistics.median(baselines)
    w, h = settings.size_for(ASPECT)
    return {
        "bench": "local_provider",
        "clips": SHOTS,
        "clip_seconds": SECONDS,
        "keyframes": SHOTS + 1,
        "frames": frames,
        "size": f"{w}x{h}",
        "fps": settings.fps,
        "preset": settings.x264_preset,
        "max_concurrent_renders": settings.max_concurrent_renders,
        "pipeline_s": round(pipeline_s, 3),
        **{k: round(v, 3) for k, v in stages.items()},
        "baseline_s": round(baseline_s, 3),
        "baseline_runs_s": [round(b, 3) for b in baselines],
        "ratio": round(pipeline_s / baseline_s, 2),
        "target_s": TARGET_S,
        "under_target": pipeline_s < TARGET_S,
        "clip_frames_ok": all(f == SECONDS * settings.fps for f, _, _ in checks),
        "clip_max_duration_error_s": round(max(abs(d - SECONDS) for _, d, _ in checks), 4),
        "narration_seconds": round(narration_s, 3),
        "video_mb": round(sum(len(c) for c in clips) / 1e6, 3),
    }


def _table(result: dict[str, Any]) -> str:
    rows = [
        (
            "clips x seconds",
            f"{result['clips']} x {result['clip_seconds']} s ({result['frames']} frames)",
        ),
        ("size / fps / preset", f"{result['size']} / {result['fps']} / {result['preset']}"),
        ("storyboard", f"{result['storyboard_s']:.3f} s"),
        ("keyframes (7)", f"{result['keyframes_s']:.3f} s"),
        ("clips (6)", f"{result['clips_s']:.3f} s"),
        ("narration (6)", f"{result['narration_s']:.3f} s"),
        ("pipeline total", f"{result['pipeline_s']:.3f} s"),
        ("baseline (color encode)", f"{result['baseline_s']:.3f} s (median of {BASELINE_RUNS})"),
        ("ratio pipeline/baseline", f"{result['ratio']:.2f}x"),
        ("target", f"< {result['target_s']:.0f} s: {'yes' if result['under_target'] else 'NO'}"),
        ("clips frame-exact", "yes" if result["clip_frames_ok"] else "NO"),
    ]
    width = max(len(k) for k, _ in rows)
    return "\n".join(f"{k.ljust(width)}  {v}" for k, v in rows)


def main() -> None:
    result = asyncio.run(_run())
    print(_table(result))
    print(json.dumps(result, sort_keys=True))


if __name__ == "__main__":
    main()
