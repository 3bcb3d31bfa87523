"""Issue classes: which words of a line's label send a regeneration upstream.

The brief names four kinds of problem a reviewer reports: visual continuity,
timing, dialogue/audio, and narrative. Three of them route the regeneration
somewhere other than "make this clip again":

- `narrative`: the shot itself is wrong; re-plan it (storyboard) and redo what
  is made from it, the route of *Storyboard Error*;
- `audio`: only the clip's narration line is redone;
- `keyframe`: the frames at both ends of the clip are redone, then the clips
  that use them.

Every other label (`Bad motion`, `Timing`, `too dark`), and no label, is a note
for the stage's own items (at the video review: regenerate the clips).

The words live in one table, `DEFAULT_ISSUE_WORDS`; a channel may add its own
(`review_labels` in the channels file) with `issue_classes(extra)`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Literal

__all__ = [
    "DEFAULT_ISSUE_WORDS",
    "ISSUE_CLASS_NAMES",
    "NEUTRAL_LABELS",
    "IssueClass",
    "IssueClasses",
    "issue_classes",
    "normalise_label",
]

# "clip" is the default: the stage's own items, with the label as their note.
IssueClass = Literal["clip", "narrative", "audio", "keyframe"]
ISSUE_CLASS_NAMES: tuple[IssueClass, ...] = ("narrative", "audio", "keyframe")

DEFAULT_ISSUE_WORDS: Mapping[IssueClass, tuple[str, ...]] = {
    "narrative": ("narrative", "story", "storyline", "plot", "script"),
    "audio": (
        "audio",
        "dialogue",
        "dialog",
        "voice",
        "voiceover",
        "voice over",
        "voice-over",
        "narration",
        "narrator",
        "vo",
    ),
    "keyframe": (
        "keyframe",
        "keyframes",
        "key frame",
        "key frames",
        "continuity",
        "visual continuity",
    ),
}

# Labels that say "this is a review" and nothing about the clips: they are neither
# a class nor a note (`[2026-12-01 10:02] Video review: clips 5, 12`).
NEUTRAL_LABELS: frozenset[str] = frozenset(
    {
        "review",
        "video review",
        "storyboard review",
        "keyframes review",
        "keyframe review",
        "audio review",
        "final review",
        "feedback",
        "note",
        "notes",
        "comment",
        "comments",
        "issue",
        "issues",
        "problem",
        "problems",
        "change",
        "changes",
        "todo",
        "to do",
        "to-do",
        "request",
        "requests",
    }
)

_PUNCTUATION = re.compile(r"[^\w\s'-]+")


def normalise_label(label: str) -> str:
    """Case-folded, punctuation dropped, spaces collapsed: `" Bad  Motion!"` -> `bad motion`."""
    return " ".join(_PUNCTUATION.sub(" ", label).split()).casefold()


@dataclass(frozen=True)
class IssueClasses:
    """Words (normalised) of each issue class, longest first so phrases win."""

    words: Mapping[IssueClass, tuple[str, ...]]

    def classify(self, label: str) -> IssueClass:
        """The class whose word appears in `label` as a whole word (or phrase)."""
        text = f" {normalise_label(label)} "
        best: tuple[int, IssueClass] | None = None
        for issue, words in self.words.items():
            for word in words:
                if f" {word} " in text and (best is None or len(word) > best[0]):
                    best = (len(word), issue)
        return best[1] if best else "clip"

    def is_class_word(self, label: str) -> bool:
        """The label is nothing but a class word (`audio`): it adds no note."""
        key = normalise_label(label)
        return any(key in words for words in self.words.values())


def issue_classes(extra: Mapping[str, Iterable[str]] | None = None) -> IssueClasses:
    """The default table, plus a channel's own words for each class."""
    merged: dict[IssueClass, list[str]] = {k: list(v) for k, v in DEFAULT_ISSUE_WORDS.items()}
    for name, words in (extra or {}).items():
        if name not in ISSUE_CLASS_NAMES:
            raise ValueError(
                f"unknown issue class {name!r}: use one of {', '.join(ISSUE_CLASS_NAMES)}"
            )
        merged[name].extend(normalise_label(w) for w in words if normalise_label(w))  # type: ignore[index]
    return IssueClasses(
        {
            k: tuple(sorted(dict.fromkeys(normalise_label(w) for w in v), key=len, reverse=True))
            for k, v in merged.items()
        }
    )
