"""Every size limit on text reelgate sends out, in one place, and the helpers that
keep to them while saying what was cut.

People write as much as they like in Notion (a 100 KB Error Log note, a pasted
script as the Brief, 5,000 clip numbers on one line). What we pass on is bounded:

- to the providers: a reviewer's note, a clip's whole Veo prompt, the Brief given
  to the storyboard model;
- to Notion: a text property of a Videos row, a comment.

Nothing is cut silently: `Bounded.cut` says how much was dropped, and callers put
that in the comment to the reviewer or on the row itself.

Verified limits (checked 2026-12-01):

- Notion: a rich-text item's `text.content` holds at most 2,000 characters and a
  rich-text array (a property value, a comment) at most 100 items
  (developers.notion.com/reference/request-limits). `notion_sync.richtext` chunks
  to those; these bounds keep what people read far below them.
- Veo 3.1 (`veo-3.1-generate-001` / `-preview`): the text prompt is short: the
  Gemini API model card lists a 1,024-token input limit for Veo 3.1
  (ai.google.dev/gemini-api/docs/models, Veo 3.1 card), and hosted Vertex
  deployments document `prompt` as "max 2000 characters"
  (docs.gmicloud.ai/model-quickstarts/video/veo-3-1-generate-001). We keep a whole
  clip prompt within 1,800 characters (about 450 English tokens), under both.
- Gemini 2.5 / 3 text models (storyboard): 1,048,576 input tokens
  (cloud.google.com/vertex-ai/generative-ai/docs/models). The Brief is bounded far
  below that for cost and focus, not for the API: 8,000 characters.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from notion_sync.richtext import MAX_RICH_TEXT_ITEMS, MAX_TEXT_CONTENT

__all__ = [
    "BRIEF_MAX_CHARS",
    "COMMENT_MAX_CHARS",
    "COMMENT_QUOTE_MAX_CHARS",
    "IMAGE_PROMPT_MAX_CHARS",
    "NOTE_MAX_CHARS",
    "NOTION_FIELD_MAX_CHARS",
    "NOTION_RICH_TEXT_MAX_CHARS",
    "NUMBERS_MAX_RUNS",
    "VEO_PROMPT_MAX_CHARS",
    "Bounded",
    "bound",
    "bound_comment",
    "number_runs",
    "quote",
    "summarise_numbers",
    "summarise_runs",
]

# -- providers -------------------------------------------------------------------

# A whole Veo clip prompt (shot prompt + camera + reviewer note); see module doc.
VEO_PROMPT_MAX_CHARS = 1800
# One reviewer note (a clip's, a keyframe's, a shot's) as it goes into a prompt.
NOTE_MAX_CHARS = 500
# The Brief as given to the storyboard model.
BRIEF_MAX_CHARS = 8000
# A keyframe's image prompt (Gemini image models take far more; kept for focus).
IMAGE_PROMPT_MAX_CHARS = 4000

# -- Notion ----------------------------------------------------------------------

# The most Notion takes in one rich-text value: 100 items x 2,000 characters.
NOTION_RICH_TEXT_MAX_CHARS = MAX_RICH_TEXT_ITEMS * MAX_TEXT_CONTENT
# A text property of a Videos row (Prompt, Reviewer Note, Narration): one item.
NOTION_FIELD_MAX_CHARS = MAX_TEXT_CONTENT
# A comment reelgate writes: long enough to explain, short enough to read. The
# writer adds up to one mention (2 items) per owner, so the text stays well under
# the 100-item cap whatever the owners.
COMMENT_MAX_CHARS = 4000
# A line of someone's text quoted back in a comment.
COMMENT_QUOTE_MAX_CHARS = 200
# Runs of numbers listed before the rest is summarised ("… and 2,480 more").
NUMBERS_MAX_RUNS = 20


@dataclass(frozen=True)
class Bounded:
    """`text` within its limit; `kept` characters of the original survive in it."""

    text: str
    original_length: int
    kept: int

    @property
    def cut(self) -> int:
        return self.original_length - self.kept

    def describe(self, what: str) -> str:
        """ "The note was 100,000 characters; the first 500 were used"."""
        return f"{what} was {self.original_length:,} characters; the first {self.kept:,} were used"


def bound(text: str, limit: int, *, marker: bool = False) -> Bounded:
    """`text` cut to at most `limit` characters, at a word boundary when one is near.

    With `marker`, what is kept ends with "… [N characters cut]" (for text people
    read in Notion); without it, the text is simply shorter (for prompts).
    """
    if limit <= 0:
        raise ValueError("limit must be positive")
    if len(text) <= limit:
        return Bounded(text, len(text), len(text))
    # The marker's own length depends on the number it shows: size it for the worst
    # case (every character cut) so the result never exceeds `limit`.
    room = max(1, limit - len(f"… [{len(text):,} characters cut]")) if marker else limit
    head = text[:room]
    space = head.rfind(" ")
    if space >= room * 0.8:
        head = head[:space]
    head = head.rstrip()
    if not marker:
        return Bounded(head, len(text), len(head))
    suffix = f"… [{len(text) - len(head):,} characters cut]"
    head = head[: max(0, limit - len(suffix))]
    return Bounded(head + suffix, len(text), len(head))


def quote(text: str, limit: int = COMMENT_QUOTE_MAX_CHARS) -> str:
    """Someone's line, quoted in a comment: one line, at most `limit` characters."""
    flat = " ".join(text.split())
    return bound(flat, limit, marker=True).text


