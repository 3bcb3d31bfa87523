"""Hostile or careless inputs in the issue-10 "inputs" area, and what their author sees.

Each row is one input and the visible outcome it must produce:

- ``cli``: the CLI's one-line ``error: ...`` (exit status non-zero) contains ``expect``;
- ``comment``: a comment on the task page contains ``expect``;
- ``readiness``: ``/readyz`` answers 503 and its body contains ``expect``.

`tests/integration/test_bad_input_inputs.py` runs every row against real peers
(the CLI in-process through its error boundary, the daemon against the local Notion
API). The table is shared with the rest of issue 10's bad-input proof.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

__all__ = ["ROWS", "Row"]

Outcome = Literal["cli", "comment", "readiness"]


@dataclass(frozen=True)
class Row:
    id: str
    given: str  # what the person did, in words
    outcome: Outcome
    expect: str  # a fragment of what they see
    env: dict[str, str] = field(default_factory=dict)  # cli rows: settings
    argv: tuple[str, ...] = ("status",)  # cli rows: the command
    scenario: str = ""  # comment / readiness rows: the scenario that plays it


# "{unreachable}" is replaced by a PostgreSQL URL on a closed port with a password.
ROWS: list[Row] = [
    # -- bad settings --------------------------------------------------------------
    Row(
        "rate-zero",
        "REELGATE_NOTION_REQUESTS_PER_SECOND=0",
        "cli",
        "REELGATE_NOTION_REQUESTS_PER_SECOND: Input should be greater than 0 (got '0')",
        env={"REELGATE_NOTION_REQUESTS_PER_SECOND": "0"},
    ),
    Row(
        "rate-negative",
        "REELGATE_NOTION_REQUESTS_PER_SECOND=-3",
        "cli",
        "REELGATE_NOTION_REQUESTS_PER_SECOND: Input should be greater than 0 (got '-3')",
        env={"REELGATE_NOTION_REQUESTS_PER_SECOND": "-3"},
    ),
    Row(
        "rate-words",
        "REELGATE_NOTION_REQUESTS_PER_SECOND=fast",
        "cli",
        "REELGATE_NOTION_REQUESTS_PER_SECOND: Input should be a valid number",
        env={"REELGATE_NOTION_REQUESTS_PER_SECOND": "fast"},
    ),
    Row(
        "notion-timeout-zero",
        "REELGATE_NOTION_TIMEOUT_S=0",
        "cli",
        "REELGATE_NOTION_TIMEOUT_S: Input should be greater than 0",
        env={"REELGATE_NOTION_TIMEOUT_S": "0"},
    ),
    Row(
        "workers-zero",
        "REELGATE_WORKERS=0",
        "cli",
        "REELGATE_WORKERS: Input should be greater than or equal to 1",
        env={"REELGATE_WORKERS": "0"},
    ),
    Row(
        "http-port-too-big",
        "REELGATE_HTTP_PORT=70000",
        "cli",
        "REELGATE_HTTP_PORT: Input should be less than or equal to 65535",
        env={"REELGATE_HTTP_PORT": "70000"},
    ),
    Row(
        "log-level-unknown",
        "REELGATE_LOG_LEVEL=loud",
        "cli",
        "REELGATE_LOG_LEVEL: Input should be 'debug', 'info', 'warning' or 'error'",
        env={"REELGATE_LOG_LEVEL": "loud"},
    ),
    Row(
        "property-names-not-json",
        "REELGATE_NOTION_PROPERTY_NAMES=error_log:Notes (not JSON)",
        "cli",
        "REELGATE_NOTION_PROPERTY_NAMES: not valid JSON",
        env={"REELGATE_NOTION_PROPERTY_NAMES": "error_log:Notes"},
    ),
    Row(
        "channels-file-missing",
        "REELGATE_CHANNELS_FILE names a file that is not there",
        "cli",
        "channels file not found",
        env={"REELGATE_CHANNELS_FILE": "/nonexistent/channels.toml"},
        argv=("explain-review", "clip 3", "--clips", "4", "--channel", "x"),
    ),
    # -- the database --------------------------------------------------------------
    Row(
        "database-unreachable-run",
        "reelgate run with PostgreSQL down",
        "cli",
        "cannot reach the database at postgresql+asyncpg://reelgate:***@127.0.0.1",
        env={"REELGATE_DATABASE_URL": "{unreachable}"},
        argv=("run",),
    ),
    Row(
        "database-unreachable-status",
        "reelgate status with PostgreSQL down",
        "cli",
        "Check REELGATE_DATABASE_URL",
        env={"REELGATE_DATABASE_URL": "{unreachable}"},
    ),
    Row(
        "database-url-garbage",
        "REELGATE_DATABASE_URL=not a url",
        "cli",
        "Could not parse SQLAlchemy URL",
        env={"REELGATE_DATABASE_URL": "not a url"},
    ),
    Row(
        "database-never-migrated",
        "reelgate status on a database nobody migrated",
        "cli",
        "has no reelgate schema (OperationalError: no such table",
        env={"REELGATE_DATABASE_URL": "{empty_sqlite}"},
    ),
    # -- huge fields ---------------------------------------------------------------
    Row(
        "clip-numbers-5000",
        "5,000 clip numbers on one Error Log line",
        "comment",
        "and 4,980 more (5,000 in all) are out of range",
        scenario="five_thousand_numbers",
    ),
    Row(
        "note-100kb",
        "a 100 KB note for one shot in Error Log",
        "comment",
        "Too long for the model: the note for shot 1 has",
        scenario="huge_note",
    ),
    Row(
        "brief-20kb",
        "a 20 KB Brief",
        "comment",
        "by the storyboard model",
        scenario="huge_brief",
    ),
    # -- property drift --------------------------------------------------------------
    Row(
        "error-log-renamed-comment",
        "Error Log renamed while a review is open",
        "comment",
        'The Tasks database has no property "Error Log" any more',
        scenario="error_log_renamed",
    ),
    Row(
        "error-log-renamed-readiness",
        "Error Log renamed while a review is open",
        "readiness",
        'Tasks property \\"Error Log\\" is missing',
        scenario="error_log_renamed",
    ),
    Row(
        "status-renamed",
        "Status renamed: every page would read as 'no status'",
        "readiness",
        'Tasks property \\"Status\\" is missing',
        scenario="status_renamed",
    ),
    Row(
        "videos-property-deleted",
        "Motion deleted from the Videos table",
        "comment",
        'The Videos database has no property "Motion" any more',
        scenario="motion_deleted",
    ),
]
