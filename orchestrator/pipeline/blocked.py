"""What a stage does when the safety filter blocks an image or storyboard call.

The call is recorded at $0 (nothing is billed), the reviewer reads why in the daemon
log, and the stage either rephrases (bounded by the channel) or stops with the fix.
"""

from __future__ import annotations

import structlog

from orchestrator.db.models import Task
from orchestrator.errors import ContentFiltered, ProviderPermanentError
from orchestrator.pipeline.context import PipelineContext
from orchestrator.pipeline.ledger import record_blocked
from orchestrator.pipeline.notion_out import log_error_line
from orchestrator.providers.safety import should_rephrase

__all__ = ["handle_blocked"]

log = structlog.get_logger(__name__)


async def handle_blocked(
    ctx: PipelineContext,
    task_id: int,
    blocked: ContentFiltered,
    *,
    provider: str,
    kind: str,
    subject: str,
    softened: str,
    fix: str,
    rephrases: int,
    max_rephrases: int,
) -> None:
    """Record and explain a blocked call; return to rephrase, raise to stop.

    `subject` names what was blocked ("keyframe 3 was blocked by the image model"),
    `softened` what the retry softens ("prompt", "brief"), `fix` what the owner does
    when the retries are spent.
    """
    retry = should_rephrase(rephrases, max_rephrases)
    reasons = "; ".join(blocked.reasons) or "no reason given"
    message = f"{subject}'s safety filter ({reasons}); not billed"
    message += (
        f"; retrying with a softened {softened}"
        if retry
        else f" (after {rephrases} softened retries)"
    )
    async with ctx.sessions() as session, session.begin():
        task = await session.get(Task, task_id)
        assert task is not None
        await record_blocked(
            session, task, blocked, provider=provider, kind=kind, metrics=ctx.metrics
        )
        log_error_line(session, task, message, ctx.clock())
    log.warning(f"filter_{kind}", subject=subject, reasons=reasons, retry=retry)
    if not retry:
        raise ProviderPermanentError(f"{message}. {fix}") from blocked
