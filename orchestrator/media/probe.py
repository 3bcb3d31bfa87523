"""Probe media files with PyAV (libav* in-process, no ffprobe binary needed)."""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass
from pathlib import Path

import av

from orchestrator.errors import MediaError

__all__ = ["MediaInfo", "probe", "probe_sync"]


@dataclass(frozen=True, slots=True)
class MediaInfo:
    """What the pipeline needs to know about one media file.

    `duration_s` is the video stream's duration when there is video (what the
    timeline is built from), otherwise the audio stream's / container's.
    `container_duration_s` is the whole file's, as players report it.
    Video fields are None for audio-only files (e.g. narration WAV). `frames` is
    None when the container does not record a frame count (WebM).
    """

    duration_s: float
    container_duration_s: float
    width: int | None
    height: int | None
    codec: str | None
    fps: float | None
    has_audio: bool
    audio_codec: str | None
    frames: int | None = None
    pix_fmt: str | None = None
    time_base: str | None = None
    audio_sample_rate: int | None = None
    has_subtitles: bool = False
    format_name: str = ""
    size_bytes: int = 0

    @property
    def has_video(self) -> bool:
        return self.codec is not None


def _stream_duration(stream: av.stream.Stream) -> float | None:
    if stream.duration is not None and stream.time_base is not None and stream.duration > 0:
        return float(stream.duration * stream.time_base)
    return None


def probe_sync(path: str | os.PathLike[str]) -> MediaInfo:
    """Blocking probe; prefer `await probe(path)` from async code."""
    p = Path(path)
    if not p.is_file():
        raise MediaError(f"cannot probe {p}: no such file")
    try:
        container = av.open(str(p), mode="r")
    except av.FFmpegError as exc:
        raise MediaError(f"cannot probe {p.name}: not a readable media file ({exc})") from exc
    try:
        video = next(iter(container.streams.video), None)
        audio = next(iter(container.streams.audio), None)
        if video is None and audio is None:
            raise MediaError(f"cannot probe {p.name}: no audio or video stream")

        container_s = float(container.duration) / av.time_base if container.duration else None
        video_s = _stream_duration(video) if video is not None else None
        audio_s = _stream_duration(audio) if audio is not None else None
        # Video defines the timeline; fall back to the container (WebM/Matroska keep
        # no per-stream duration), never to a possibly longer audio stream.
        duration = (video_s if video is not None else audio_s) or container_s
        if duration is None:
            raise MediaError(f"cannot probe {p.name}: duration unknown")

        width = height = frames = None
        codec = pix_fmt = time_base = None
        fps: float | None = None
        if video is not None:
            ctx = video.codec_context
            codec = ctx.name
            width, height = ctx.width, ctx.height
            pix_fmt = ctx.format.name if ctx.format is not None else None
            rate = video.average_rate or video.guessed_rate or video.base_rate
            fps = float(rate) if rate else None
            frames = video.frames or None  # None where the container keeps no count (WebM)
            time_base = str(video.time_base) if video.time_base is not None else None
        return MediaInfo(
            duration_s=duration,
            container_duration_s=container_s or duration,
            width=width,
            height=height,
            codec=codec,
            fps=fps,
            has_audio=audio is not None,
            audio_codec=audio.codec_context.name if audio is not None else None,
            frames=frames,
            pix_fmt=pix_fmt,
            time_base=time_base,
            audio_sample_rate=audio.codec_context.sample_rate if audio is not None else None,
            has_subtitles=any(True for _ in container.streams.subtitles),
            format_name=container.format.name,
            size_bytes=p.stat().st_size,
        )
    except av.FFmpegError as exc:
        raise MediaError(f"cannot probe {p.name}: {exc}") from exc
    finally:
        container.close()


async def probe(path: str | os.PathLike[str]) -> MediaInfo:
    """Probe `path` in a worker thread (PyAV blocks). Raises MediaError on unreadable files."""
    return await asyncio.to_thread(probe_sync, path)
