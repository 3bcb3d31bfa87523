"""Bounded, deterministic rephrasing of a prompt after a provider's safety filter removed a clip.

Provider-neutral: any `ClipProvider` may answer `ClipFiltered`, and the operation
poller softens the prompt before resubmitting. It does so at most
`ProviderSet.rai_rephrase_retries` times per clip (the channel's setting, else the
provider's default; `should_rephrase` says whether one more is allowed). Filtered
attempts are free, but an endless loop would still burn time, so the bound matters.
Same input, same output: a resubmitted clip can be explained in the audit trail.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

__all__ = ["rephrase_for_safety", "should_rephrase"]

# Wording that commonly trips video safety filters, with a milder stand-in.
_SOFTER: tuple[tuple[str, str], ...] = (
    (r"\bblood(y|ied)?\b", "red-tinted"),
    (r"\bgore\b|\bgory\b", "dramatic"),
    (r"\bkill(s|ed|ing)?\b", "defeat"),
    (r"\bmurder(s|ed|ing)?\b", "confront"),
    (r"\bshoot(s|ing)?\b|\bshot at\b", "aim"),
    (r"\bguns?\b|\brifles?\b|\bpistols?\b|\bweapons?\b", "prop"),
    (r"\bknives\b|\bknife\b|\bswords?\b", "prop"),
    (r"\bexplo(de|des|ding|sion|sions)\b", "burst of light"),
    (r"\bfight(s|ing)?\b|\bbrawl(s|ing)?\b", "tense standoff"),
    (r"\bcorpses?\b|\bdead bod(y|ies)\b", "still figure"),
    (r"\bnaked\b|\bnude\b|\bundressed\b", "fully clothed"),
    (r"\bsexy\b|\bseductive\b", "elegant"),
    (r"\bdrunk\b", "cheerful"),
    (r"\bdrugs?\b", "supplies"),
    (r"\bterror(ist|ism)?\b", "danger"),
)

_BASE_SUFFIX = "Family-friendly, non-violent, no real or famous people, no text or logos."
_PERSON_HINT = "People shown are fictional adults seen from a distance."
_CHILD_HINT = "Only adults appear in the scene."


def _hints(reasons: Sequence[str]) -> list[str]:
    joined = " ".join(reasons).lower()
    hints: list[str] = []
    if any(w in joined for w in ("child", "minor", "kid")):
        hints.append(_CHILD_HINT)
    if any(w in joined for w in ("celebrit", "person", "people", "face", "likeness")):
        hints.append(_PERSON_HINT)
    return hints


def rephrase_for_safety(prompt: str, reasons: Sequence[str], attempt: int) -> str:
    """A softer version of `prompt` for resubmission number `attempt` (1-based).

    Attempt 1 swaps risky words for milder ones and adds a safety note; attempt 2
    and later also keep only the first two sentences, since long prompts give the
    filter more to object to.
    """
    if attempt < 1:
        raise ValueError("attempt is 1-based")
    # Drop any note a previous rephrase added, so notes never pile up.
    text = prompt.split(" Family-friendly,", 1)[0].strip()
    for pattern, replacement in _SOFTER:
        text = re.sub(pattern, replacement, text, flags=re.IGNORECASE)
    if attempt >= 2:
        sentences = re.split(r"(?<=[.!?])\s+", text)
        text = " ".join(sentences[:2])
    text = text.rstrip()
    if text and text[-1] not in ".!?":
        text += "."
    parts = [text, _BASE_SUFFIX, *_hints(reasons)]
    if attempt >= 2:
        parts.append("Calm, gentle, documentary style.")
    return " ".join(p for p in parts if p)


def should_rephrase(rephrases_done: int, max_retries: int) -> bool:
    """Whether one more automatic rephrase is allowed (`max_retries` from settings)."""
    return rephrases_done < max_retries
