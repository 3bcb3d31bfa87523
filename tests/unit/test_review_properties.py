"""Property-based tests of review text: random selections in random spellings (with
labels, timestamps and bullets), and which lines of a random Error Log are new."""

from __future__ import annotations

import string
from collections import Counter
from datetime import UTC, datetime

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from orchestrator.review import (
    daemon_line,
    explain_review,
    is_daemon_line,
    line_hash,
    lines_to_retire,
    new_review_lines,
    parse_review,
    read_lines,
)

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

VERBS = ["", "Regenerate: ", "regenerate ", "redo ", "Redo: ", "regen ", "fix ", "Please redo "]
NOUNS = ["", "clip ", "clips ", "Clips ", "shot ", "shots "]
RANGE_SEPS = ["-", "–", "—", " - ", " – ", " to ", " through ", "..", "-#"]
LIST_SEPS = [", ", ",", " and ", ", and ", " & ", " ,  "]
NOTE_SEPS = [": ", " : ", " - ", " – ", " — ", ":"]
NOTE_WORDS = ["too", "dark", "blurry", "make", "it", "brighter", "sky", "colour", "flickers"]
# Notes without digits; may contain words like "and", "to" or "all" that also
# appear in selections, which is the point.
SAFE_NOTE = st.text(alphabet=string.ascii_letters + " ,.;!?'()-–", min_size=1, max_size=30).filter(
    lambda s: s.strip() != ""
)


# Text without any line break (str.splitlines() breaks on more than \n).
ONE_LINE_TEXT = st.text(
    alphabet=st.characters(
        exclude_categories=["Cs"],
        exclude_characters="\r\n\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029",
    ),
    max_size=40,
)


def _runs(numbers: list[int]) -> list[tuple[int, int]]:
    """Consecutive runs of sorted numbers: [1, 2, 3, 7] -> [(1, 3), (7, 7)]."""
    runs: list[tuple[int, int]] = []
    for n in numbers:
        if runs and runs[-1][1] == n - 1:
            runs[-1] = (runs[-1][0], n)
        else:
            runs.append((n, n))
    return runs


@st.composite
def selections(draw: st.DrawFn) -> tuple[int, set[int], str]:
    """(clip_count, the numbers, a line naming exactly those numbers)."""
    clip_count = draw(st.integers(min_value=1, max_value=60))
    chosen = draw(st.sets(st.integers(min_value=1, max_value=clip_count), min_size=1, max_size=12))
    groups: list[str] = []
    for lo, hi in _runs(sorted(chosen)):
        # Split a run into pieces, each written as a range or as single numbers.
        start = lo
        while start <= hi:
            end = draw(st.integers(min_value=start, max_value=hi))
            noun = draw(st.sampled_from(["", "", "clip ", "shot "])) if groups else ""
            hash_sign = draw(st.sampled_from(["", "#"]))
            if end > start and draw(st.booleans()):
                a, b = (end, start) if draw(st.booleans()) else (start, end)
                sep = draw(st.sampled_from(RANGE_SEPS))
                groups.append(f"{noun}{hash_sign}{a}{sep}{b}")
            else:
                groups.extend(f"{noun}{hash_sign}{n}" for n in range(start, end + 1))
            start = end + 1
    order = draw(st.permutations(groups))
    line = draw(st.sampled_from(LIST_SEPS)).join(order)
    line = draw(st.sampled_from(VERBS)) + draw(st.sampled_from(NOUNS)) + line
    return clip_count, chosen, line


@SETTINGS
@given(selections())
def test_any_spelling_selects_exactly_the_numbers(case: tuple[int, set[int], str]) -> None:
    clip_count, chosen, line = case
    request = parse_review([line], clip_count)
    assert request.problems == [], line
    assert set(request.targets) == chosen, line
    assert all(note == "" for note in request.targets.values()), line
    assert not request.all_selected


