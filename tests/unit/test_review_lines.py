"""new_review_lines / daemon_line / line_hash."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from orchestrator.review import (
    DAEMON_PREFIX,
    REVIEW_MARK,
    NewLine,
    daemon_line,
    is_daemon_line,
    line_hash,
    new_review_lines,
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


def _mark(text: str = "Video Error, round 1: regenerating video 5") -> str:
    return daemon_line(WHEN, f"{REVIEW_MARK} {text}")


def test_new_review_lines_skips_blank_daemon_and_repeated_lines() -> None:
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
    acted = {line_hash("clip 3")}  # acted on, but no marker: it was never closed
    result = new_review_lines(text, acted)
    assert result == [
        NewLine("Regenerate: clips 5, 12", line_hash("Regenerate: clips 5, 12")),
        NewLine("12: too dark", line_hash("12: too dark")),
        NewLine("clip 3", line_hash("clip 3")),
    ]
    # The caller's set is not modified.
    assert acted == {line_hash("clip 3")}


def test_lines_before_the_last_marker_that_were_acted_on_are_old() -> None:
    round_one = "clip 5: too dark"
    first = new_review_lines(round_one, set())
    assert [line.text for line in first] == ["clip 5: too dark"]
    acted = {line.key for line in first}
    # The daemon closed the round with its marker: nothing is new until the reviewer writes.
    log = "\n".join([round_one, _mark()])
    assert new_review_lines(log, acted) == []
    # Round two: the same words again, below the marker, are a new request.
    log += "\nclip 5: too dark\nclip 6"
    assert [line.text for line in new_review_lines(log, acted)] == ["clip 5: too dark", "clip 6"]


def test_an_unacted_line_before_the_marker_is_still_read() -> None:
    # Typed while the daemon was writing its marker: never acted on, so not lost.
    log = "\n".join(["clip 2", _mark(), "clip 4"])
    assert [line.text for line in new_review_lines(log, set())] == ["clip 2", "clip 4"]
    assert [line.text for line in new_review_lines(log, {line_hash("clip 2")})] == ["clip 4"]


def test_a_cleared_log_is_read_again() -> None:
    # The reviewer cleared the log (the marker went with it) and retyped a line.
    acted = {line_hash("clip 5: too dark")}
    assert [line.text for line in new_review_lines("clip 5: too dark", acted)] == [
        "clip 5: too dark"
    ]


def test_only_the_last_marker_counts() -> None:
    log = "\n".join(["clip 1", _mark("one"), "clip 2", _mark("two"), "clip 3"])
    acted = {line_hash("clip 1"), line_hash("clip 2")}
    assert [line.text for line in new_review_lines(log, acted)] == ["clip 3"]
    # A daemon line without the marker text does not close a round.
    log = "\n".join(["clip 1", daemon_line(WHEN, "clip 1 filtered")])
    assert [line.text for line in new_review_lines(log, acted)] == ["clip 1"]


def test_new_review_lines_strips_and_handles_crlf() -> None:
    result = new_review_lines("  clip 1  \r\nclip 2\r\n", set())
    assert [line.text for line in result] == ["clip 1", "clip 2"]
