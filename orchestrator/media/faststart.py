"""Move `moov` before `mdat` by remuxing (stream copy, never a re-encode)."""

from __future__ import annotations

import os
from pathlib import Path

import structlog

from orchestrator.media._atomic import atomic_target
from orchestrator.media.ffmpeg import run_ffmpeg
from orchestrator.media.mp4boxes import is_faststart

__all__ = ["faststart", "muxer_for"]

log = structlog.get_logger(__name__)


def muxer_for(path: Path) -> str:
    """ffmpeg muxer name for an MP4-family output path (temp names hide nothing)."""
    return "mov" if path.suffix.lower() == ".mov" else "mp4"


async def faststart(path: str | os.PathLike[str], *, timeout_s: float = 300.0) -> bool:
    """Make `path` faststart in place. Returns True when rewritten, False when it already was.

    Idempotent: an already-faststart file is not opened for writing (bytes and mtime
    unchanged). Otherwise every stream is copied (`-map 0 -c copy`), so the media
    payload is bit-identical; only the container layout changes. The new file
    replaces the old one atomically.
    """
    p = Path(path)
    if is_faststart(p):  # also raises MediaError for non-MP4 input
        return False
    with atomic_target(p, mode_from=p) as tmp:
        await run_ffmpeg(
            "-i",
            p,
            "-map",
            "0",
            "-c",
            "copy",
            "-map_metadata",
            "0",
            "-movflags",
            "+faststart",
            "-f",
            muxer_for(p),
            tmp,
            timeout_s=timeout_s,
        )
    log.debug("faststart_rewritten", path=str(p), bytes=p.stat().st_size)
    return True
