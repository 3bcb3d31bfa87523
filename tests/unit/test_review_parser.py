"""parse_review: every accepted spelling, notes, problems (table-driven)."""

from __future__ import annotations

import pytest

from orchestrator.review import ReviewProblem, accepted_forms_help, parse_review

CLIPS = 20


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("clip 5", {5: ""}),
        ("Clip 5", {5: ""}),
        ("clips 5, 12, 17", {5: "", 12: "", 17: ""}),
        ("clips 5,12,17", {5: "", 12: "", 17: ""}),
        ("clips 5, 12, 17.", {5: "", 12: "", 17: ""}),
        ("#5", {5: ""}),
        ("# 5", {5: ""}),
        ("clip #5", {5: ""}),
        ("5", {5: ""}),
        ("5-7", {5: "", 6: "", 7: ""}),
        ("5 - 7", {5: "", 6: "", 7: ""}),
        ("5–7", {5: "", 6: "", 7: ""}),
        ("5—7", {5: "", 6: "", 7: ""}),
        ("5 to 7", {5: "", 6: "", 7: ""}),
        ("5 through 7", {5: "", 6: "", 7: ""}),
        ("clips 5 to clip 7", {5: "", 6: "", 7: ""}),
        ("7-5", {5: "", 6: "", 7: ""}),
        ("clips 5 and 7", {5: "", 7: ""}),
        ("clips 5 & 7", {5: "", 7: ""}),
        ("clips 5, 6, and 7", {5: "", 6: "", 7: ""}),
        ("clip 5 and clip 7", {5: "", 7: ""}),
        ("clips 2, 4-6 and #9", {2: "", 4: "", 5: "", 6: "", 9: ""}),
        ("clip number 4", {4: ""}),
        ("Regenerate: clips 5, 12, 17", {5: "", 12: "", 17: ""}),
        ("Regenerate clip 5", {5: ""}),
        ("regenerate - 5", {5: ""}),
        ("redo 3", {3: ""}),
        ("Redo: #3", {3: ""}),
        ("re-do clip 3", {3: ""}),
        ("regen 4", {4: ""}),
        ("fix clip 1", {1: ""}),
        ("Please redo the clips 2 and 3", {2: "", 3: ""}),
        ("- clip 3", {3: ""}),
        ("* clip 3", {3: ""}),
        ("• clip 3", {3: ""}),
        ("shot 2", {2: ""}),
        ("shots 2-3", {2: "", 3: ""}),
        # Full-width and other decimal digits are digits too (IME input).
        ("clip ３", {3: ""}),
    ],
)
def test_clip_selections(line: str, expected: dict[int, str]) -> None:
    request = parse_review([line], CLIPS)
    assert request.targets == expected
    assert request.problems == []
    assert not request.all_selected
    assert request.keyframes == {}


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("12: too dark", {12: "too dark"}),
        ("12 : too dark", {12: "too dark"}),
        ("clip 12 - too dark", {12: "too dark"}),
        ("clip 12 – too dark", {12: "too dark"}),
        ("clip 12 — too dark", {12: "too dark"}),
        ("clip 12 too dark", {12: "too dark"}),
        ("clips 2, 3 - too dark", {2: "too dark", 3: "too dark"}),
        ("Regenerate: clips 2, 3 - too dark", {2: "too dark", 3: "too dark"}),
        ("#4-5: flickers at the end", {4: "flickers at the end", 5: "flickers at the end"}),
        ("Regenerate clip 4 because it flickers", {4: "because it flickers"}),
        # Numbers in the note are never clip numbers.
        ("5: make it 2x brighter", {5: "make it 2x brighter"}),
        ("5: like clip 7, but warmer", {5: "like clip 7, but warmer"}),
        # After a colon a number starts the note ("5 - 3 people" would read as 5-3).
        ("clip 5: 3 people, not 2", {5: "3 people, not 2"}),
        ("clips 5 and", {5: ""}),
    ],
)
def test_notes(line: str, expected: dict[int, str]) -> None:
    request = parse_review([line], CLIPS)
    assert request.targets == expected
    assert request.problems == []


@pytest.mark.parametrize(
    ("line", "note"),
    [
        ("all clips", ""),
        ("All clips", ""),
        ("all", ""),
        ("Regenerate: all", ""),
        ("redo all clips", ""),
        ("all of them", ""),
        ("every clip", ""),
        ("everything: darker", "darker"),
        ("all clips - too dark", "too dark"),
        ("all: too dark", "too dark"),
        ("all keyframes", ""),
    ],
)
def test_all(line: str, note: str) -> None:
    request = parse_review([line], 4)
    assert request.all_selected
    assert request.all_note == note
    assert request.targets == {}
    assert request.problems == []
    assert request.selected_clips(4) == {n: note for n in range(1, 5)}


