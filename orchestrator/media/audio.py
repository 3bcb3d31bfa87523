"""Small audio helpers that need no ffmpeg."""

from __future__ import annotations

import os
import wave
from pathlib import Path

from orchestrator.errors import MediaError
from orchestrator.media._atomic import atomic_target

__all__ = ["write_wav_silence"]


def write_wav_silence(
    path: str | os.PathLike[str], seconds: float, rate: int = 24000, *, channels: int = 1
) -> Path:
    """Write `seconds` of 16-bit PCM silence (mono, 24 kHz: what Gemini TTS emits)."""
    if seconds < 0 or rate <= 0 or channels <= 0:
        raise MediaError(f"bad silence spec: seconds={seconds}, rate={rate}, channels={channels}")
    out = Path(path)
    frames = round(seconds * rate)
    with atomic_target(out) as tmp, wave.open(str(tmp), "wb") as wav:
        wav.setnchannels(channels)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        # Written in chunks so hours of silence do not need one giant buffer.
        chunk = rate * channels * 2
        remaining = frames * channels * 2
        while remaining > 0:
            n = min(chunk, remaining)
            wav.writeframesraw(bytes(n))
            remaining -= n
    return out