@SETTINGS
@given(
    selections(),
    st.sampled_from(NOTE_SEPS),
    st.lists(st.sampled_from(NOTE_WORDS), min_size=1, max_size=5),
)
def test_a_note_applies_to_every_named_clip(
    case: tuple[int, set[int], str], sep: str, words: list[str]
) -> None:
    clip_count, chosen, line = case
    note = " ".join(words)
    request = parse_review([f"{line}{sep}{note}"], clip_count)
    assert request.problems == []
    assert request.targets == dict.fromkeys(chosen, note)


@SETTINGS
@given(selections(), st.sampled_from(NOTE_SEPS), SAFE_NOTE)
def test_notes_never_add_or_remove_clips(
    case: tuple[int, set[int], str], sep: str, note: str
) -> None:
    clip_count, chosen, line = case
    request = parse_review([f"{line}{sep}{note}"], clip_count)
    assert set(request.targets) == chosen
    assert request.problems == []


@SETTINGS
@given(selections(), ONE_LINE_TEXT)
def test_numbers_inside_a_note_are_not_clips(case: tuple[int, set[int], str], note: str) -> None:
    clip_count, chosen, line = case
    # Any text at all after a colon, digits included, is the note.
    request = parse_review([f"{line}: {note}"], clip_count)
    assert set(request.targets) == chosen
    assert request.problems == []


@st.composite
def mixed_ranges(draw: st.DrawFn) -> tuple[int, set[int], set[int], list[str]]:
    """A task, in-range numbers, out-of-range numbers, and lines naming all of them."""
    clip_count = draw(st.integers(min_value=1, max_value=60))
    good = draw(st.sets(st.integers(min_value=1, max_value=clip_count), max_size=6))
    bad = draw(
        st.sets(
            st.one_of(
                st.just(0),
                st.integers(min_value=clip_count + 1, max_value=clip_count + 10_000),
                st.integers(min_value=10**7, max_value=10**30),
            ),
            min_size=1,
            max_size=4,
        )
    )
    items = [str(n) for n in good] + [str(n) for n in bad]
    items = draw(st.permutations(items))
    if draw(st.booleans()):
        lines = ["clips " + ", ".join(items)]
    else:
        lines = [draw(st.sampled_from(["clip ", "#", ""])) + item for item in items]
    return clip_count, good, bad, lines


@SETTINGS
@given(mixed_ranges())
def test_out_of_range_is_a_problem_never_a_target(
    case: tuple[int, set[int], set[int], list[str]],
) -> None:
    clip_count, good, bad, lines = case
    request = parse_review(lines, clip_count)
    assert set(request.targets) == good
    assert request.problems, lines
    assert all(p.line in lines for p in request.problems)
    reasons = " ".join(p.reason for p in request.problems)
    for n in bad:
        shown = str(n) if len(str(n)) <= 12 else str(n)[:12]
        assert shown in reasons
        assert n not in request.targets


@SETTINGS
@given(st.integers(min_value=1, max_value=60), st.integers(min_value=0, max_value=200))
def test_out_of_range_ranges_are_problems(clip_count: int, hi: int) -> None:
    line = f"clips 1-{hi}"
    request = parse_review([line], clip_count)
    if 1 <= hi <= clip_count:
        assert set(request.targets) == set(range(1, hi + 1))
        assert request.problems == []
    else:
        assert request.targets == {}
        assert [p.line for p in request.problems] == [line]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(), max_size=5), st.integers(min_value=0, max_value=100))
def test_parsing_never_raises(lines: list[str], clip_count: int) -> None:
    request = parse_review(lines, clip_count)
    assert all(1 <= n <= clip_count for n in request.targets)
    assert all(1 <= n <= clip_count + 1 for n in request.keyframes)
    source = {line.strip() for chunk in lines for line in chunk.splitlines()}
    assert all(p.line in source for p in request.problems)


