"""Every log line about a task carries its context: task, page, clip, attempt, operation."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest

from notion_sync.local_api.server import LocalNotionServer
from orchestrator.logging import configure_logging
from tests.fixtures.pipeline import make_pipeline_env

pytestmark = pytest.mark.timeout(120)


async def test_worker_and_operation_lines_carry_their_context(
    tmp_path: Path, local_notion: LocalNotionServer, captured_logs: io.StringIO
) -> None:
    configure_logging(level="debug", json=True, stream=captured_logs)
    async with make_pipeline_env(tmp_path, local_notion) as env:
        page = env.create_task(clips=2, channel="autopilot")
        await env.settle()
        assert env.status(page) == "Video Ready"
    lines: list[dict[str, Any]] = [
        json.loads(line) for line in captured_logs.getvalue().splitlines() if line.startswith("{")
    ]
    # Lines written inside a worker step, by us and by the storage layer.
    step_lines = [e for e in lines if e["event"] in ("transition_task", "object_stored")]
    assert step_lines
    assert all(e.get("task") and e.get("page") == page for e in step_lines)
    # Lines written while an operation is followed: the clip and its operation too.
    stored_clips = [
        e for e in lines if e["event"] == "object_stored" and "/clips/" in e.get("key", "")
    ]
    assert len(stored_clips) == 2
    for entry in stored_clips:
        assert {"task", "page", "clip", "attempt", "operation"} <= entry.keys()
        assert entry["operation"].startswith("local-ops/")
    submits = [e for e in lines if e["event"] == "submit_clip"]
    assert {(e["clip"], e["attempt"]) for e in submits} == {(1, 1), (2, 1)}
