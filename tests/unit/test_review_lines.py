"""new_review_lines / lines_to_retire / log_line / line_hash."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta, timezone

from orchestrator.review import (
    DAEMON_PREFIX,
    NewLine,
    daemon_line,
    is_daemon_line,
    line_hash,
    lines_to_retire,
    log_line,
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


def test_log_line_format() -> None:
    assert (
        log_line(WHEN, "clip 5 filtered:\n safety")
        == "2026-11-21 10:42 UTC · clip 5 filtered: safety"
    )
    assert log_line(WHEN.replace(tzinfo=None), "x") == "2026-11-21 10:42 UTC · x"
    # The daemon's own lines no longer carry the tag: they never enter Error Log.
    assert not is_daemon_line(log_line(WHEN, "x"))


def test_new_review_lines_skips_blank_and_legacy_daemon_lines() -> None:
    text = "\n".join(
        [
            "Regenerate: clips 5, 12",
            "",
            daemon_line(WHEN, "clip 5 regenerated"),  # written by an older version
            "   ",
            "12: too dark",
            "[reelgate] note from the daemon",
            "clip 3",
        ]
    )
    acted = {line_hash("clip 3"): 1}
    result = new_review_lines(text, acted)
    assert result == [
        NewLine("Regenerate: clips 5, 12", line_hash("Regenerate: clips 5, 12")),
        NewLine("12: too dark", line_hash("12: too dark")),
    ]
    # The caller's mapping is not modified.
    assert acted == {line_hash("clip 3"): 1}


def test_a_log_kept_across_rounds_is_not_read_again() -> None:
    round_one = "clip 5: too dark"
    first = new_review_lines(round_one, {})
    assert [line.text for line in first] == ["clip 5: too dark"]
    acted = Counter(line.key for line in first)
    assert new_review_lines(round_one, acted) == []
    # Round two: the reviewer adds a line below.
    log = round_one + "\nclip 6"
    assert [line.text for line in new_review_lines(log, acted)] == ["clip 6"]


def test_a_line_written_again_is_a_new_request() -> None:
    acted = Counter({line_hash("clip 5: too dark"): 1})
    log = "clip 5: too dark\nclip 6\nClip 5:  too DARK"  # same words, spacing and case aside
    assert [line.text for line in new_review_lines(log, acted)] == ["clip 6", "Clip 5:  too DARK"]
    # Each copy counts: two acted on, a third is new.
    acted[line_hash("clip 5: too dark")] = 2
    assert [line.text for line in new_review_lines(log, acted)] == ["clip 6"]
    log += "\nclip 5: too dark"
    assert [line.text for line in new_review_lines(log, acted)] == ["clip 6", "clip 5: too dark"]


def test_a_plain_set_counts_each_hash_once() -> None:
    log = "clip 2\nclip 2\nclip 4"
    assert [line.text for line in new_review_lines(log, {line_hash("clip 2")})] == [
        "clip 2",
        "clip 4",
    ]


def test_copies_of_a_new_line_are_each_read() -> None:
    assert [line.text for line in new_review_lines("clip 1\nclip 1", {})] == ["clip 1", "clip 1"]


def test_records_of_lines_gone_from_the_log_are_retired() -> None:
    acted = {line_hash("clip 1"): 2, line_hash("clip 2"): 1, line_hash("clip 3"): 1}
    # The reviewer cleared the log and wrote one line of round 1 again.
    assert lines_to_retire("clip 1", acted) == {
        line_hash("clip 1"): 1,
        line_hash("clip 2"): 1,
        line_hash("clip 3"): 1,
    }
    assert lines_to_retire("clip 1\nclip 1\nclip 2\nclip 3\nclip 9", acted) == {}
    # After retiring, what stays is exactly what the log holds: nothing new...
    remaining = {line_hash("clip 1"): 1}
    assert new_review_lines("clip 1", remaining) == []
    # ...and a line cleared once and written again later is new.
    assert [line.text for line in new_review_lines("clip 2", remaining)] == ["clip 2"]


def test_new_review_lines_strips_and_handles_crlf() -> None:
    result = new_review_lines("  clip 1  \r\nclip 2\r\n", set())
    assert [line.text for line in result] == ["clip 1", "clip 2"]
