"""orchestrator.limits: bounds that say what they cut, number lists that stay short."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from orchestrator.limits import (
    COMMENT_MAX_CHARS,
    bound,
    bound_comment,
    quote,
    summarise_numbers,
    summarise_runs,
)


@pytest.mark.parametrize(
    ("numbers", "word", "expected"),
    [
        ([5], "clip", "clip 5"),
        ([2, 3, 4, 7], "clip", "clips 2–4, 7"),
        (range(1, 5001), "clip", "clips 1–5000"),
        ([], "clip", "no clips"),
        ([3, 1, 2, 2], "keyframe", "keyframes 1–3"),
    ],
)
def test_summarise_numbers(numbers: list[int], word: str, expected: str) -> None:
    assert summarise_numbers(numbers, word) == expected


def test_many_runs_are_counted_not_listed() -> None:
    text = summarise_numbers(range(1, 10_001, 2))
    assert text.endswith("and 4,980 more (5,000 in all)")
    assert len(text) < 200


def test_overlapping_runs_merge() -> None:
    assert summarise_runs([(5, 9), (7, 12), (14, 14)], "shot") == "shots 5–12, 14"


@given(st.text(max_size=5000), st.integers(min_value=40, max_value=3000))
def test_bound_never_exceeds_its_limit(text: str, limit: int) -> None:
    for marker in (False, True):
        result = bound(text, limit, marker=marker)
        assert len(result.text) <= limit
        assert result.original_length == len(text)
        if len(text) <= limit:
            assert result.text == text
            assert result.cut == 0


def test_bound_says_what_was_cut() -> None:
    result = bound("word " * 1000, 100, marker=True)
    assert result.text.endswith("characters cut]")
    assert (
        result.describe("The note")
        == f"The note was 5,000 characters; the first {result.kept} were used"
    )
    assert result.cut == 5000 - result.kept > 4900


@given(st.text(max_size=20_000))
def test_a_comment_stays_within_the_bound(text: str) -> None:
    assert len(bound_comment(text)) <= COMMENT_MAX_CHARS


def test_a_long_comment_ends_saying_it_was_shortened() -> None:
    out = bound_comment("line\n" * 10_000)
    assert out.endswith("characters cut)")


def test_quote_is_one_short_line() -> None:
    quoted = quote("a\nb " * 500)
    assert "\n" not in quoted
    assert len(quoted) <= 200
