"""What admins use to answer "why is this task stuck, what did it cost, can you retry it".

- `lookup`: find a task by id, Notion page id or page URL;
- `story`: one task's whole story as data (`reelgate status TASK`);
- `actions`: retry, cancel, resume, through the same guarded transitions as Notion;
- `outbox`: pending Notion writes and dead letters (list, replay, drop);
- `stuck`: tasks in a working status longer than their channel allows;
- `signals`: the gauges the alerts in deploy/prometheus/alerts.yaml read;
- `logs`: the daemon's JSON log lines about one task (`reelgate logs TASK`).

The CLI commands are in orchestrator/cli/admin_cmds.py; docs/operations.md shows them.
"""

from __future__ import annotations

from orchestrator.admin.actions import cancel_task, choices, operator, resume_task, retry_task
from orchestrator.admin.logs import LEVELS, log_files, render_line, task_lines
from orchestrator.admin.lookup import find_task, page_key
from orchestrator.admin.outbox import (
    OutboxRow,
    ReplayOutcome,
    dead_letters,
    drop_dead_letter,
    outbox_health,
    pending_writes,
    replay_all,
    replay_dead_letter,
    summarize_op,
)
from orchestrator.admin.signals import publish_admin_gauges, publish_static_gauges
from orchestrator.admin.story import SECTIONS, StoryContext, task_story
from orchestrator.admin.stuck import (
    WORKING_STAGES,
    flag_stuck_tasks,
    human_duration,
    is_stuck,
    stuck_limit,
    stuck_tasks,
)

__all__ = [
    "LEVELS",
    "SECTIONS",
    "WORKING_STAGES",
    "OutboxRow",
    "ReplayOutcome",
    "StoryContext",
    "cancel_task",
    "choices",
    "dead_letters",
    "drop_dead_letter",
    "find_task",
    "flag_stuck_tasks",
    "human_duration",
    "is_stuck",
    "log_files",
    "operator",
    "outbox_health",
    "page_key",
    "pending_writes",
    "publish_admin_gauges",
    "publish_static_gauges",
    "render_line",
    "replay_all",
    "replay_dead_letter",
    "resume_task",
    "retry_task",
    "stuck_limit",
    "stuck_tasks",
    "summarize_op",
    "task_lines",
    "task_story",
]