@settings(max_examples=300, deadline=None)
@given(st.text(), st.integers(min_value=0, max_value=100))
def test_parsing_never_raises_on_text_with_selection_words(text: str, clip_count: int) -> None:
    # Arbitrary text glued to selection vocabulary reaches the deeper branches.
    for line in (f"clips 1, {text}", f"{text} - 3", f"all {text}", f"1-{text}", f"#{text}"):
        request = parse_review([line], clip_count)
        assert all(1 <= n <= clip_count for n in request.targets)


LABELS = [
    "Bad motion",
    "too dark",
    "Timing",
    "Flicker at the end",
    "colour grade off",
    "jittery pan",
    "Überbelichtet",
]
LABEL_SEPS = [": ", " - ", " – ", " — ", ":", " —", "– "]
PREFIXES = [
    "",
    "- ",
    "• ",
    "* ",
    "1) ",
    "12. ",
    "[2026-12-01 10:02] ",
    "[2026-12-01 10:02] - ",
    "2026-12-01: ",
    "2026-12-01 10:02 - ",
    "10:02 ",
    "(09:15) ",
    "- [2026-12-01] ",
]


@SETTINGS
@given(selections(), st.sampled_from(LABELS), st.sampled_from(LABEL_SEPS))
def test_a_label_before_any_selection_is_the_note_of_its_clips(
    case: tuple[int, set[int], str], label: str, sep: str
) -> None:
    clip_count, chosen, line = case
    request = parse_review([f"{label}{sep}{line}"], clip_count)
    assert request.problems == [], f"{label}{sep}{line}"
    assert request.targets == dict.fromkeys(chosen, label)


@SETTINGS
@given(
    selections(),
    st.sampled_from(LABELS),
    st.sampled_from(NOTE_SEPS),
    st.lists(st.sampled_from(NOTE_WORDS), min_size=1, max_size=4),
)
def test_label_and_note_are_both_kept(
    case: tuple[int, set[int], str], label: str, sep: str, words: list[str]
) -> None:
    clip_count, chosen, line = case
    note = " ".join(words)
    request = parse_review([f"{label}: {line}{sep}{note}"], clip_count)
    assert request.problems == []
    assert request.targets == dict.fromkeys(chosen, f"{label}: {note}")


@SETTINGS
@given(selections(), st.sampled_from(PREFIXES), st.sampled_from(["", "Bad motion: "]))
def test_timestamps_and_bullets_change_nothing(
    case: tuple[int, set[int], str], prefix: str, label: str
) -> None:
    clip_count, chosen, line = case
    plain = parse_review([f"{label}{line}"], clip_count)
    prefixed = parse_review([f"{prefix}{label}{line}"], clip_count)
    assert prefixed == plain
    assert set(prefixed.targets) == chosen


@SETTINGS
@given(selections(), st.sampled_from(["narrative", "audio", "continuity", "Bad motion", ""]))
def test_every_line_gets_one_reading_and_a_route_or_a_reason(
    case: tuple[int, set[int], str], label: str
) -> None:
    clip_count, chosen, line = case
    text = f"{label}: {line}" if label else line
    (explanation,) = explain_review(text, clip_count)
    assert explanation.problem is None
    assert explanation.route in ("regenerate", "re-plan", "narration", "keyframes")
    assert set(explanation.reading.clips) == chosen
    numbers = {n for a in explanation.actions for n in a.numbers}
    if explanation.route == "keyframes":
        # Both ends of every clip named.
        assert numbers == {k for c in chosen for k in (c, c + 1)}
    else:
        assert numbers == chosen


@settings(max_examples=300, deadline=None)
@given(st.text(), st.integers(min_value=0, max_value=100))
def test_reading_gives_one_reading_per_line_and_never_raises(text: str, clip_count: int) -> None:
    readings = read_lines([text], clip_count)
    assert len(readings) == max(1, len(text.splitlines()))
    for reading in readings:
        assert (reading.kind == "refused") == (reading.problem is not None)
        assert all(1 <= n <= clip_count for n in reading.clips)


