"""Issue 14, "idle means idle": a daemon whose tasks all wait on operations re-runs no
step and sends Notion nothing but its poll (one request per poll interval).

A real daemon against the local Notion API and the fake Vertex server, whose clips
take an hour. Once every clip is in flight, the test counts what the daemon does over
the next few Notion polls: step runs, Notion requests (by the server's own log) and
outbox writes. Counts only.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
from pathlib import Path

import pytest
from sqlalchemy import func, select

from notion_sync.local_api.server import LocalNotionServer
from orchestrator.channels import ChannelConfig, Channels
from orchestrator.config import AppConfig
from orchestrator.daemon.daemon import Daemon
from orchestrator.daemon.drainer import pending_count
from orchestrator.db.models import Clip
from orchestrator.db.types import utcnow
from orchestrator.providers.settings import GoogleSettings
from orchestrator.state.clips import ClipStatus
from tests.fakes.vertex import FakeVertex
from tests.fixtures.pipeline import PipelineEnv, make_pipeline_env

pytestmark = pytest.mark.timeout(180)

TASKS, CLIPS, POLLS = 3, 2, 4


def _step_runs(daemon: Daemon) -> float:
    registry = daemon.runtime.metrics.registry
    return sum(
        sample.value
        for metric in registry.collect()
        if metric.name == "reelgate_step_seconds"
        for sample in metric.samples
        if sample.name.endswith("_count")
    )


async def _wait_for(predicate: object, what: str, tries: int = 600) -> None:
    for _ in range(tries):
        if await predicate():  # type: ignore[operator]
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"never {what}")


async def test_a_daemon_whose_tasks_wait_on_operations_only_polls_notion(
    tmp_path: Path, local_notion: LocalNotionServer, fake_vertex: FakeVertex
) -> None:
    fake_vertex.json_text = json.dumps(
        {
            "title": "Idle",
            "shots": [
                {"visual_prompt": f"shot {i}", "motion_prompt": "pan", "narration": "."}
                for i in range(CLIPS)
            ],
        }
    )
    fake_vertex.seconds_until_done = 3600.0  # clips take an hour

    def configure(config: AppConfig) -> AppConfig:
        google = GoogleSettings(
            _env_file=None,  # type: ignore[call-arg]
            api_key="AIzaFakeIdleKey-0123456789abcdef",  # type: ignore[arg-type]
            base_url=fake_vertex.url,
            timeout_ms=10_000,
            read_retry_attempts=1,
        )
        return dataclasses.replace(config, google=google)

    channel = ChannelConfig(
        name="x", provider="google", auto_approve=frozenset({"storyboard", "keyframes"})
    )
    channels = Channels({"default": ChannelConfig(name="default"), "x": channel}, "test")
    async with make_pipeline_env(
        tmp_path, local_notion, channels=channels, configure=configure
    ) as env:
        pages = [env.create_task(clips=CLIPS, seconds=8, channel="x") for _ in range(TASKS)]
        daemon = Daemon(env.runtime, idle_sleep=0.1)
        run = asyncio.create_task(daemon.run())
        try:

            async def all_in_flight() -> bool:
                async with env.sessions() as session:
                    polling = (
                        await session.execute(
                            select(func.count(Clip.id)).where(Clip.status == ClipStatus.POLLING)
                        )
                    ).scalar_one()
                    # Held intermediate writes (a row's "Generating") wait by design.
                    unsent = await pending_count(session, due_at=utcnow())
                return bool(polling == TASKS * CLIPS and unsent == 0)

            await _wait_for(all_in_flight, "had every clip in flight and the outbox empty")
            # Start counting at a poll boundary.
            first = daemon.polls
            await _wait_for(lambda: _async(daemon.polls > first), "polled Notion")
            start_polls = daemon.polls
            start_steps = _step_runs(daemon)
            start_requests = len(local_notion.request_log.entries())
            await _wait_for(
                lambda: _async(daemon.polls >= start_polls + POLLS), f"polled {POLLS} more times"
            )
            requests = local_notion.request_log.entries()[start_requests:]
            polls = daemon.polls - start_polls
            steps = _step_runs(daemon) - start_steps
        finally:
            daemon.stop()
            await run
        assert len(pages) == TASKS
        assert steps == 0, "a task waiting on operations was re-run"
        # One query per Notion poll, and nothing else.
        assert [(r.method, r.path.split("/")[2]) for r in requests] == [
            ("POST", "data_sources")
        ] * len(requests)
        assert polls - 1 <= len(requests) <= polls + 1


async def _async(value: bool) -> bool:
    return value


async def test_the_operation_loop_sleeps_until_due_and_a_submit_wakes_it(
    pipeline_env: PipelineEnv,
) -> None:
    ctx = pipeline_env.runtime.ctx
    # Nothing in flight, and the longest sleep an hour: only a submit can wake it.
    ctx.settings = ctx.settings.model_copy(update={"operation_poll_seconds": 3600.0})
    daemon = Daemon(pipeline_env.runtime)
    loop = asyncio.create_task(daemon.operations_loop())
    try:
        await _wait_for(lambda: _async(daemon.operation_rounds == 1), "ran its first round")
        assert await daemon.operations_sleep() == 3600.0
        for _ in range(20):  # other work goes on; the loop does not come round
            await asyncio.sleep(0.01)
        assert daemon.operation_rounds == 1
        ctx.operations_changed.set()  # what a submit in this process does
        await _wait_for(lambda: _async(daemon.operation_rounds == 2), "woke for the submit")
        assert daemon.operation_rounds == 2
    finally:
        daemon.stop()
        await loop
