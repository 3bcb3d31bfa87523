"""Find ffmpeg once: a system binary if present, otherwise the imageio-ffmpeg wheel's."""

from __future__ import annotations

import asyncio
import functools
import shutil
from pathlib import Path

from orchestrator.errors import MediaError

__all__ = ["ffmpeg_exe", "run_ffmpeg"]


@functools.cache
def ffmpeg_exe() -> str:
    system = shutil.which("ffmpeg")
    if system:
        return system
    import imageio_ffmpeg

    return str(imageio_ffmpeg.get_ffmpeg_exe())


async def run_ffmpeg(*args: str | Path, timeout_s: float = 300.0) -> None:
    """Run ffmpeg with `args`; raise MediaError with its stderr tail on failure."""
    proc = await asyncio.create_subprocess_exec(
        ffmpeg_exe(),
        "-hide_banner",
        "-loglevel",
        "error",
        "-y",
        *map(str, args),
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        _, stderr = await asyncio.wait_for(proc.communicate(), timeout_s)
    except TimeoutError as exc:
        proc.kill()
        await proc.wait()
        raise MediaError(f"ffmpeg timed out after {timeout_s:.0f}s") from exc
    if proc.returncode != 0:
        tail = stderr.decode(errors="replace").strip()[-800:]
        raise MediaError(f"ffmpeg exited with {proc.returncode}: {tail}")
