"""The `local` provider: real media made on this machine, deterministic per input.

The embedded default for demos and tests. It implements all four provider
protocols: storyboards split from the brief, Pillow keyframe cards, ffmpeg clips
that move from the start keyframe to the end keyframe (as resumable long-running
operations), and narration (espeak-ng, or a silent track plus subtitles).
Every call is charged at $0 so the cost ledger still sees it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence

import structlog

from orchestrator.providers.base import (
    Aspect,
    Charge,
    ClipPoll,
    ClipRequest,
    Image,
    Narration,
    Storyboard,
)
from orchestrator.providers.catalogue import charge_for
from orchestrator.providers.local_clips import CLIP_MODEL, LocalClipRenderer
from orchestrator.providers.local_images import render_card
from orchestrator.providers.local_settings import LocalProviderSettings
from orchestrator.providers.local_storyboard import plan_local_storyboard
from orchestrator.providers.local_voice import (
    SILENT_SAMPLE_RATE,
    espeak_path,
    make_srt,
    silent_wav,
    speak_espeak,
    speech_seconds,
    wav_seconds,
)

__all__ = [
    "CLIP_MODEL",
    "ESPEAK_MODEL",
    "KEYFRAME_MODEL",
    "STORYBOARD_MODEL",
    "VOICE_MODEL",
    "LocalProvider",
    "LocalProviderSettings",
]

log = structlog.get_logger(__name__)

PROVIDER = "local"
STORYBOARD_MODEL = "local-storyboard"
KEYFRAME_MODEL = "local-keyframe"
VOICE_MODEL = "local-narration"  # the silent track + subtitles
ESPEAK_MODEL = "local-tts"


def _free(model: str, units: float) -> Charge:
    # Through the catalogue (all local models at $0) so the ledger sees every call.
    return charge_for(model, units)


class LocalProvider:
    """Storyboard, keyframe, clip and narration provider that needs nothing but ffmpeg."""

    name = PROVIDER

    def __init__(
        self,
        settings: LocalProviderSettings | None = None,
        *,
        blocked_words: Iterable[str] | None = None,
    ) -> None:
        self.settings = settings or LocalProviderSettings()
        blocked = tuple(blocked_words) if blocked_words is not None else self.settings.blocked_words
        self._clips = LocalClipRenderer(self.settings, blocked)

    async def plan_storyboard(
        self,
        brief: str,
        n_shots: int,
        seconds: int,
        aspect: Aspect,
        notes: dict[int, str] | None = None,
        references: Sequence[Image] = (),
    ) -> Storyboard:
        self.settings.size_for(aspect)  # reject an unknown aspect ratio at planning time
        # The local planner reads text only; the references reach the keyframes.
        board = plan_local_storyboard(brief, n_shots, seconds, notes)
        log.info(
            "planned_storyboard",
            shots=len(board.shots),
            replanned=sorted(notes or {}),
            references=len(references),
        )
        return Storyboard(title=board.title, shots=board.shots, charge=_free(STORYBOARD_MODEL, 1))

    async def render_keyframe(
        self,
        prompt: str,
        aspect: Aspect,
        reference: Image | None = None,
        references: Sequence[Image] = (),
    ) -> Image:
        size = self.settings.size_for(aspect)
        ref = reference.data if reference is not None else None
        insets = tuple(r.data for r in references)
        # Pillow work takes tens of milliseconds: keep it off the event loop.
        data = await asyncio.to_thread(render_card, prompt, size, ref, insets)
        log.debug(
            "rendered_keyframe",
            aspect=aspect,
            bytes=len(data),
            reference=ref is not None,
            references=len(insets),
        )
        return Image(data=data, mime_type="image/png", charge=_free(KEYFRAME_MODEL, 1))

    async def start_clip(self, request: ClipRequest) -> str:
        return await self._clips.start(request)

    async def poll_clip(self, operation_name: str) -> ClipPoll:
        return await self._clips.poll(operation_name)

    async def wait_clip(self, operation_name: str) -> None:
        """Wait for this process's render of an operation (demos, tests, benchmarks)."""
        await self._clips.wait(operation_name)

    async def narrate(self, text: str, voice: str) -> Narration:
        exe = espeak_path() if self.settings.use_espeak else None
        if exe is not None and text.strip():
            wav = await speak_espeak(exe, text, voice)
            seconds = wav_seconds(wav)
            engine = "espeak-ng"
            model = ESPEAK_MODEL
        else:
            seconds = speech_seconds(text, self.settings.words_per_second)
            wav = silent_wav(seconds, SILENT_SAMPLE_RATE)
            engine = "silent"
            model = VOICE_MODEL
        log.debug(
            "narrated_text", engine=engine, seconds=round(seconds, 3), words=len(text.split())
        )
        return Narration(
            wav=wav,
            seconds=seconds,
            srt=make_srt(text, seconds),
            charge=_free(model, round(seconds / 60, 6)),
            extra={"engine": engine, "voice": voice},
        )

    async def aclose(self, grace_s: float = 10.0) -> None:
        """Stop renders (after up to `grace_s`); unfinished operations resume when polled."""
        await self._clips.aclose(grace_s)
