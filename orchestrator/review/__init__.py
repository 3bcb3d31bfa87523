"""Review text: which Error Log lines are new reviewer requests, and what they ask for.

Pure functions, no I/O. See `new_review_lines` (what to read), `read_lines` /
`parse_review` (what each line says), `explain_review` (where each request goes,
in words: the daemon's reading, its comment and `reelgate explain-review` all come
from it) and `classes` (the issue-class words, which a channel may extend). The
I/O around them (recording what was acted on, marking items for regeneration) is
pipeline/review.py's.
"""

from __future__ import annotations

from orchestrator.review.classes import (
    DEFAULT_ISSUE_WORDS,
    ISSUE_CLASS_NAMES,
    IssueClass,
    IssueClasses,
    issue_classes,
)
from orchestrator.review.explain import (
    STAGE_ORDER,
    Action,
    LineExplanation,
    RedoPlan,
    Route,
    compact_numbers,
    explain_review,
    plan_review,
    route_description,
)
from orchestrator.review.lines import (
    DAEMON_PREFIX,
    NewLine,
    daemon_line,
    is_daemon_line,
    line_hash,
    lines_to_retire,
    log_line,
    new_review_lines,
    reviewer_lines,
)
from orchestrator.review.parser import (
    LineReading,
    ReviewProblem,
    ReviewRequest,
    accepted_forms_help,
    join_notes,
    parse_review,
    read_lines,
)

__all__ = [
    "DAEMON_PREFIX",
    "DEFAULT_ISSUE_WORDS",
    "ISSUE_CLASS_NAMES",
    "STAGE_ORDER",
    "Action",
    "IssueClass",
    "IssueClasses",
    "LineExplanation",
    "LineReading",
    "NewLine",
    "RedoPlan",
    "ReviewProblem",
    "ReviewRequest",
    "Route",
    "accepted_forms_help",
    "compact_numbers",
    "daemon_line",
    "explain_review",
    "is_daemon_line",
    "issue_classes",
    "join_notes",
    "line_hash",
    "lines_to_retire",
    "log_line",
    "new_review_lines",
    "parse_review",
    "plan_review",
    "read_lines",
    "reviewer_lines",
    "route_description",
]
