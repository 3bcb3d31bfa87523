"""The pipeline: what a worker does for a claimed task, stage by stage (DESIGN §2, §4).

`run_step` picks the work by status; each stage is one module under `stages/`, in
the ordered list `STAGE_MODULES`; `apply_review` turns a reviewer's *X Error* into
marked redo work; `poll_due_operations` follows paid operations to their end; the
`sync` functions turn what people changed in Notion into guarded transitions.
Nothing here talks to Notion: every write goes to the outbox (`notion_out`).
"""

from __future__ import annotations

from orchestrator.pipeline.context import PipelineContext, ProviderSet
from orchestrator.pipeline.operations import next_due_at, poll_due_operations
from orchestrator.pipeline.refresh import refresh_expiring_urls
from orchestrator.pipeline.review import apply_review
from orchestrator.pipeline.steps import RUNNABLE, fail_task, page_problems, run_step
from orchestrator.pipeline.sync import apply_task_pages, apply_video_rows

__all__ = [
    "RUNNABLE",
    "PipelineContext",
    "ProviderSet",
    "apply_review",
    "apply_task_pages",
    "apply_video_rows",
    "fail_task",
    "next_due_at",
    "page_problems",
    "poll_due_operations",
    "refresh_expiring_urls",
    "run_step",
]
