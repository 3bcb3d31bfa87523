"""Review text: which Error Log lines are new reviewer requests, and what they ask for.

Pure functions, no I/O. See `split_new_lines` (what to read), `parse_review` (what
it means) and `daemon_line` (how the daemon writes its own lines so they are never
read back as requests).
"""

from __future__ import annotations

from orchestrator.review.lines import (
    DAEMON_PREFIX,
    ReviewLine,
    daemon_line,
    is_daemon_line,
    line_hash,
    split_new_lines,
)
from orchestrator.review.parser import (
    ReviewProblem,
    ReviewRequest,
    accepted_forms_help,
    parse_review,
)

__all__ = [
    "DAEMON_PREFIX",
    "ReviewLine",
    "ReviewProblem",
    "ReviewRequest",
    "accepted_forms_help",
    "daemon_line",
    "is_daemon_line",
    "line_hash",
    "parse_review",
    "split_new_lines",
]
