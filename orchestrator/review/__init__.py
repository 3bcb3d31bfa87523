"""Review text: which Error Log lines are new reviewer requests, and what they ask for.

Pure functions, no I/O. See `new_review_lines` (what to read), `parse_review` (what
it means) and `daemon_line` (how the daemon writes its own lines so they are never
read back as requests). The I/O around them (recording what was acted on, marking
items for regeneration) is pipeline/review.py's.
"""

from __future__ import annotations

from orchestrator.review.lines import (
    DAEMON_PREFIX,
    REVIEW_MARK,
    NewLine,
    daemon_line,
    is_daemon_line,
    line_hash,
    new_review_lines,
)
from orchestrator.review.parser import (
    ReviewProblem,
    ReviewRequest,
    accepted_forms_help,
    parse_review,
)

__all__ = [
    "DAEMON_PREFIX",
    "REVIEW_MARK",
    "NewLine",
    "ReviewProblem",
    "ReviewRequest",
    "accepted_forms_help",
    "daemon_line",
    "is_daemon_line",
    "line_hash",
    "new_review_lines",
    "parse_review",
]
