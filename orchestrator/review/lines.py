"""Which Error Log lines are new reviewer requests (and how the daemon writes its own).

The Error Log is one free-text Notion property shared by reviewers and the daemon.
Every line the daemon writes starts with a bracketed tag (`[reelgate ...]`), so a
later read can tell the daemon's lines from the reviewers' and never act on its
own text. Reviewer lines are identified by a hash of their normalised text, so
re-saving the page (or adding a trailing space) does not make a line new again.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime

__all__ = [
    "DAEMON_PREFIX",
    "ReviewLine",
    "daemon_line",
    "is_daemon_line",
    "line_hash",
    "split_new_lines",
]

DAEMON_PREFIX = "[reelgate]"


@dataclass(frozen=True, slots=True)
class ReviewLine:
    """One reviewer-written line: its text (trimmed) and its normalised hash."""

    text: str
    hash: str


def line_hash(text: str) -> str:
    """sha256 (hex) of the line with whitespace collapsed and case folded.

    Two lines that differ only in spacing or case are the same request.
    """
    normalised = " ".join(text.split()).casefold()
    return hashlib.sha256(normalised.encode("utf-8")).hexdigest()


def daemon_line(timestamp: datetime, message: str) -> str:
    """Format one Error Log line written by the daemon.

    `[reelgate 2026-11-21 10:42Z] clip 5 filtered: ...`. The timestamp is shown in
    UTC (a naive datetime is taken to be UTC already). Line breaks in the message
    are folded into spaces: a continuation line would not carry the tag and would
    later be read back as a reviewer request.
    """
    if timestamp.tzinfo is None:
        timestamp = timestamp.replace(tzinfo=UTC)
    stamp = timestamp.astimezone(UTC).strftime("%Y-%m-%d %H:%MZ")
    body = " ".join(message.split())
    # "[reelgate]" -> "[reelgate 2026-11-21 10:42Z]": the stamp goes inside the tag.
    return f"{DAEMON_PREFIX[:-1]} {stamp}] {body}"


def is_daemon_line(line: str, daemon_prefix: str = DAEMON_PREFIX) -> bool:
    """True when the line was written by the daemon.

    A bracketed prefix such as `[reelgate]` also matches the stamped form that
    `daemon_line` writes, `[reelgate 2026-11-21 10:42Z]`: same tag, with the
    timestamp inside the brackets.
    """
    stripped = line.lstrip()
    if not daemon_prefix:
        return False
    if stripped.startswith(daemon_prefix):
        return True
    if daemon_prefix.startswith("[") and daemon_prefix.endswith("]"):
        open_tag = daemon_prefix[:-1] + " "
        return stripped.startswith(open_tag) and "]" in stripped[len(open_tag) :]
    return False


def split_new_lines(
    error_log_text: str,
    already_seen_hashes: set[str],
    daemon_prefix: str = DAEMON_PREFIX,
) -> list[ReviewLine]:
    """The reviewer lines of the Error Log that have not been acted on yet, in order.

    Skipped: blank lines, lines written by the daemon (see `is_daemon_line`), lines
    whose `line_hash` is in `already_seen_hashes`, and repeats of a line earlier in
    the same text.

    `already_seen_hashes` must hold the hashes acted on in the *current* review
    round only (the `review_lines` rows of this round). A reviewer who writes the
    same text again in a later round (say `clip 5: too dark` after the second
    attempt is still too dark) means it again, so hashes from earlier rounds must
    not be passed in; otherwise that request would be silently ignored.
    """
    seen = set(already_seen_hashes)
    result: list[ReviewLine] = []
    for raw in error_log_text.splitlines():
        text = raw.strip()
        if not text or is_daemon_line(text, daemon_prefix):
            continue
        digest = line_hash(text)
        if digest in seen:
            continue
        seen.add(digest)
        result.append(ReviewLine(text=text, hash=digest))
    return result
