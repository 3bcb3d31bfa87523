"""Which Error Log lines are new reviewer requests.

The Error Log belongs to the reviewers: the daemon never writes it (its own lines
go to the "reelgate log" toggle in the page body, see pipeline/notion_out.py), so
no daemon write can race a reviewer who is typing there.

Which lines are new is decided without any marker in the text. The daemon keeps,
per task, one record (`review_lines` row) for every line it acted on: a multiset
of line hashes. A line of the log is new when the log holds more copies of it
than the daemon has acted on: the k-th copy of a line is new when fewer than k
copies were acted on. So:

- a log kept across rounds is not read again (every line is accounted for);
- a reviewer who repeats a line in a later round writes it again (a second copy
  is new), as they would to any person reading the log;
- a record whose line has left the log (deleted, cleared) is retired when the
  daemon next reads a settled log (`lines_to_retire`), so a line cleared and then
  written again later counts as new.

Reviewer lines are identified by a hash of their normalised text: re-saving the
page, a trailing space or a change of case does not make a line new.

Older versions wrote their own lines into the Error Log with a bracketed tag
(`[reelgate 2026-11-21 10:42Z] ...`); such lines are still recognised and skipped.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

__all__ = [
    "DAEMON_PREFIX",
    "NewLine",
    "daemon_line",
    "is_daemon_line",
    "line_hash",
    "lines_to_retire",
    "log_line",
    "new_review_lines",
    "reviewer_lines",
]

DAEMON_PREFIX = "[reelgate]"


@dataclass(frozen=True, slots=True)
class NewLine:
    """One reviewer line: its text (trimmed) and its `line_hash`."""

    text: str
    key: str  # stored in review_lines.line_hash once acted on


def line_hash(text: str) -> str:
    """sha256 (hex) of the line with whitespace collapsed and case folded.

    Two lines that differ only in spacing or case are the same request.
    """
    normalised = " ".join(text.split()).casefold()
    return hashlib.sha256(normalised.encode("utf-8")).hexdigest()


def log_line(timestamp: datetime, message: str) -> str:
    """One line of the daemon's own log: `2026-11-21 10:42 UTC · clip 5 filtered: ...`.

    The timestamp is shown in UTC (a naive datetime is taken to be UTC already);
    line breaks in the message are folded into spaces.
    """
    if timestamp.tzinfo is None:
        timestamp = timestamp.replace(tzinfo=UTC)
    stamp = timestamp.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return f"{stamp} · {' '.join(message.split())}"


def daemon_line(timestamp: datetime, message: str) -> str:
    """The tagged form older versions wrote into the Error Log (kept for reading them).

    `[reelgate 2026-11-21 10:42Z] clip 5 filtered: ...`.
    """
    if timestamp.tzinfo is None:
        timestamp = timestamp.replace(tzinfo=UTC)
    stamp = timestamp.astimezone(UTC).strftime("%Y-%m-%d %H:%MZ")
    body = " ".join(message.split())
    return f"{DAEMON_PREFIX[:-1]} {stamp}] {body}"


def is_daemon_line(line: str, daemon_prefix: str = DAEMON_PREFIX) -> bool:
    """True when the line carries the daemon's tag (`[reelgate]`, `[reelgate <stamp>]`)."""
    stripped = line.lstrip()
    if not daemon_prefix:
        return False
    if stripped.startswith(daemon_prefix):
        return True
    if daemon_prefix.startswith("[") and daemon_prefix.endswith("]"):
        open_tag = daemon_prefix[:-1] + " "
        return stripped.startswith(open_tag) and "]" in stripped[len(open_tag) :]
    return False


def reviewer_lines(error_log: str) -> list[NewLine]:
    """Every reviewer line of the log in order: not blank, not a (legacy) daemon line."""
    out: list[NewLine] = []
    for raw in error_log.splitlines():
        text = raw.strip()
        if text and not is_daemon_line(text):
            out.append(NewLine(text, line_hash(text)))
    return out


def _counts(acted: Mapping[str, int] | Iterable[str]) -> Counter[str]:
    if isinstance(acted, Mapping):
        return Counter({k: int(v) for k, v in acted.items() if int(v) > 0})
    return Counter(set(acted))


def new_review_lines(error_log: str, acted: Mapping[str, int] | Iterable[str]) -> list[NewLine]:
    """The reviewer lines to act on now, in order.

    `acted` counts, per line hash, the copies the daemon already acted on (a plain
    set of hashes counts each once). The k-th copy of a line is new when fewer
    than k copies were acted on; blank and daemon lines are never new.
    """
    budget = _counts(acted)
    out: list[NewLine] = []
    for line in reviewer_lines(error_log):
        if budget[line.key] > 0:
            budget[line.key] -= 1
            continue
        out.append(line)
    return out


def lines_to_retire(error_log: str, acted: Mapping[str, int]) -> dict[str, int]:
    """Acted-on records that no line of the log stands for any more, per hash.

    Called on a settled log only (the reviewer stopped typing), so a line cut and
    pasted elsewhere in one go is not mistaken for a new one.
    """
    present = Counter(line.key for line in reviewer_lines(error_log))
    return {
        key: count - present[key] for key, count in _counts(acted).items() if count > present[key]
    }
