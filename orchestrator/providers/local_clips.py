"""Clips for the local provider: long-running operations that survive restarts.

An operation is a folder `work_dir/ops/local-ops/<id>/` holding the request
(`request.json` + both keyframes as PNG). `request.json` is written last, so a
folder without it was never handed to a caller. The render writes `clip.mp4`
atomically (temp file + rename); a permanent failure leaves `error.json`.
Polling an operation that has neither an output nor a running render (the process
restarted) starts the render again from the saved request.

The picture: a slow camera move on the start keyframe that crossfades into the end
keyframe. The first frame is exactly the start keyframe and the last frame exactly
the end keyframe, so neighbouring clips (which share a keyframe) join seamlessly.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import re
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import structlog

from orchestrator.errors import MediaError, ProviderPermanentError
from orchestrator.media.ffmpeg import run_ffmpeg
from orchestrator.providers.base import (
    Charge,
    ClipDone,
    ClipFailed,
    ClipFiltered,
    ClipPending,
    ClipPoll,
    ClipRequest,
)
from orchestrator.providers.catalogue import quote_clip, unbilled
from orchestrator.providers.local_images import decode_image, encode_png
from orchestrator.providers.local_settings import LocalProviderSettings

__all__ = [
    "CLIP_MODEL",
    "OP_PREFIX",
    "LocalClipRenderer",
    "Motion",
    "clip_filtergraph",
    "motion_for",
    "remove_operation",
]

log = structlog.get_logger(__name__)

CLIP_MODEL = "local-clip"
OP_PREFIX = "local-ops/"
_OP_NAME = re.compile(r"^local-ops/[0-9a-f]{16}-[0-9a-f]{8}$")
_REQUEST = "request.json"
_START = "start.png"
_END = "end.png"
_OUTPUT = "clip.mp4"
_ERROR = "error.json"
# The crossfade starts at 45 % of the clip and lasts 40 %; the end keyframe then
# holds still for the last 15 %, so the clip visibly lands on it.
_FADE_START = 0.45
_FADE_LENGTH = 0.40
_ZOOM = 0.18  # how far a push in / pull out travels (18 % closer)
# zoompan crops at whole pixels; working on a 2x-upscaled frame halves the jitter.
_OVERSAMPLE = 2


@dataclass(frozen=True)
class Motion:
    """A camera move as a zoom focus: (0, 0) top-left, (1, 1) bottom-right.

    `on_end` moves the end keyframe (a pull out that settles on it) instead of the
    start keyframe (a push in that starts from it).
    """

    name: str
    focus_x: float
    focus_y: float
    on_end: bool = False


_MOTIONS: dict[str, Motion] = {
    "push in": Motion("push in", 0.5, 0.5),
    "zoom in": Motion("push in", 0.5, 0.5),
    "dolly in": Motion("push in", 0.5, 0.5),
    "pan left": Motion("pan left", 0.0, 0.5),
    "pan right": Motion("pan right", 1.0, 0.5),
    "tilt up": Motion("tilt up", 0.5, 0.0),
    "tilt down": Motion("tilt down", 0.5, 1.0),
    "pull out": Motion("pull out", 0.5, 0.5, on_end=True),
    "zoom out": Motion("pull out", 0.5, 0.5, on_end=True),
    "dolly out": Motion("pull out", 0.5, 0.5, on_end=True),
}


def motion_for(prompt: str) -> Motion:
    """The camera move a prompt asks for; the last one named wins (reviewer notes
    come after the planned motion). Without one, a drift seeded by the prompt."""
    text = prompt.lower()
    best: tuple[int, Motion] | None = None
    for phrase, motion in _MOTIONS.items():
        at = text.rfind(phrase)
        if at >= 0 and (best is None or at > best[0]):
            best = (at, motion)
    if best is not None:
        return best[1]
    digest = hashlib.sha256(prompt.encode()).digest()
    return Motion("drift", digest[0] / 255, digest[1] / 255)


def _zoompan(
    motion: Motion, frames: int, last: int, size: tuple[int, int], fps: int, moving: bool
) -> str:
    """`frames` frames of one image; a moving camera arrives at frame index `last`."""
    w, h = size
    last = max(last, 1)
    # smoothstep easing: the camera starts and stops gently
    p = f"min(on/{last},1)"
    ease = f"({p})*({p})*(3-2*({p}))"
    if not moving:
        zoom = "1"
    elif motion.on_end:
        zoom = f"1+{_ZOOM}*(1-{ease})"  # pull out: ends at exactly the whole frame
    else:
        zoom = f"1+{_ZOOM}*{ease}"  # push: starts at exactly the whole frame
    return (
        f"zoompan=z='{zoom}':x='(iw-iw/zoom)*{motion.focus_x:.3f}'"
        f":y='(ih-ih/zoom)*{motion.focus_y:.3f}':d={frames}:s={w}x{h}:fps={fps}"
    )


def clip_filtergraph(motion: Motion, total: int, size: tuple[int, int], fps: int) -> str:
    """ffmpeg filtergraph: inputs 0 (start) and 1 (end) images, output [v] of `total` frames."""
    w, h = size
    offset = round(total * _FADE_START)
    fade = max(1, round(total * _FADE_LENGTH))
    first = offset + fade
    second = total - offset
    big_w, big_h = w * _OVERSAMPLE, h * _OVERSAMPLE
    fit = (
        f"scale={big_w}:{big_h}:force_original_aspect_ratio=increase,crop={big_w}:{big_h},setsar=1"
    )
    # One extra frame on each segment: -frames:v caps the output at exactly `total`.
    a = _zoompan(motion, first + 1, first - 1, size, fps, moving=not motion.on_end)
    b = _zoompan(motion, second + 1, second - 1, size, fps, moving=motion.on_end)
    return (
        f"[0:v]{fit},{a},setsar=1,format=yuv420p[a];"
        f"[1:v]{fit},{b},setsar=1,format=yuv420p[b];"
        f"[a][b]xfade=transition=fade:offset={offset / fps:.6f}:duration={fade / fps:.6f},"
        f"format=yuv420p[v]"
    )


def _blocked_word(prompt: str, words: tuple[str, ...]) -> str | None:
    for word in words:
        if word and re.search(rf"(?<!\w){re.escape(word)}(?!\w)", prompt, re.IGNORECASE):
            return word
    return None


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


class LocalClipRenderer:
    """Starts, resumes and polls local clip operations under `settings.work_dir`."""

    def __init__(self, settings: LocalProviderSettings, blocked_words: tuple[str, ...]) -> None:
        self._settings = settings
        self._blocked = blocked_words
        self._ops_root = settings.work_dir / "ops"
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._semaphores: dict[asyncio.AbstractEventLoop, asyncio.Semaphore] = {}

    # -- public -----------------------------------------------------------------

    async def start(self, clip: ClipRequest) -> str:
        prompt, seconds, aspect = clip.prompt, clip.seconds, clip.aspect
        start_frame, end_frame = clip.start_frame.data, clip.end_frame.data
        if seconds < 1:
            raise ProviderPermanentError(f"seconds must be at least 1, got {seconds}")
        size = self._settings.size_for(aspect)
        # Decoding validates the frames now (a bad request fails at submit, not later)
        # and normalises any image format to PNG for ffmpeg.
        start_png, end_png = await asyncio.to_thread(
            lambda: (encode_png(decode_image(start_frame)), encode_png(decode_image(end_frame)))
        )
        request: dict[str, Any] = {
            "prompt": prompt,
            "negative_prompt": clip.negative_prompt,
            "seconds": seconds,
            "aspect": aspect,
            "width": size[0],
            "height": size[1],
            "fps": self._settings.fps,
            "start_sha256": hashlib.sha256(start_png).hexdigest(),
            "end_sha256": hashlib.sha256(end_png).hexdigest(),
        }
        inputs_sha = hashlib.sha256(json.dumps(request, sort_keys=True).encode()).hexdigest()
        # The uuid part keeps two submissions of the same inputs apart, like Veo does.
        name = f"{OP_PREFIX}{inputs_sha[:16]}-{uuid.uuid4().hex[:8]}"
        blocked = _blocked_word(prompt, self._blocked)
        request["filtered_reasons"] = (
            [f"local safety filter: the prompt contains the blocked word {blocked!r}"]
            if blocked
            else []
        )
        op_dir = self._ops_root / name
        await asyncio.to_thread(self._write_request, op_dir, start_png, end_png, request)
        log.debug(
            "started_clip_operation",
            operation=name,
            seconds=seconds,
            aspect=aspect,
            filtered=bool(blocked),
        )
        if not blocked:
            self._spawn(name, op_dir, request)
        return name

    async def poll(self, name: str) -> ClipPoll:
        op_dir = self._op_dir(name)
        if op_dir is None or not (op_dir / _REQUEST).is_file():
            return ClipFailed(
                code="NOT_FOUND", message=f"no local operation {name!r}", transient=False
            )
        request: dict[str, Any] = json.loads((op_dir / _REQUEST).read_text(encoding="utf-8"))
        if request.get("filtered_reasons"):
            charge = self._charge(0, billed=False)
            return ClipFiltered(reasons=tuple(request["filtered_reasons"]), charge=charge)
        output = op_dir / _OUTPUT
        if output.is_file():
            video = await asyncio.to_thread(output.read_bytes)
            return ClipDone(
                video=video,
                uri=None,
                mime_type="video/mp4",
                charge=self._charge(request["seconds"]),
            )
        error = op_dir / _ERROR
        if error.is_file():
            info = json.loads(error.read_text(encoding="utf-8"))
            return ClipFailed(code=info["code"], message=info["message"], transient=False)
        task = self._tasks.get(name)
        if task is not None and not task.done() and task.get_loop() is asyncio.get_running_loop():
            return ClipPending()
        # No output and nothing rendering it here: the process that started it is gone.
        log.info("resumed_clip_render", operation=name)
        self._spawn(name, op_dir, request)
        return ClipPending()

    async def wait(self, name: str) -> None:
        """Wait until this process's render of `name` (if any) has finished."""
        task = self._tasks.get(name)
        if task is not None:
            await asyncio.shield(task)

    async def aclose(self, grace_s: float = 10.0) -> None:
        """Let running renders finish for up to `grace_s`, then cancel the rest.

        Cancelled operations lose nothing (they resume on their next poll); the grace
        period only saves redoing renders that were about to finish.
        """
        tasks = [t for t in self._tasks.values() if not t.done()]
        if tasks and grace_s > 0:
            await asyncio.wait(tasks, timeout=grace_s)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._tasks.clear()

    # -- internals --------------------------------------------------------------

    def _op_dir(self, name: str) -> Path | None:
        # The name becomes a path: only our own shape may reach the filesystem.
        if not _OP_NAME.fullmatch(name):
            return None
        return self._ops_root / name

    @staticmethod
    def _write_request(
        op_dir: Path, start_png: bytes, end_png: bytes, request: dict[str, Any]
    ) -> None:
        op_dir.mkdir(parents=True, exist_ok=True)
        _write_atomic(op_dir / _START, start_png)
        _write_atomic(op_dir / _END, end_png)
        _write_atomic(op_dir / _REQUEST, json.dumps(request, indent=2, sort_keys=True).encode())

    def _charge(self, seconds: float, *, billed: bool = True) -> Charge:
        charge = quote_clip(CLIP_MODEL, float(seconds))
        return charge if billed else unbilled(charge)

    def _semaphore(self) -> asyncio.Semaphore:
        loop = asyncio.get_running_loop()
        sem = self._semaphores.get(loop)
        if sem is None:
            sem = asyncio.Semaphore(self._settings.max_concurrent_renders)
            self._semaphores = {loop: sem}  # one loop at a time; drop stale ones
        return sem

    def _spawn(self, name: str, op_dir: Path, request: dict[str, Any]) -> None:
        task = asyncio.get_running_loop().create_task(
            self._render(name, op_dir, request), name=f"local-clip:{name}"
        )
        self._tasks[name] = task
        task.add_done_callback(lambda t: self._forget(name, t))

    def _forget(self, name: str, task: asyncio.Task[None]) -> None:
        if self._tasks.get(name) is task:
            del self._tasks[name]

    async def _render(self, name: str, op_dir: Path, request: dict[str, Any]) -> None:
        async with self._semaphore():
            if (op_dir / _OUTPUT).is_file():
                return
            # A per-attempt temp name: a killed process may have left a half-written
            # file behind, and one attempt must never rename another's partial.
            partial = op_dir / f"clip.partial-{uuid.uuid4().hex[:8]}.mp4"
            try:
                await self._encode(op_dir, request, partial)
                if self._settings.render_delay_s:
                    await asyncio.sleep(self._settings.render_delay_s)
                os.replace(partial, op_dir / _OUTPUT)
            except MediaError as exc:
                log.warning("failed_clip_render", operation=name, error=str(exc))
                _write_atomic(
                    op_dir / _ERROR,
                    json.dumps({"code": "RENDER_FAILED", "message": str(exc)}).encode(),
                )
                return
            except FileNotFoundError as exc:
                # The operation folder was removed under us (cleanup): nothing to render.
                log.warning("lost_clip_operation", operation=name, error=str(exc))
                return
            except Exception:
                # Likely environmental (disk full, permissions): no error.json, so the
                # next poll tries again instead of failing the clip for good.
                log.exception("crashed_clip_render", operation=name)
                return
            finally:
                partial.unlink(missing_ok=True)  # gone already when the render succeeded
        log.debug("finished_clip_render", operation=name)

    async def _encode(self, op_dir: Path, request: dict[str, Any], partial: Path) -> None:
        fps = int(request["fps"])
        total = int(request["seconds"]) * fps
        size = (int(request["width"]), int(request["height"]))
        motion = motion_for(str(request["prompt"]))
        graph = clip_filtergraph(motion, total, size, fps)
        await run_ffmpeg(
            "-i", op_dir / _START,
            "-i", op_dir / _END,
            "-filter_complex", graph,
            "-map", "[v]",
            "-frames:v", str(total),
            "-r", str(fps),
            "-c:v", "libx264",
            "-preset", self._settings.x264_preset,
            "-crf", str(self._settings.crf),
            "-pix_fmt", "yuv420p",
            "-an",
            "-map_metadata", "-1",
            "-movflags", "+faststart",
            "-f", "mp4",
            partial,
            timeout_s=self._settings.ffmpeg_timeout_s,
        )  # fmt: skip


def remove_operation(settings: LocalProviderSettings, name: str) -> None:
    """Delete an operation's folder (after its clip has been stored elsewhere)."""
    if _OP_NAME.fullmatch(name):
        shutil.rmtree(settings.work_dir / "ops" / name, ignore_errors=True)
