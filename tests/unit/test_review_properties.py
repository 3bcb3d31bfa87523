"""Property-based tests of review text: random selections in random spellings, and
which lines of a random Error Log are new."""

from __future__ import annotations

import string
from datetime import UTC, datetime

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from orchestrator.review import (
    REVIEW_MARK,
    daemon_line,
    is_daemon_line,
    line_hash,
    new_review_lines,
    parse_review,
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


WHEN = datetime(2026, 11, 21, 10, 42, tzinfo=UTC)
# A reviewer's line, a daemon line, a daemon line closing a round, or a reviewer
# line the daemon already acted on.
KINDS = ["reviewer", "reviewer", "daemon", "mark", "acted"]


@st.composite
def error_logs(draw: st.DrawFn) -> tuple[list[tuple[str, str]], set[str]]:
    """(kind, rendered line) pairs of an Error Log, and the hashes acted on."""
    entries: list[tuple[str, str]] = []
    acted: set[str] = set()
    for _ in range(draw(st.integers(min_value=0, max_value=12))):
        kind = draw(st.sampled_from(KINDS))
        text = draw(ONE_LINE_TEXT)
        if kind == "daemon":
            entries.append((kind, daemon_line(WHEN, text)))
        elif kind == "mark":
            entries.append((kind, daemon_line(WHEN, f"{REVIEW_MARK} {text}")))
        else:
            # Random text that happens to start with the daemon's tag is the daemon's.
            assume(not is_daemon_line(text.strip()))
            entries.append((kind, text))
            if kind == "acted" and text.strip():
                acted.add(line_hash(text.strip()))
    return entries, acted


def _reviewer_lines(entries: list[tuple[str, str]]) -> list[str]:
    return [t.strip() for kind, t in entries if kind in ("reviewer", "acted") and t.strip()]


@SETTINGS
@given(error_logs())
def test_new_lines_are_reviewer_lines_in_order_each_once(
    case: tuple[list[tuple[str, str]], set[str]],
) -> None:
    entries, acted = case
    result = new_review_lines("\n".join(t for _, t in entries), acted)
    texts = [line.text for line in result]
    reviewer = _reviewer_lines(entries)
    # A subsequence of the reviewer's lines: daemon lines and blanks never come back.
    remaining = iter(reviewer)
    assert all(any(text == r for r in remaining) for text in texts)
    assert all(line.key == line_hash(line.text) for line in result)
    assert len({line.key for line in result}) == len(result)
    assert not any(is_daemon_line(text) for text in texts)


@SETTINGS
@given(error_logs())
def test_lines_after_the_last_marker_are_read_and_acted_lines_before_it_are_not(
    case: tuple[list[tuple[str, str]], set[str]],
) -> None:
    entries, acted = case
    result = new_review_lines("\n".join(t for _, t in entries), acted)
    keys = {line.key for line in result}
    last_mark = max((i for i, (kind, _) in enumerate(entries) if kind == "mark"), default=-1)
    after = _reviewer_lines(entries[last_mark + 1 :])
    before = _reviewer_lines(entries[: last_mark + 1])
    assert {line_hash(t) for t in after} <= keys
    for text in before:
        key = line_hash(text)
        if key not in {line_hash(t) for t in after}:
            # Before the marker: read exactly when it was never acted on.
            assert (key in keys) == (key not in acted), text


@SETTINGS
@given(error_logs(), st.lists(ONE_LINE_TEXT, max_size=4))
def test_a_closed_round_is_not_read_again_but_new_lines_are(
    case: tuple[list[tuple[str, str]], set[str]], fresh: list[str]
) -> None:
    entries, acted = case
    log = "\n".join(t for _, t in entries)
    acted = acted | {line.key for line in new_review_lines(log, acted)}
    # The daemon acted on everything and wrote its marker.
    log += "\n" + daemon_line(WHEN, f"{REVIEW_MARK} regenerating video 1")
    assert new_review_lines(log, acted) == []
    # Whatever the reviewer writes below it is new, even words read in an earlier round.
    assume(not any(is_daemon_line(t.strip()) for t in fresh))
    result = new_review_lines(log + "\n" + "\n".join(fresh), acted)
    expected = list(dict.fromkeys(line_hash(t.strip()) for t in fresh if t.strip()))
    assert [line.key for line in result] == expected