def test_all_combined_with_per_clip_notes() -> None:
    request = parse_review(["all clips: warmer", "2: too dark"], 3)
    assert request.all_selected
    assert request.targets == {2: "too dark"}
    assert request.selected_clips(3) == {1: "warmer", 2: "warmer; too dark", 3: "warmer"}


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("keyframe 3", {3: ""}),
        ("Keyframes 3-4", {3: "", 4: ""}),
        ("key frame 3", {3: ""}),
        ("kf 3", {3: ""}),
        ("KF 3: too blue", {3: "too blue"}),
        # A task with N clips has N + 1 keyframes.
        (f"keyframe {CLIPS + 1}", {CLIPS + 1: ""}),
    ],
)
def test_keyframes(line: str, expected: dict[int, str]) -> None:
    request = parse_review([line], CLIPS)
    assert request.keyframes == expected
    assert request.targets == {}
    assert request.problems == []


def test_clips_and_keyframes_on_one_line() -> None:
    request = parse_review(["clips 2, 4 and keyframe 3 - harsh light"], CLIPS)
    assert request.targets == {2: "harsh light", 4: "harsh light"}
    assert request.keyframes == {3: "harsh light"}


def test_duplicate_mentions_merge_notes() -> None:
    request = parse_review(
        ["5: too dark", "clip 5 - Too  Dark", "5", "4-5: blurry", "clip 5: too dark"], CLIPS
    )
    assert request.targets == {4: "blurry", 5: "too dark; blurry"}
    assert request.problems == []


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("clip 0", "clip 0 is out of range: this task has clips 1–6"),
        ("clip 7", "clip 7 is out of range: this task has clips 1–6"),
        ("clips 5-9", "clips 5–9 are out of range: this task has clips 1–6"),
        ("clips 0, 7", "clips 0, 7 are out of range: this task has clips 1–6"),
        (
            "keyframe 8",
            "keyframe 8 is out of range: this task has clips 1–6 and keyframes 1–7",
        ),
        (
            "clip 99999999999999",
            "clip 999999999999… is out of range: this task has clips 1–6",
        ),
        ("the sky in 5 is off", "no clip numbers found"),
        ("too dark: the sky in 5", "no clip numbers after 'too dark:'"),
        ("all good", "no clip numbers found"),
        ("looks great overall", "no clip numbers found"),
        ("clip", "no clip numbers found"),
        ("the 2nd clip", "no clip numbers found"),
        (
            "all except 3",
            "exceptions to 'all' are not understood: name the clips to regenerate instead",
        ),
        (
            "all clips but 3",
            "exceptions to 'all' are not understood: name the clips to regenerate instead",
        ),
    ],
)
def test_problems_quote_the_line(line: str, reason: str) -> None:
    request = parse_review([line], 6)
    assert request.problems == [ReviewProblem(line, reason)]
    assert request.targets == {}
    assert not request.all_selected


def test_valid_numbers_survive_problems() -> None:
    request = parse_review(["clip 2", "clips 3, 70: darker", "no idea", "4"], 6)
    assert request.targets == {2: "", 3: "darker", 4: ""}
    assert [p.line for p in request.problems] == ["clips 3, 70: darker", "no idea"]


def test_out_of_range_range_is_rejected_whole() -> None:
    # "5-9" on a 6-clip task is most likely a typo: do not regenerate 5 and 6 on a guess.
    request = parse_review(["5-9"], 6)
    assert request.targets == {}
    assert len(request.problems) == 1


@pytest.mark.parametrize(
    "lines",
    [
        [],
        [""],
        ["   "],
        ["Regenerate:"],
        ["Regenerate"],
        ["[reelgate 2026-11-21 10:42Z] clip 5 filtered: safety"],
    ],
)
def test_ignored_lines(lines: list[str]) -> None:
    request = parse_review(lines, 6)
    assert request.is_empty
    assert request.problems == []


def test_header_line_then_list() -> None:
    request = parse_review(["Regenerate:", "2: too dark", "3: blurry"], 6)
    assert request.targets == {2: "too dark", 3: "blurry"}
    assert request.problems == []


def test_multiline_string_items_are_split() -> None:
    request = parse_review(["clip 1\nclip 2: dark"], 6)
    assert request.targets == {1: "", 2: "dark"}


def test_a_bare_string_is_read_as_text() -> None:
    # A str is a Sequence[str] of characters; "12" must not become clips 1 and 2.
    request = parse_review("12: too dark", 20)
    assert request.targets == {12: "too dark"}


def test_zero_clip_task() -> None:
    request = parse_review(["clip 1"], 0)
    assert request.targets == {}
    assert request.problems == [
        ReviewProblem("clip 1", "clip 1 is out of range: this task has no clips yet")
    ]


def test_accepted_forms_help_examples_all_parse() -> None:
    text = accepted_forms_help()
    examples = [
        "clip 5",
        "#5",
        "clips 5, 12, 17",
        "clips 5 and 7",
        "5-7",
        "5–7",
        "5 to 7",
        "clips 2, 4-6 and #9",
        "all clips",
        "Regenerate: clips 5, 12",
        "12: too dark",
        "clips 2, 3 - too dark",
        "keyframe 3",
        "kf 3-4",
        "shot 2",
    ]
    for example in examples:
        assert example in text
        request = parse_review([example], 20)
        assert request.problems == [], example
        assert not request.is_empty, example