WHEN = datetime(2026, 11, 21, 10, 42, tzinfo=UTC)
# A reviewer's line, an (older version's) daemon line, or a blank line.
KINDS = ["reviewer", "reviewer", "reviewer", "daemon", "blank"]
# A few line texts, so that repeats are common.
WORDS = st.sampled_from(["clip 1", "clip 2: dark", "Bad motion: 3", "all clips", "kf 2", "x"])


@st.composite
def error_logs(draw: st.DrawFn) -> list[tuple[str, str]]:
    """(kind, rendered line) pairs of an Error Log."""
    entries: list[tuple[str, str]] = []
    for _ in range(draw(st.integers(min_value=0, max_value=12))):
        kind = draw(st.sampled_from(KINDS))
        if kind == "daemon":
            entries.append((kind, daemon_line(WHEN, draw(ONE_LINE_TEXT))))
        elif kind == "blank":
            entries.append((kind, draw(st.sampled_from(["", "  ", "\t"]))))
        else:
            text = draw(st.one_of(WORDS, ONE_LINE_TEXT))
            # Random text that happens to start with the daemon's tag is the daemon's.
            assume(text.strip() and not is_daemon_line(text.strip()))
            entries.append((kind, text))
    return entries


def _reviewer_lines(entries: list[tuple[str, str]]) -> list[str]:
    return [t.strip() for kind, t in entries if kind == "reviewer"]


ACTED = st.dictionaries(
    st.sampled_from([line_hash(w) for w in ["clip 1", "clip 2: dark", "Bad motion: 3", "x"]]),
    st.integers(min_value=0, max_value=3),
)


@SETTINGS
@given(error_logs(), ACTED)
def test_new_lines_are_the_copies_beyond_those_acted_on(
    entries: list[tuple[str, str]], acted: dict[str, int]
) -> None:
    result = new_review_lines("\n".join(t for _, t in entries), acted)
    reviewer = _reviewer_lines(entries)
    # A subsequence of the reviewer's lines: daemon lines and blanks never come back.
    remaining = iter(reviewer)
    assert all(any(line.text == r for r in remaining) for line in result)
    assert all(line.key == line_hash(line.text) for line in result)
    present = Counter(line_hash(t) for t in reviewer)
    new = Counter(line.key for line in result)
    for key, count in present.items():
        assert new[key] == max(0, count - acted.get(key, 0))


@SETTINGS
@given(error_logs(), ACTED, st.lists(st.one_of(WORDS, ONE_LINE_TEXT), max_size=4))
def test_after_acting_only_what_is_written_next_is_new(
    entries: list[tuple[str, str]], acted: dict[str, int], fresh: list[str]
) -> None:
    log = "\n".join(t for _, t in entries)
    # As the daemon reads a settled log: records of lines gone are retired first.
    counts = Counter(acted)
    counts.subtract(lines_to_retire(log, acted))
    counts.update(line.key for line in new_review_lines(log, counts))
    assert new_review_lines(log, counts) == []
    # Whatever the reviewer writes below is new, even words acted on in earlier rounds.
    fresh = [t for t in fresh if t.strip() and not is_daemon_line(t.strip())]
    result = new_review_lines(log + "\n" + "\n".join(fresh), counts)
    assert [line.text for line in result] == [t.strip() for t in fresh]


@SETTINGS
@given(error_logs(), ACTED)
def test_retiring_leaves_exactly_what_the_log_holds(
    entries: list[tuple[str, str]], acted: dict[str, int]
) -> None:
    log = "\n".join(t for _, t in entries)
    retire = lines_to_retire(log, acted)
    left = Counter(acted)
    left.subtract(retire)
    present = Counter(line_hash(t) for t in _reviewer_lines(entries))
    for key, count in (+left).items():
        assert count <= present[key]
        assert count == min(acted[key], present[key])