def number_runs(numbers: Iterable[int]) -> list[tuple[int, int]]:
    """[1, 2, 3, 7] -> [(1, 3), (7, 7)]."""
    runs: list[tuple[int, int]] = []
    for n in sorted(set(numbers)):
        if runs and runs[-1][1] == n - 1:
            runs[-1] = (runs[-1][0], n)
        else:
            runs.append((n, n))
    return runs


def summarise_numbers(
    numbers: Iterable[int], word: str = "clip", *, max_runs: int = NUMBERS_MAX_RUNS
) -> str:
    """Numbers as people read them: "clips 1–5000", "clips 2, 4–6", and past
    `max_runs` runs "clips 1, 3, 5, … 39 and 2,480 more (2,500 in all)"."""
    return summarise_runs(number_runs(numbers), word, max_runs=max_runs)


def summarise_runs(
    runs: Iterable[tuple[int, int]], word: str = "clip", *, max_runs: int = NUMBERS_MAX_RUNS
) -> str:
    """Like `summarise_numbers`, from (low, high) runs (which may overlap)."""
    merged: list[tuple[int, int]] = []
    for lo, hi in sorted((min(a, b), max(a, b)) for a, b in runs):
        if merged and lo <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(merged[-1][1], hi))
        else:
            merged.append((lo, hi))
    if not merged:
        return f"no {word}s"
    total = sum(b - a + 1 for a, b in merged)
    noun = word if total == 1 else f"{word}s"
    shown = ", ".join(str(a) if a == b else f"{a}–{b}" for a, b in merged[:max_runs])
    if len(merged) <= max_runs:
        return f"{noun} {shown}"
    listed = sum(b - a + 1 for a, b in merged[:max_runs])
    return f"{noun} {shown} and {total - listed:,} more ({total:,} in all)"


def bound_comment(text: str, limit: int = COMMENT_MAX_CHARS) -> str:
    """A comment within `limit` characters; a longer one ends saying how much was
    cut and where to see everything (every comment writer goes through this)."""
    if len(text) <= limit:
        return text
    tail = "\n… (comment shortened: {n:,} characters cut)"
    room = limit - len(tail.format(n=len(text)))
    head = text[:room]
    newline = head.rfind("\n")
    if newline >= room * 0.5:
        head = head[:newline]
    return head.rstrip() + tail.format(n=len(text) - len(head.rstrip()))
