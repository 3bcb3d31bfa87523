"""Provider unreachable (issue 10, case 3): bounded, persisted back-off; told; Failed.

The google provider points at a loopback port nobody listens on, so every storyboard
call is refused: a real connection error through google-genai. Workers are run by
hand, each a new Worker (as after a restart), with the pipeline clock set far in the
past: every retry is due at once, and the delays are read from the database, exactly.
"""

from __future__ import annotations

import dataclasses
import socket
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import update

from notion_sync.local_api.server import LocalNotionServer
from orchestrator.channels import ChannelConfig, Channels
from orchestrator.config import AppConfig
from orchestrator.daemon.drainer import OutboxDrainer
from orchestrator.daemon.health import HealthServer, all_ready, build_health_app, database_readiness
from orchestrator.daemon.notion_poll import NotionPoller
from orchestrator.daemon.provider_health import provider_readiness
from orchestrator.daemon.worker import Worker
from orchestrator.db.models import Task
from orchestrator.db.types import utcnow
from orchestrator.providers.settings import GoogleSettings
from tests.fixtures.pipeline import PipelineEnv, make_pipeline_env

pytestmark = pytest.mark.timeout(120)

API_KEY = "AIzaFakeProviderDownKey-0123456789abcd"
LIMIT = 5


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
async def down_env(tmp_path: Path, local_notion: LocalNotionServer) -> AsyncIterator[PipelineEnv]:
    def configure(config: AppConfig) -> AppConfig:
        google = GoogleSettings(
            _env_file=None,  # type: ignore[call-arg]
            api_key=API_KEY,  # type: ignore[arg-type]
            base_url=f"http://127.0.0.1:{_closed_port()}",
            timeout_ms=5_000,
            read_retry_attempts=1,
        )
        settings = config.settings.model_copy(
            update={
                "step_retry_seconds": 30.0,
                "step_retry_max_seconds": 120.0,
                "step_failures_before_comment": 3,
            }
        )
        return dataclasses.replace(config, google=google, settings=settings)

    x = ChannelConfig(name="x", provider="google", max_step_failures=LIMIT)
    channels = Channels({"default": ChannelConfig(name="default"), "x": x}, "test")
    async with make_pipeline_env(
        tmp_path, local_notion, channels=channels, configure=configure
    ) as env:
        yield env


async def _drain(env: PipelineEnv) -> None:
    drainer = OutboxDrainer(env.sessions, env.runtime.writer, env.runtime.metrics)
    while await drainer.drain_once():
        pass


def _provider_up(env: PipelineEnv) -> str | None:
    for line in env.runtime.metrics.render_text().splitlines():
        if line.startswith('reelgate_provider_up{provider="google"}'):
            return line.split()[-1]
    return None


async def test_unreachable_provider_backs_off_tells_the_owner_then_fails_with_the_reason(
    down_env: PipelineEnv,
) -> None:
    env = down_env
    ctx = env.runtime.ctx
    page = env.create_task(clips=2, channel="x")
    await NotionPoller(ctx, env.runtime.notion).poll_once()
    now = [utcnow() - timedelta(days=1)]
    ctx.clock = lambda: now[0]
    assert await Worker(ctx, "w0").run_once()  # Queued -> Planning: no provider call yet
    assert (await env.task(page)).status == "planning"
    readiness = all_ready(
        database_readiness(env.runtime.engine),
        provider_readiness(ctx.sessions, ctx.channels, env.runtime.metrics, threshold=3),
    )

    delays = []
    for n in range(1, LIMIT):
        assert await Worker(ctx, f"w{n}").run_once()  # a new worker: state is in the DB
        task = await env.task(page)
        assert task.status == "planning"
        assert task.step_failures == n
        assert task.step_failure_provider == "google"
        assert task.not_before is not None
        assert "cannot connect" in (task.step_failure_error or "")
        delays.append((task.not_before - now[0]).total_seconds())
        ready, details = await readiness()
        if n < 3:
            assert ready, details
            assert details["providers"] == {"google": "up", "local": "up"}
        else:
            assert not ready
            google = details["providers"]["google"]
            assert google["status"] == "down"
            assert google["failing_tasks"] == 1
            assert "cannot connect" in google["error"]
            assert details["database"] == "ok"
            assert _provider_up(env) == "0.0"
        now[0] = task.not_before
    assert delays == [30.0, 60.0, 120.0, 120.0]  # doubling, capped

    await _drain(env)
    told = [c for c in env.comments(page) if "is failing" in c]
    assert len(told) == 1  # once, after the third failure
    assert "Planning (google provider) is failing" in told[0]
    assert "cannot connect" in told[0]
    assert "reelgate keeps trying" in told[0]
    assert f"After {LIMIT} failures in a row the task is set to Failed" in told[0]

    # /readyz over HTTP says the same.
    async with (
        HealthServer(build_health_app(env.runtime.metrics, readiness)) as server,
        httpx.AsyncClient(base_url=server.base_url) as http,
    ):
        answer = await http.get("/readyz")
        assert answer.status_code == 503
        assert answer.json()["providers"]["google"]["status"] == "down"
        scraped = (await http.get("/metrics")).text
        assert 'reelgate_provider_up{provider="google"} 0.0' in scraped

    assert await Worker(ctx, "w-last").run_once()  # failure number LIMIT
    task = await env.task(page)
    assert task.status == "failed"
    assert task.step_failures == 0
    assert task.resume_status == "planning"
    await _drain(env)
    assert env.status(page) == "Failed"
    failure = env.comments(page)[-1]
    assert f"Planning (google provider) failed {LIMIT} times in a row" in failure
    assert "max_step_failures, is 5" in failure
    assert "cannot connect" in failure
    assert "Set Status to Queued to try again from this stage" in failure
    assert not await Worker(ctx, "w-idle").run_once()  # nothing retries a Failed task


async def test_step_that_works_again_clears_the_streak_and_says_so(
    down_env: PipelineEnv,
) -> None:
    env = down_env
    ctx = env.runtime.ctx
    page = env.create_task(clips=2, channel="x")
    await NotionPoller(ctx, env.runtime.notion).poll_once()
    now = [utcnow() - timedelta(days=1)]
    ctx.clock = lambda: now[0]
    assert await Worker(ctx, "w0").run_once()
    for n in range(1, 4):
        assert await Worker(ctx, f"w{n}").run_once()
        now[0] = (await env.task(page)).not_before or now[0]
    assert (await env.task(page)).step_failures == 3

    # The provider comes back: here, the channel is switched to the local provider
    # while Planning (an admin's fix); the next try plans the storyboard.
    task_id = (await env.task(page)).id
    async with env.sessions() as session, session.begin():
        await session.execute(update(Task).where(Task.id == task_id).values(channel="default"))
    assert await Worker(ctx, "w-ok").run_once()
    task = await env.task(page)
    assert task.status == "storyboard_ready"
    assert task.step_failures == 0
    assert task.step_failure_status is None
    ready, details = await provider_readiness(
        ctx.sessions, ctx.channels, env.runtime.metrics, threshold=3
    )()
    assert ready, details
    assert _provider_up(env) == "1.0"
    await _drain(env)
    assert "Planning works again after 3 failed tries" in "\n".join(env.comments(page))
