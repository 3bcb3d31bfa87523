"""`reelgate logs TASK`: the daemon's log lines about one task, readable.

The daemon writes JSON lines to `REELGATE_LOG_FILE` (orchestrator/logging.py),
rotated by size into `file.1` (newest) ... `file.N` (oldest). A line is about a
task when its `task` field is the task's id or its `page` field the task's page
(lines written inside a step carry both; see the context variables there).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

__all__ = ["LEVELS", "log_files", "render_line", "task_lines"]

LEVELS = ("debug", "info", "warning", "error", "critical")
# Fields every line has, or that name the task the reader asked for: not repeated.
_SHOWN_APART = ("timestamp", "level", "event", "task", "page")


def log_files(path: Path) -> list[Path]:
    """The log file and its rotations that exist, oldest first."""
    rotated = []
    for candidate in path.parent.glob(f"{path.name}.*"):
        suffix = candidate.name[len(path.name) + 1 :]
        if suffix.isdigit():
            rotated.append((int(suffix), candidate))
    files = [p for _, p in sorted(rotated, reverse=True)]
    if path.exists():
        files.append(path)
    return files


def _page_key(value: Any) -> str:
    return str(value).replace("-", "").lower()


def task_lines(
    lines: Iterable[str],
    *,
    task_id: int | None,
    page_id: str | None,
    min_level: str = "debug",
) -> Iterator[dict[str, Any]]:
    """The JSON entries about the task, at `min_level` or above (other lines skipped)."""
    page = _page_key(page_id) if page_id else None
    floor = LEVELS.index(min_level)
    for line in lines:
        line = line.strip()
        if not line.startswith("{"):
            continue
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if not isinstance(entry, dict):
            continue
        level = str(entry.get("level", "info")).lower()
        if level in LEVELS and LEVELS.index(level) < floor:
            continue
        ours = (task_id is not None and str(entry.get("task")) == str(task_id)) or (
            page is not None and "page" in entry and _page_key(entry["page"]) == page
        )
        if ours:
            yield entry


def _value(value: Any) -> str:
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False) if (" " in value or not value) else value
    return json.dumps(value, ensure_ascii=False)


def render_line(entry: dict[str, Any]) -> str:
    """`2026-12-01T10:02:03Z  info     transition_task  from_status=Queued ...`"""
    stamp = str(entry.get("timestamp", ""))
    if stamp.endswith("+00:00"):
        stamp = stamp[: -len("+00:00")] + "Z"
    stamp = stamp.split(".")[0] + "Z" if "." in stamp else stamp
    fields = " ".join(
        f"{key}={_value(value)}"
        for key, value in entry.items()
        if key not in _SHOWN_APART and value is not None
    )
    level = str(entry.get("level", ""))
    return f"{stamp}  {level:<7}  {entry.get('event', '')}  {fields}".rstrip()
