"""split_new_lines / daemon_line / line_hash."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from orchestrator.review import (
    DAEMON_PREFIX,
    ReviewLine,
    daemon_line,
    is_daemon_line,
    line_hash,
    split_new_lines,
)

WHEN = datetime(2026, 11, 21, 10, 42, 37, tzinfo=UTC)


def test_daemon_line_format() -> None:
    assert DAEMON_PREFIX == "[reelgate]"
    line = daemon_line(WHEN, "clip 5 filtered: safety")
    assert line == "[reelgate 2026-11-21 10:42Z] clip 5 filtered: safety"


def test_daemon_line_converts_to_utc_and_folds_line_breaks() -> None:
    local = WHEN.astimezone(timezone(timedelta(hours=2)))
    assert daemon_line(local, "a\nb\r\n  c") == "[reelgate 2026-11-21 10:42Z] a b c"
    assert daemon_line(WHEN.replace(tzinfo=None), "x") == "[reelgate 2026-11-21 10:42Z] x"


def test_is_daemon_line() -> None:
    assert is_daemon_line(daemon_line(WHEN, "x"))
    assert is_daemon_line("[reelgate] could not read line")
    assert is_daemon_line("   [reelgate 2026-01-01 00:00Z] x")
    assert not is_daemon_line("clip 5 [reelgate]")
    assert not is_daemon_line("[reelgatex] 5")
    assert not is_daemon_line("clip 5", "")


def test_line_hash_normalises_whitespace_and_case() -> None:
    assert line_hash("Clip 5:  too dark ") == line_hash("clip 5: too DARK")
    assert line_hash("clip 5") != line_hash("clip 6")
    assert len(line_hash("x")) == 64


def test_split_new_lines() -> None:
    text = "\n".join(
        [
            "Regenerate: clips 5, 12",
            "",
            daemon_line(WHEN, "clip 5 regenerated"),
            "   ",
            "12: too dark",
            "12:  TOO dark",  # the same request re-typed
            "[reelgate] note from the daemon",
            "clip 3",
        ]
    )
    seen = {line_hash("clip 3")}
    result = split_new_lines(text, seen, DAEMON_PREFIX)
    assert result == [
        ReviewLine("Regenerate: clips 5, 12", line_hash("Regenerate: clips 5, 12")),
        ReviewLine("12: too dark", line_hash("12: too dark")),
    ]
    # The caller's set is not modified.
    assert seen == {line_hash("clip 3")}


def test_same_text_in_a_later_round_is_new_again() -> None:
    text = "clip 5: too dark"
    round_one = split_new_lines(text, set(), DAEMON_PREFIX)
    assert [line.text for line in round_one] == ["clip 5: too dark"]
    # Within the round, re-saving the page does not make it new.
    assert split_new_lines(text, {round_one[0].hash}, DAEMON_PREFIX) == []
    # Next round: the caller passes only that round's hashes (none yet).
    assert split_new_lines(text, set(), DAEMON_PREFIX) == round_one


def test_split_new_lines_strips_and_handles_crlf() -> None:
    result = split_new_lines("  clip 1  \r\nclip 2\r\n", set(), DAEMON_PREFIX)
    assert [line.text for line in result] == ["clip 1", "clip 2"]


def test_custom_prefix() -> None:
    text = "[bot] hello\n[bot 2026-01-01 00:00Z] hi\n[reelgate] clip 1\nclip 2"
    result = split_new_lines(text, set(), "[bot]")
    assert [line.text for line in result] == ["[reelgate] clip 1", "clip 2"]
