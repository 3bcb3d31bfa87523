"""Delivery renditions of the final video: MP4/MOV (H.264/AAC) or WebM (VP9/Opus)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

import structlog

from orchestrator.errors import MediaError
from orchestrator.media._atomic import atomic_target
from orchestrator.media.ffmpeg import run_ffmpeg
from orchestrator.media.probe import probe

__all__ = ["EXPORT_FORMATS", "EXPORT_HEIGHTS", "ExportFormat", "ExportHeight", "export"]

log = structlog.get_logger(__name__)

ExportFormat = Literal["mp4", "webm", "mov"]
ExportHeight = Literal[480, 720, 1080]
EXPORT_FORMATS: tuple[ExportFormat, ...] = ("mp4", "webm", "mov")
EXPORT_HEIGHTS: tuple[ExportHeight, ...] = (480, 720, 1080)

_H264 = ["-c:v", "libx264", "-preset", "veryfast", "-crf", "21", "-pix_fmt", "yuv420p"]
_AAC = ["-c:a", "aac", "-b:a", "160k"]
# Realtime deadline + cpu-used 8: VP9 is otherwise minutes per minute of video.
_VP9 = [
    "-c:v", "libvpx-vp9", "-deadline", "realtime", "-cpu-used", "8", "-row-mt", "1",
    "-b:v", "0", "-crf", "32", "-pix_fmt", "yuv420p",
]  # fmt: skip
_OPUS = ["-c:a", "libopus", "-b:a", "128k", "-ar", "48000"]


async def export(
    final: str | os.PathLike[str],
    format: ExportFormat,
    height: ExportHeight,
    out_dir: str | os.PathLike[str],
    *,
    timeout_s: float = 1800.0,
) -> Path:
    """Render `final` as `<out_dir>/<stem>_<height>p.<format>` and return that path.

    The picture is scaled to exactly `height` rows, width follows the aspect ratio
    rounded to an even number (H.264/VP9 4:2:0 need even dimensions). Audio and
    subtitle tracks are carried over when present (subtitles as mov_text in MP4/MOV,
    WebVTT in WebM). MP4/MOV outputs are faststart.
    """
    if format not in EXPORT_FORMATS:
        raise MediaError(
            f"export format must be one of {', '.join(EXPORT_FORMATS)}, not {format!r}"
        )
    if height not in EXPORT_HEIGHTS:
        raise MediaError(f"export height must be one of {EXPORT_HEIGHTS}, not {height!r}")
    src = Path(final)
    info = await probe(src)
    if not info.has_video:
        raise MediaError(f"export: {src.name} has no video stream")
    out = Path(out_dir) / f"{src.stem}_{height}p.{format}"
    if out.resolve() == src.resolve():
        raise MediaError(f"export would overwrite its source {src}")

    args: list[str | Path] = ["-i", src, "-map", "0:v:0", "-vf", f"scale=-2:{height},setsar=1"]
    if info.has_audio:
        args += ["-map", "0:a:0"]
    if info.has_subtitles:
        args += ["-map", "0:s?"]
    if format == "webm":
        args += _VP9 + (_OPUS if info.has_audio else []) + ["-c:s", "webvtt", "-f", "webm"]
    else:
        args += _H264 + (_AAC if info.has_audio else []) + ["-c:s", "mov_text"]
        args += ["-movflags", "+faststart", "-f", "mov" if format == "mov" else "mp4"]
    with atomic_target(out) as tmp:
        await run_ffmpeg(*args, tmp, timeout_s=timeout_s)
    log.info("exported", source=str(src), out=str(out), format=format, height=height)
    return out
