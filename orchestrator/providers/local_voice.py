"""Narration for the local provider: espeak-ng when installed, else silence + subtitles."""

from __future__ import annotations

import asyncio
import io
import shutil
import tempfile
import wave
from pathlib import Path

import structlog

from orchestrator.errors import ProviderPermanentError
from orchestrator.providers.local_storyboard import split_sentences

__all__ = [
    "SILENT_SAMPLE_RATE",
    "make_srt",
    "silent_wav",
    "speak_espeak",
    "speech_seconds",
    "wav_seconds",
]

log = structlog.get_logger(__name__)

SILENT_SAMPLE_RATE = 24_000
_MIN_SECONDS = 1.0
_CUE_MAX_WORDS = 10
# espeak-ng's own default voice, used when the requested voice is not one of its own
# (the pipeline may pass a cloud voice name such as "Kore").
_FALLBACK_VOICE = "en"


def speech_seconds(text: str, words_per_second: float) -> float:
    """How long reading `text` aloud takes, rounded to the millisecond, at least 1 s."""
    words = len(text.split())
    return round(max(_MIN_SECONDS, words / words_per_second), 3)


def silent_wav(seconds: float, sample_rate: int = SILENT_SAMPLE_RATE) -> bytes:
    """A 16-bit mono PCM WAV of digital silence."""
    frames = round(seconds * sample_rate)
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(sample_rate)
        w.writeframes(b"\x00\x00" * frames)
    return buf.getvalue()


def wav_seconds(data: bytes) -> float:
    try:
        with wave.open(io.BytesIO(data), "rb") as w:
            return w.getnframes() / w.getframerate()
    except (wave.Error, EOFError) as exc:
        raise ProviderPermanentError("narration is not a readable WAV", detail=str(exc)) from exc


def _srt_time(seconds: float) -> str:
    ms = round(seconds * 1000)
    h, rest = divmod(ms, 3_600_000)
    m, rest = divmod(rest, 60_000)
    s, ms = divmod(rest, 1000)
    return f"{h:02d}:{m:02d}:{s:02d},{ms:03d}"


def _cues(text: str) -> list[str]:
    """Sentences, with long ones cut into chunks short enough to read on screen."""
    cues: list[str] = []
    for sentence in split_sentences(text):
        words = sentence.split()
        for start in range(0, len(words), _CUE_MAX_WORDS):
            cues.append(" ".join(words[start : start + _CUE_MAX_WORDS]))
    return cues


def make_srt(text: str, seconds: float) -> str:
    """SRT cues covering `text` over `seconds`, timed in proportion to word counts."""
    cues = _cues(text)
    if not cues:
        return ""
    total_words = sum(len(c.split()) for c in cues)
    blocks: list[str] = []
    done_words = 0
    for n, cue in enumerate(cues, start=1):
        start = seconds * done_words / total_words
        done_words += len(cue.split())
        end = seconds * done_words / total_words
        blocks.append(f"{n}\n{_srt_time(start)} --> {_srt_time(end)}\n{cue}\n")
    return "\n".join(blocks)


def espeak_path() -> str | None:
    return shutil.which("espeak-ng")


async def _run_espeak(exe: str, voice: str, text_file: Path, out: Path) -> bool:
    proc = await asyncio.create_subprocess_exec(
        exe,
        "-v",
        voice,
        "-w",
        str(out),
        "-f",
        str(text_file),
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    _, stderr = await proc.communicate()
    if proc.returncode != 0:
        log.info(
            "espeak_voice_rejected", voice=voice, stderr=stderr.decode(errors="replace")[-200:]
        )
        return False
    return out.exists() and out.stat().st_size > 44


async def speak_espeak(exe: str, text: str, voice: str) -> bytes:
    """Speak `text` with espeak-ng into WAV bytes; unknown voices fall back to English."""
    with tempfile.TemporaryDirectory(prefix="reelgate-espeak-") as tmp:
        # The text goes through a file so a leading "-" is never read as an option.
        text_file = Path(tmp) / "text.txt"
        text_file.write_text(text, encoding="utf-8")
        out = Path(tmp) / "speech.wav"
        for candidate in dict.fromkeys((voice or _FALLBACK_VOICE, _FALLBACK_VOICE)):
            if await _run_espeak(exe, candidate, text_file, out):
                return out.read_bytes()
    raise ProviderPermanentError(f"espeak-ng could not speak with voice {voice!r}")
