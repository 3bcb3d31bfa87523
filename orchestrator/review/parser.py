"""Turn reviewer lines ("Regenerate: clips 5, 12, 17", "12: too dark") into targets.

One line is one request: an optional verb, then the selection (clip numbers, ranges,
`all clips`), then an optional note for every clip the line names. The selection
ends at the first word that is not part of it; whatever follows, after an optional
`:` or dash, is the note, and numbers inside the note are never read as clips
(`5: make it 2x brighter` names clip 5 only).

Deliberately conservative: text that does not start with a selection (`the sky in
5 is off`, `all good`) is reported as unreadable rather than guessed at, because a
wrong guess regenerates (and pays for) the wrong clips.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from orchestrator.review.lines import is_daemon_line

__all__ = [
    "ReviewProblem",
    "ReviewRequest",
    "accepted_forms_help",
    "parse_review",
]

Unit = Literal["clip", "keyframe"]

# Numbers longer than this are out of range whatever the task; checking the length
# first also keeps int() away from its digit limit on pathological input.
_MAX_DIGITS = 6

# For use inside a character class: hyphen-minus (escaped so it is never read as a
# range), en dash, em dash, hyphen, non-breaking hyphen, minus sign.
_DASH = r"\-–—‐‑−"
_F = re.IGNORECASE
# "all clips except 3": not understood, and must not regenerate everything.
_EXCEPT_WORDS = r"(?:except|but|apart\s+from|other\s+than|besides|excluding)\b"

_WS = re.compile(r"\s+")
# A list bullet only at the very start: "- clip 5", "* 12: too dark".
_BULLET = re.compile(r"[-*•·‣◦▪>]+\s+")
# Leading words that say "please redo" and add nothing; repeated: "Please redo the".
_LEAD = re.compile(
    r"(?:please|pls|kindly|re-?generate|regen|re-?do|fix|retry|re-?render|the)\b"
    rf"\s*[:{_DASH}]?",
    _F,
)
_NOUN = re.compile(
    r"(?P<noun>clips?|shots?|key[ -]?frames?|kfs?)\b"
    r"(?:\s*(?:numbers?\b|nos?\.|nrs?\b\.?))?",
    _F,
)
_NUMBER_TEXT = r"#?\s*(?P<{name}>\d+)(?![^\W\d_])"
_NUMBER = re.compile(_NUMBER_TEXT.format(name="lo"), _F)
_RANGE = re.compile(
    rf"\s*(?:[{_DASH}]|\.\.|to\b|through\b|thru\b)\s*"
    r"(?:(?:clips?|shots?|key[ -]?frames?|kfs?)\b\s*)?" + _NUMBER_TEXT.format(name="hi"),
    _F,
)
_LIST_SEP = re.compile(r"\s*(?:,|&|\+|\band\b)(?:\s*(?:,|&|\+|\band\b))*\s*", _F)
_ALL = re.compile(
    r"(?:all\s+(?:of\s+)?(?:the\s+)?(?:clips|shots|key[ -]?frames|kfs)\b"
    r"|all\s+of\s+them\b"
    r"|every\s+(?:single\s+)?(?:clip|shot|key[ -]?frame|kf)\b"
    # A bare "all" only when nothing but a separator follows: "all good" is not a request.
    rf"|(?:all|everything)\b(?=\s*(?:$|[:,;.!(]|[{_DASH}](?:\s|$))|\s+{_EXCEPT_WORDS}))",
    _F,
)
# A dangling connector ("clips 5 and") is not part of the note either.
_NOTE_LEAD = re.compile(rf"^(?:[\s:;,.=>&+{_DASH}]|and\b)+", _F)
_EXCEPTION = re.compile(rf"\s+{_EXCEPT_WORDS}", _F)


@dataclass(frozen=True, slots=True)
class ReviewProblem:
    """A line that could not be acted on (in full): the line as written and why."""

    line: str
    reason: str


@dataclass(frozen=True)
class ReviewRequest:
    """What the review lines asked for.

    `targets`: clip number -> note ("" when none); `shot n` counts as clip n.
    `keyframes`: keyframe number -> note, for lines that name keyframes (`kf 3`);
    a task with N clips has N + 1 keyframes (clip i runs from keyframe i to i + 1).
    `all_selected`: some line asked for every clip (`all clips`); its note is
    `all_note`. `problems`: lines (or parts of lines) that were not understood or
    named numbers out of range; in-range numbers on such a line are still targets.
    """

    targets: dict[int, str]
    all_selected: bool
    problems: list[ReviewProblem]
    keyframes: dict[int, str] = field(default_factory=dict)
    all_note: str = ""

    @property
    def is_empty(self) -> bool:
        """Nothing to regenerate (there may still be problems to report)."""
        return not self.targets and not self.keyframes and not self.all_selected

    def selected_clips(self, clip_count: int) -> dict[int, str]:
        """Every clip to regenerate with its note: all of them when `all_selected`."""
        if not self.all_selected:
            return dict(self.targets)
        result: dict[int, str] = {}
        for number in range(1, clip_count + 1):
            notes = [self.all_note, self.targets.get(number, "")]
            result[number] = _join_notes(notes)
        return result


@dataclass(slots=True)
class _Mention:
    unit: Unit
    lo: int | None  # None: too many digits to be any task's clip
    hi: int | None
    text: str  # how to name it in a problem: "clip 9", "clips 5–70"


@dataclass(slots=True)
class _ParsedLine:
    mentions: list[_Mention]
    all_selected: bool
    note: str
    exception: bool  # "all ... except ..." right after the selection
    header_only: bool  # nothing but a verb: "Regenerate:" above a list of clips


def accepted_forms_help() -> str:
    """The accepted forms, for the comment posted when a review line cannot be read."""
    return "\n".join(
        [
            "One request per line, clip numbers first, for example:",
            "- clip 5 / #5 / clips 5, 12, 17 / clips 5 and 7",
            "- ranges: 5-7, 5–7 or 5 to 7; mixed: clips 2, 4-6 and #9",
            "- all clips",
            "- a leading verb is fine: Regenerate: clips 5, 12 / redo 3 / fix #4",
            "- a note for those clips after a colon or dash: 12: too dark / clips 2, 3 - too dark",
            "- keyframes and shots: keyframe 3 / kf 3-4 / shot 2",
        ]
    )


def parse_review(lines: Sequence[str], clip_count: int) -> ReviewRequest:
    """Parse reviewer lines (`new_review_lines(...)` texts) for a task of `clip_count` clips.

    Never raises on any text. Blank lines, daemon lines and verb-only header lines
    (`Regenerate:`) are skipped. Clip numbers must be within 1..clip_count and
    keyframe numbers within 1..clip_count + 1; anything else becomes a problem
    quoting the line, while valid numbers (on that line or others) are still
    returned. A clip named more than once gets its notes joined with "; ".
    """
    if isinstance(lines, str):
        # A single string is a Sequence[str] of characters: read it as text instead.
        lines = [lines]
    clip_count = max(clip_count, 0)
    limits: dict[Unit, int] = {"clip": clip_count, "keyframe": clip_count + 1}
    notes: dict[Unit, dict[int, list[str]]] = {"clip": {}, "keyframe": {}}
    all_selected = False
    all_notes: list[str] = []
    problems: list[ReviewProblem] = []

    for chunk in lines:
        for raw in chunk.splitlines():
            line = raw.strip()
            if not line or is_daemon_line(line):
                continue
            parsed = _parse_line(line)
            if parsed.header_only:
                continue
            if not parsed.mentions and not parsed.all_selected:
                problems.append(ReviewProblem(line, "no clip numbers found"))
                continue
            if parsed.all_selected and parsed.exception:
                problems.append(
                    ReviewProblem(
                        line,
                        "exceptions to 'all' are not understood: "
                        "name the clips to regenerate instead",
                    )
                )
                continue
            if parsed.all_selected:
                all_selected = True
                all_notes.append(parsed.note)
            out_of_range: list[_Mention] = []
            for mention in parsed.mentions:
                limit = limits[mention.unit]
                if mention.lo is None or mention.hi is None or mention.lo < 1 or mention.hi > limit:
                    out_of_range.append(mention)
                else:
                    for number in range(mention.lo, mention.hi + 1):
                        notes[mention.unit].setdefault(number, []).append(parsed.note)
            if out_of_range:
                problems.append(ReviewProblem(line, _range_reason(out_of_range, clip_count)))

    return ReviewRequest(
        targets={n: _join_notes(v) for n, v in sorted(notes["clip"].items())},
        all_selected=all_selected,
        problems=problems,
        keyframes={n: _join_notes(v) for n, v in sorted(notes["keyframe"].items())},
        all_note=_join_notes(all_notes),
    )


def _parse_line(line: str) -> _ParsedLine:
    pos = 0
    if m := _BULLET.match(line):
        pos = m.end()
    lead_end = pos
    while True:
        pos = _skip_ws(line, pos)
        m = _LEAD.match(line, pos)
        if not m or m.end() == pos:
            break
        pos = lead_end = m.end()
    pos = _skip_ws(line, lead_end)
    if pos >= len(line) and lead_end > 0:
        return _ParsedLine([], False, "", exception=False, header_only=True)

    unit: Unit = "clip"
    mentions: list[_Mention] = []
    all_selected = False
    end = pos  # end of the selection read so far
    while True:
        pos = _skip_ws(line, end)
        if pos >= len(line):
            break
        if m := _ALL.match(line, pos):
            all_selected = True
            end = m.end()
            continue
        if m := _NOUN.match(line, pos):
            unit = _unit_of(m.group("noun"))
            end = m.end()
            continue
        if m := _NUMBER.match(line, pos):
            lo_text = m.group("lo")
            hi_text = lo_text
            end = m.end()
            if r := _RANGE.match(line, end):
                hi_text = r.group("hi")
                end = r.end()
            mentions.append(_mention(unit, lo_text, hi_text))
            continue
        if (mentions or all_selected) and (m := _LIST_SEP.match(line, pos)):
            after = m.end()
            if _ALL.match(line, after) or _NOUN.match(line, after) or _NUMBER.match(line, after):
                end = after
                continue
        break
    note = _NOTE_LEAD.sub("", line[end:]).strip()
    exception = bool(_EXCEPTION.match(line, end))
    return _ParsedLine(mentions, all_selected, note, exception=exception, header_only=False)


def _skip_ws(line: str, pos: int) -> int:
    m = _WS.match(line, pos)
    return m.end() if m else pos


def _unit_of(noun: str) -> Unit:
    return "keyframe" if noun.casefold().startswith("k") else "clip"


def _number(digits: str) -> int | None:
    return int(digits) if len(digits) <= _MAX_DIGITS else None


def _mention(unit: Unit, lo_text: str, hi_text: str) -> _Mention:
    lo, hi = _number(lo_text), _number(hi_text)
    if lo is not None and hi is not None and lo > hi:
        # "7-5" means the same clips as "5-7".
        lo, hi = hi, lo
        lo_text, hi_text = hi_text, lo_text
    short = [t if len(t) <= 12 else t[:12] + "…" for t in (lo_text, hi_text)]
    if lo_text == hi_text:
        return _Mention(unit, lo, hi, f"{unit} {short[0]}")
    return _Mention(unit, lo, hi, f"{unit}s {short[0]}–{short[1]}")


def _range_reason(mentions: list[_Mention], clip_count: int) -> str:
    names = ", ".join(m.text for m in mentions)
    verb = "is" if len(mentions) == 1 and "–" not in mentions[0].text else "are"
    if clip_count == 0:
        have = "this task has no clips yet"
    elif any(m.unit == "keyframe" for m in mentions):
        have = f"this task has clips 1–{clip_count} and keyframes 1–{clip_count + 1}"
    else:
        have = f"this task has clips 1–{clip_count}"
    return f"{names} {verb} out of range: {have}"


def _join_notes(notes: Sequence[str]) -> str:
    """Join non-empty notes with "; ", keeping the first spelling of repeats."""
    seen: set[str] = set()
    kept: list[str] = []
    for note in notes:
        key = " ".join(note.split()).casefold()
        if key and key not in seen:
            seen.add(key)
            kept.append(note)
    return "; ".join(kept)
