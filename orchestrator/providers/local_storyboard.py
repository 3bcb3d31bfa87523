"""Deterministic storyboard planning for the local provider: no model, just the brief.

Sentences of the brief are spread over the shots. When there are fewer sentences
than shots, neighbouring shots share a sentence: each gets its own framing (by shot
index) and a slice of the sentence's words as narration, so reading the narration
lines in order still reads the brief.
"""

from __future__ import annotations

import hashlib
import re

import structlog

from orchestrator.errors import ProviderPermanentError
from orchestrator.providers.base import Shot, Storyboard

__all__ = ["MOTIONS", "plan_local_storyboard", "split_sentences"]

log = structlog.get_logger(__name__)

# The motion cycle; the clip renderer understands every one of these phrases.
MOTIONS: tuple[str, ...] = (
    "slow push in",
    "pan left",
    "pan right",
    "tilt up",
    "slow pull out",
    "tilt down",
)

_FRAMINGS: tuple[str, ...] = (
    "Wide establishing shot",
    "Medium shot",
    "Close-up",
    "Low-angle shot",
    "Over-the-shoulder view",
    "Aerial view",
)

# One look for the whole storyboard (picked by the brief), so shots stay coherent.
_STYLES: tuple[str, ...] = (
    "soft morning light, muted pastel palette",
    "golden hour, warm cinematic grade",
    "cool blue dusk, gentle haze",
    "high-contrast noir lighting",
    "bright overcast daylight, natural colours",
    "neon night, saturated magenta and teal",
)

_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+|\n+")
_TITLE_MAX = 60


def split_sentences(text: str) -> list[str]:
    """Split prose into sentences on terminal punctuation and line breaks."""
    return [s.strip() for s in _SENTENCE_END.split(text.strip()) if s.strip()]


def _balanced_bounds(n_items: int, n_groups: int) -> list[tuple[int, int]]:
    """Contiguous [start, end) ranges splitting n_items into n_groups near-equal parts."""
    return [(g * n_items // n_groups, (g + 1) * n_items // n_groups) for g in range(n_groups)]


def _subject(text: str) -> str:
    return text.rstrip(" .!?…")


def _title(first_sentence: str) -> str:
    title = _subject(first_sentence)
    if len(title) <= _TITLE_MAX:
        return title
    cut = title[:_TITLE_MAX].rsplit(" ", 1)[0]
    return cut + "…"


def plan_local_storyboard(
    brief: str,
    n_shots: int,
    seconds: int,
    notes: dict[int, str] | None = None,
) -> Storyboard:
    """Plan `n_shots` shots of `seconds` each from `brief`; fold reviewer `notes` in."""
    sentences = split_sentences(brief)
    if not sentences:
        raise ProviderPermanentError("the brief is empty: nothing to plan a storyboard from")
    if n_shots < 1:
        raise ProviderPermanentError(f"n_shots must be at least 1, got {n_shots}")
    if seconds < 1:
        raise ProviderPermanentError(f"seconds must be at least 1, got {seconds}")

    digest = hashlib.sha256(brief.strip().encode()).digest()
    style = _STYLES[digest[0] % len(_STYLES)]

    # (subject sentence, narration) per shot
    parts: list[tuple[str, str]] = []
    if len(sentences) >= n_shots:
        for start, end in _balanced_bounds(len(sentences), n_shots):
            group = " ".join(sentences[start:end])
            parts.append((group, group))
    else:
        owners = [i * len(sentences) // n_shots for i in range(n_shots)]
        for s_idx, sentence in enumerate(sentences):
            sharing = owners.count(s_idx)
            words = sentence.split()
            for start, end in _balanced_bounds(len(words), sharing):
                parts.append((sentence, " ".join(words[start:end])))

    notes = notes or {}
    unknown = sorted(k for k in notes if not 1 <= k <= n_shots)
    if unknown:
        log.warning("ignored_storyboard_notes", shots=unknown, n_shots=n_shots)

    shots: list[Shot] = []
    for i, (subject, narration) in enumerate(parts):
        number = i + 1
        framing = _FRAMINGS[i % len(_FRAMINGS)]
        visual = f"{framing}: {_subject(subject)}. Style: {style}."
        motion = f"{MOTIONS[i % len(MOTIONS)]}, smooth and steady"
        note = notes.get(number, "").strip()
        if note:
            visual = f"{visual} Reviewer note: {note}"
            motion = f"{motion}; reviewer note: {note}"
        shots.append(Shot(number, visual, motion, narration, seconds))

    return Storyboard(title=_title(sentences[0]), shots=tuple(shots))
