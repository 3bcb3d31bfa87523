"""Find ffmpeg once: a system binary if present, otherwise the imageio-ffmpeg wheel's."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import shutil
from pathlib import Path

import structlog

from orchestrator.errors import MediaError

__all__ = ["ffmpeg_exe", "run_ffmpeg"]

log = structlog.get_logger(__name__)


@functools.cache
def ffmpeg_exe() -> str:
    system = shutil.which("ffmpeg")
    if system:
        return system
    import imageio_ffmpeg

    return str(imageio_ffmpeg.get_ffmpeg_exe())


async def run_ffmpeg(*args: str | Path, timeout_s: float = 300.0) -> None:
    """Run ffmpeg with `args`; raise MediaError with its stderr tail on failure.

    The process is killed when it times out or when the awaiting task is cancelled
    (daemon shutdown), so no orphan encoder keeps burning CPU.
    """
    proc = await asyncio.create_subprocess_exec(
        ffmpeg_exe(),
        "-hide_banner",
        "-nostdin",  # ffmpeg otherwise reads stdin and stops when run in the background
        "-loglevel",
        "error",
        "-y",
        *map(str, args),
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        _, stderr = await asyncio.wait_for(proc.communicate(), timeout_s)
    except TimeoutError as exc:
        await _kill(proc)
        raise MediaError(f"ffmpeg timed out after {timeout_s:.0f}s") from exc
    except BaseException:
        await _kill(proc)
        raise
    if proc.returncode != 0:
        tail = stderr.decode(errors="replace").strip()[-800:]
        log.warning("ffmpeg_failed", returncode=proc.returncode, stderr_tail=tail)
        raise MediaError(f"ffmpeg exited with {proc.returncode}: {tail}")


async def _kill(proc: asyncio.subprocess.Process) -> None:
    if proc.returncode is None:
        with contextlib.suppress(ProcessLookupError):  # exited meanwhile
            proc.kill()
        # Shielded so a second cancellation cannot leave a zombie behind.
        await asyncio.shield(proc.wait())
