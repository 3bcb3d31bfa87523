"""Turn reviewer lines ("Regenerate: clips 5, 12, 17", "Bad motion: 5,12,17") into targets.

One line is one request. In order, a line may have:

1. prefixes that are stripped: a timestamp (`[2026-12-01 10:02]`, `2026-12-01:`,
   `10:02`), a bullet (`- `, `• `, `* `) or a list number (`1)`, `2.`);
2. an optional verb (`Regenerate:`, `redo`, `please fix`);
3. an optional issue label before a colon or dash (`Bad motion:`, `Timing -`,
   `too dark:`, `narrative:`), which becomes the note of the clips the line
   names (both are kept when the line also has a note after the numbers) and
   may name an issue class (review.classes) that routes the regeneration;
4. the selection: clip numbers, ranges, `all clips`; `shot`/`scene` n is clip n,
   `keyframe`/`kf` n names a keyframe;
5. an optional note for everything the line names: whatever follows the
   selection, after an optional `:` or dash. Numbers inside the note are never
   read as clips (`5: make it 2x brighter` names clip 5 only).

Deliberately conservative: a line is acted on only if, after its label, it is a
selection plus an optional note. Text that does not start with a selection (`the
sky in 5 is off`, `all good`, `too dark: the sky in 5`) is reported as unreadable
rather than guessed at, because a wrong guess regenerates (and pays for) the
wrong clips. So is a list number followed by no selection (`3) too dark`: a
remark numbered 3, or clip 3?).

A line that is only a label (`Too dark:`) is a header: its label applies to the
lines below it that have none, up to the next blank line.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from orchestrator.limits import summarise_runs
from orchestrator.review.classes import NEUTRAL_LABELS, IssueClass, IssueClasses, issue_classes
from orchestrator.review.classes import normalise_label as _norm
from orchestrator.review.lines import is_daemon_line

__all__ = [
    "LineKind",
    "LineReading",
    "ReviewProblem",
    "ReviewRequest",
    "accepted_forms_help",
    "join_notes",
    "parse_review",
    "read_lines",
]

Unit = Literal["clip", "keyframe"]
LineKind = Literal["request", "header", "ignored", "refused"]

DEFAULT_CLASSES = issue_classes()

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
_BULLET = re.compile(rf"[*•·‣◦▪>{_DASH}]+\s+")
# A list number: "1) clip 5", "(2) clip 5", "3. clip 5", "a) clip 5".
_ENUMERATOR = re.compile(r"\(?(?:\d{1,3}|[a-z])[.)]\s+", _F)
_TIME = r"\d{1,2}:\d{2}(?::\d{2})?(?:\s*[ap]\.?m\.?)?"
_DATE = r"\d{4}-\d{1,2}-\d{1,2}"
_ZONE = r"(?:\s*(?:Z|UTC|GMT))?"
_STAMP = rf"(?:{_DATE}(?:[ T,]+{_TIME})?|{_TIME}){_ZONE}"
# "[2026-12-01 10:02]", "(10:02)", then an optional ":" or dash.
_STAMP_BRACKETED = re.compile(rf"[\[(]\s*{_STAMP}\s*[\])]\s*(?:[:{_DASH}]\s*)?", _F)
# "2026-12-01: ", "2026-12-01 10:02 - ", "10:02 ": only with something after it.
_STAMP_BARE = re.compile(rf"{_STAMP}(?:\s*[:{_DASH}]\s*|\s+)(?=\S)", _F)
# Leading words that say "please redo" and add nothing; repeated: "Please redo the".
_LEAD = re.compile(
    r"(?:please|pls|kindly|re-?generate|regen|re-?do|fix|retry|re-?render|the)\b"
    rf"\s*[:{_DASH}]?",
    _F,
)
_NOUN_WORDS = r"clips?|shots?|scenes?|key[ -]?frames?|kfs?"
_NOUN = re.compile(
    rf"(?P<noun>{_NOUN_WORDS})\b(?:\s*(?:numbers?\b|nos?\.|nrs?\b\.?))?",
    _F,
)
_NUMBER_TEXT = r"#?\s*(?P<{name}>\d+)(?![^\W\d_])"
_NUMBER = re.compile(_NUMBER_TEXT.format(name="lo"), _F)
_RANGE = re.compile(
    rf"\s*(?:[{_DASH}]|\.\.|to\b|through\b|thru\b)\s*"
    rf"(?:(?:{_NOUN_WORDS})\b\s*)?" + _NUMBER_TEXT.format(name="hi"),
    _F,
)
_LIST_SEP = re.compile(r"\s*(?:,|&|\+|\band\b)(?:\s*(?:,|&|\+|\band\b))*\s*", _F)
_ALL = re.compile(
    r"(?:all\s+(?:of\s+)?(?:the\s+)?(?:clips|shots|scenes|key[ -]?frames|kfs)\b"
    r"|all\s+of\s+them\b"
    r"|every\s+(?:single\s+)?(?:clip|shot|scene|key[ -]?frame|kf)\b"
    # A bare "all" only when nothing but a separator follows: "all good" is not a request.
    rf"|(?:all|everything)\b(?=\s*(?:$|[:,;.!(]|[{_DASH}](?:\s|$))|\s+{_EXCEPT_WORDS}))",
    _F,
)
# A label: words (no digits) ending at a colon, a spaced dash or an en/em dash.
_LABEL = re.compile(
    r"(?P<label>[^\W\d_][^\d:\n]{0,59}?)\s*(?::|\s[\-‐‑−]+\s|\s*[–—]+)\s*",
    _F,
)
_MAX_LABEL_WORDS = 6
# A dangling connector ("clips 5 and") is not part of the note either.
_NOTE_LEAD = re.compile(rf"^(?:[\s:;,.=>&+{_DASH}]|and\b)+", _F)
_EXCEPTION = re.compile(rf"\s+{_EXCEPT_WORDS}", _F)


@dataclass(frozen=True, slots=True)
class ReviewProblem:
    """A line that could not be acted on (in full): the line as written and why."""

    line: str
    reason: str


@dataclass(frozen=True, slots=True)
class LineReading:
    """What one line says, as the daemon reads it.

    `kind`: `request` (names something), `header` (a label or verb alone, for the
    lines below), `ignored` (blank, or a line the daemon wrote) or `refused`
    (`problem` says why; in-range numbers it named are still listed).
    `clips` / `keyframes`: in-range numbers named; `all_selected`: `all clips`.
    `note`: the note for everything the line names (label and note joined).
    `issue`: the issue class of the label ("clip" for none or any other label).
    """

    line: str
    kind: LineKind
    clips: tuple[int, ...] = ()
    keyframes: tuple[int, ...] = ()
    all_selected: bool = False
    note: str = ""
    label: str = ""
    issue: IssueClass = "clip"
    problem: str | None = None


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
            result[number] = join_notes(notes)
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
    header_only: bool  # nothing but a verb or a label: "Regenerate:" above a list
    label: str = ""
    problem: str | None = None  # a reason found before the selection was read


def accepted_forms_help() -> str:
    """The accepted forms, for the comment posted when a review line cannot be read."""
    return "\n".join(
        [
            "One request per line, clip numbers first (after an optional label), for example:",
            "- clip 5 / #5 / clips 5, 12, 17 / clips 5 and 7 / scene 6 / shot 2",
            "- ranges: 5-7, 5–7 or 5 to 7; mixed: clips 2, 4-6 and #9",
            "- all clips",
            "- a leading verb is fine: Regenerate: clips 5, 12 / redo 3 / fix #4",
            "- a note for those clips after a colon or dash: 12: too dark / clips 2, 3 - too dark",
            "- an issue label first: Bad motion: 5,12,17 / too dark: clip 5 / Timing - clips 3-4",
            "- issue classes: narrative: shot 3 (re-plan) / audio: clip 4 (narration only)"
            " / continuity: clip 4 (keyframes)",
            "- keyframes: keyframe 3 / kf 3-4",
        ]
    )


def read_lines(
    lines: Sequence[str], clip_count: int, classes: IssueClasses = DEFAULT_CLASSES
) -> list[LineReading]:
    """Read each line (a text with line breaks is split): one `LineReading` per line.

    Never raises on any text. Clip numbers must be within 1..clip_count and
    keyframe numbers within 1..clip_count + 1; anything else makes the line
    `refused` with a reason, while its valid numbers are still listed.
    """
    if isinstance(lines, str):
        # A single string is a Sequence[str] of characters: read it as text instead.
        lines = [lines]
    clip_count = max(clip_count, 0)
    limits: dict[Unit, int] = {"clip": clip_count, "keyframe": clip_count + 1}
    out: list[LineReading] = []
    header = ""  # a label-only line's label, for the lines below it
    for chunk in lines:
        for raw in chunk.splitlines() or [""]:
            line = raw.strip()
            if not line:
                header = ""
                out.append(LineReading(raw.strip(), "ignored"))
                continue
            if is_daemon_line(line):
                out.append(LineReading(line, "ignored"))
                continue
            parsed = _parse_line(line)
            if parsed.header_only:
                if parsed.label:
                    header = parsed.label
                out.append(
                    LineReading(
                        line,
                        "header",
                        label=parsed.label,
                        issue=classes.classify(parsed.label) if parsed.label else "clip",
                    )
                )
                continue
            label = parsed.label or header
            issue = classes.classify(label) if label else "clip"
            note = _combine(label, parsed.note, classes)
            if parsed.problem is not None:
                out.append(LineReading(line, "refused", label=label, problem=parsed.problem))
                continue
            if not parsed.mentions and not parsed.all_selected:
                reason = (
                    f"no clip numbers after '{parsed.label}:'"
                    if parsed.label
                    else "no clip numbers found"
                )
                out.append(LineReading(line, "refused", label=label, problem=reason))
                continue
            if parsed.all_selected and parsed.exception:
                out.append(
                    LineReading(
                        line,
                        "refused",
                        label=label,
                        problem="exceptions to 'all' are not understood: "
                        "name the clips to regenerate instead",
                    )
                )
                continue
            named: dict[Unit, list[int]] = {"clip": [], "keyframe": []}
            out_of_range: list[_Mention] = []
            for mention in parsed.mentions:
                limit = limits[mention.unit]
                if mention.lo is None or mention.hi is None or mention.lo < 1 or mention.hi > limit:
                    out_of_range.append(mention)
                else:
                    named[mention.unit].extend(range(mention.lo, mention.hi + 1))
            out.append(
                LineReading(
                    line,
                    "refused" if out_of_range else "request",
                    clips=tuple(sorted(set(named["clip"]))),
                    keyframes=tuple(sorted(set(named["keyframe"]))),
                    all_selected=parsed.all_selected,
                    note=note,
                    label=label,
                    issue=issue,
                    problem=_range_reason(out_of_range, clip_count) if out_of_range else None,
                )
            )
    return out


def parse_review(
    lines: Sequence[str], clip_count: int, classes: IssueClasses = DEFAULT_CLASSES
) -> ReviewRequest:
    """Parse reviewer lines (`new_review_lines(...)` texts) for a task of `clip_count` clips.

    Never raises on any text. Blank lines, daemon lines and header lines
    (`Regenerate:`, `Too dark:`) are skipped. Clip numbers must be within
    1..clip_count and keyframe numbers within 1..clip_count + 1; anything else
    becomes a problem quoting the line, while valid numbers (on that line or
    others) are still returned. A clip named more than once gets its notes
    joined with "; ". Issue classes are not applied here (see review.explain).
    """
    notes: dict[Unit, dict[int, list[str]]] = {"clip": {}, "keyframe": {}}
    all_selected = False
    all_notes: list[str] = []
    problems: list[ReviewProblem] = []
    for reading in read_lines(lines, clip_count, classes):
        if reading.problem is not None:
            problems.append(ReviewProblem(reading.line, reading.problem))
        if reading.kind not in ("request", "refused"):
            continue
        if reading.all_selected:
            all_selected = True
            all_notes.append(reading.note)
        for number in reading.clips:
            notes["clip"].setdefault(number, []).append(reading.note)
        for number in reading.keyframes:
            notes["keyframe"].setdefault(number, []).append(reading.note)
    return ReviewRequest(
        targets={n: join_notes(v) for n, v in sorted(notes["clip"].items())},
        all_selected=all_selected,
        problems=problems,
        keyframes={n: join_notes(v) for n, v in sorted(notes["keyframe"].items())},
        all_note=join_notes(all_notes),
    )


def _combine(label: str, note: str, classes: IssueClasses) -> str:
    """The note of a labelled line: the label (unless it only names a class) and the note."""
    key = _norm(label)
    if not label or key in NEUTRAL_LABELS or classes.is_class_word(label):
        return note
    return f"{label}: {note}" if note else label


def _strip_prefixes(line: str) -> tuple[int, bool]:
    """Where the line's content starts after stamps and bullets; True if a list number
    was among them."""
    pos = 0
    enumerated = False
    for _ in range(4):
        start = pos
        for pattern in (_STAMP_BRACKETED, _STAMP_BARE, _BULLET):
            if m := pattern.match(line, pos):
                pos = m.end()
        if m := _ENUMERATOR.match(line, pos):
            pos = m.end()
            enumerated = True
        if pos == start:
            break
    return pos, enumerated


def _skip_leads(line: str, pos: int) -> tuple[int, bool]:
    """Past leading verbs ("Please redo the"); True if there were any."""
    lead_end = pos
    while True:
        pos = _skip_ws(line, pos)
        m = _LEAD.match(line, pos)
        if not m or m.end() == pos:
            break
        pos = lead_end = m.end()
    return _skip_ws(line, lead_end), lead_end > 0


def _starts_selection(line: str, pos: int) -> bool:
    return bool(_ALL.match(line, pos) or _NOUN.match(line, pos) or _NUMBER.match(line, pos))


def _parse_line(line: str) -> _ParsedLine:
    start, enumerated = _strip_prefixes(line)
    pos, had_lead = _skip_leads(line, start)
    had_lead = had_lead and pos > start
    if pos >= len(line) and (had_lead or start > 0):
        return _ParsedLine([], False, "", exception=False, header_only=True)

    label = ""
    mentions, all_selected, end = _read_selection(line, pos)
    if not mentions and not all_selected and (m := _LABEL.match(line, pos)):
        # Not a selection where one would start: a label (`Bad motion:`,
        # `keyframe: clip 4`), then the selection.
        candidate = m.group("label").strip()
        if 0 < len(candidate.split()) <= _MAX_LABEL_WORDS:
            label = candidate
            pos, _ = _skip_leads(line, m.end())
            if pos >= len(line):
                return _ParsedLine([], False, "", False, header_only=True, label=label)
            mentions, all_selected, end = _read_selection(line, pos)

    if enumerated and not mentions and not all_selected:
        number = line[:start].strip()
        return _ParsedLine(
            [],
            False,
            "",
            False,
            header_only=False,
            label=label,
            problem=f"starts with a list number ('{number}') and names no clip: write "
            "'clip N: …' if the number is a clip",
        )

    note = _NOTE_LEAD.sub("", line[end:]).strip()
    exception = bool(_EXCEPTION.match(line, end))
    return _ParsedLine(
        mentions, all_selected, note, exception=exception, header_only=False, label=label
    )


def _read_selection(line: str, pos: int) -> tuple[list[_Mention], bool, int]:
    """Clip numbers, ranges and `all` from `pos`: (mentions, all, where they end)."""
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
            if _starts_selection(line, after):
                end = after
                continue
        break
    if not mentions and not all_selected:
        return [], False, pos
    return mentions, all_selected, end


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
    # Summarised, not listed: 5,000 numbers on one line make one short reason.
    parts: list[str] = []
    counted = 0
    for unit in ("clip", "keyframe"):
        runs = [
            (m.lo, m.hi)
            for m in mentions
            if m.unit == unit and m.lo is not None and m.hi is not None
        ]
        if runs:
            parts.append(summarise_runs(runs, unit))
            counted += sum(hi - lo + 1 for lo, hi in runs)
    huge = [m.text for m in mentions if m.lo is None or m.hi is None]
    parts.extend(huge[:3])
    if len(huge) > 3:
        parts.append(f"{len(huge) - 3} more")
    names = ", ".join(parts)
    verb = "is" if counted + len(huge) == 1 else "are"
    if clip_count == 0:
        have = "this task has no clips yet"
    elif any(m.unit == "keyframe" for m in mentions):
        have = f"this task has clips 1–{clip_count} and keyframes 1–{clip_count + 1}"
    else:
        have = f"this task has clips 1–{clip_count}"
    return f"{names} {verb} out of range: {have}"


def join_notes(notes: Sequence[str]) -> str:
    """Join non-empty notes with "; ", keeping the first spelling of repeats."""
    seen: set[str] = set()
    kept: list[str] = []
    for note in notes:
        key = " ".join(note.split()).casefold()
        if key and key not in seen:
            seen.add(key)
            kept.append(note)
    return "; ".join(kept)
