"""Which Error Log lines are new reviewer requests (and how the daemon writes its own).

The Error Log is one free-text Notion property shared by reviewers and the daemon.
Every line the daemon writes starts with a bracketed tag (`[reelgate ...]`), so a
later read can tell the daemon's lines from the reviewers' and never act on its
own text. Reviewer lines are identified by a hash of their normalised text, so
re-saving the page (or adding a trailing space) does not make a line new again.

Each time the daemon reads a review it appends a marker line (`[reelgate …] review
read: …`). A reviewer line is new when it stands after the last marker, or when its
text was never acted on before (`new_review_lines`). So a log kept across rounds is
not re-read, while a log that was cleared and retyped (the marker gone with it) is
read again, even where the words repeat an earlier round.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime

__all__ = [
    "DAEMON_PREFIX",
    "REVIEW_MARK",
    "NewLine",
    "daemon_line",
    "is_daemon_line",
    "line_hash",
    "new_review_lines",
]

DAEMON_PREFIX = "[reelgate]"
# In the daemon line that closes a review round: `[reelgate …] review read: …`.
REVIEW_MARK = "review read:"


@dataclass(frozen=True, slots=True)
class NewLine:
    """One reviewer line not acted on yet: its text (trimmed) and its `line_hash`."""

    text: str
    key: str  # stored in review_lines.line_hash once acted on


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


def new_review_lines(error_log: str, acted_on: set[str]) -> list[NewLine]:
    """The reviewer lines of the Error Log to act on now, in order, each once.

    Skipped: blank lines, lines written by the daemon (see `is_daemon_line`),
    repeats of a line earlier in the text (by `line_hash`), and lines standing
    before the last `REVIEW_MARK` marker whose hash is in `acted_on` (read in an
    earlier round). A line after the last marker is new even if its words were
    acted on before: the reviewer wrote it again for this round.
    """
    lines = [raw.strip() for raw in error_log.splitlines()]
    last_mark = max(
        (i for i, text in enumerate(lines) if is_daemon_line(text) and REVIEW_MARK in text),
        default=-1,
    )
    out: list[NewLine] = []
    taken: set[str] = set()
    for i, text in enumerate(lines):
        if not text or is_daemon_line(text):
            continue
        key = line_hash(text)
        if (i > last_mark or key not in acted_on) and key not in taken:
            taken.add(key)
            out.append(NewLine(text, key))
    return out
