"""Every daemon loop and job runs under one supervisor: failures are logged and
counted, and a loop that keeps failing makes /healthz answer 503 until it recovers."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Awaitable, Callable
from datetime import UTC
from pathlib import Path

import httpx
import pytest
import structlog
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from notion_sync.local_api.server import LocalNotionServer
from orchestrator.config import AppConfig
from orchestrator.daemon.daemon import Daemon
from orchestrator.daemon.health import HealthServer, build_health_app
from orchestrator.daemon.supervisor import Supervisor
from orchestrator.errors import ConfigError
from orchestrator.metrics import Metrics
from tests.fixtures.pipeline import make_pipeline_env

pytestmark = pytest.mark.timeout(60)


def failures(metrics: Metrics, loop: str) -> float:
    value = metrics.registry.get_sample_value("reelgate_loop_failures_total", {"loop": loop})
    return value or 0.0


def streak(metrics: Metrics, loop: str) -> float:
    value = metrics.registry.get_sample_value("reelgate_loop_consecutive_failures", {"loop": loop})
    return value or 0.0


async def wait_for(condition: Callable[[], Awaitable[bool]], timeout_s: float = 20.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout_s
    while not await condition():
        assert asyncio.get_running_loop().time() < deadline, "condition never became true"
        await asyncio.sleep(0.02)


async def test_a_job_that_raises_is_logged_and_counted_and_the_next_run_still_happens() -> None:
    metrics = Metrics()
    supervisor = Supervisor(metrics, unhealthy_after=3)
    runs = 0

    async def flaky() -> None:
        nonlocal runs
        runs += 1
        if runs == 1:
            raise KeyError("no such clip")  # a bug: logged with its traceback
        if runs == 2:
            raise ConfigError("channels.toml:3: bad")  # classified: a warning

    job = supervisor.job("flaky", flaky)
    with structlog.testing.capture_logs() as logs:
        await job()
        await job()
        await job()

    assert runs == 3
    failed = [entry for entry in logs if entry["event"] == "fail_loop_run"]
    assert [(e["loop"], e["error_type"], e["log_level"]) for e in failed] == [
        ("flaky", "KeyError", "error"),
        ("flaky", "ConfigError", "warning"),
    ]
    assert failed[0]["exc_info"] is True
    assert failed[1]["error"] == "channels.toml:3: bad"
    assert failed[1]["consecutive_failures"] == 2
    assert failures(metrics, "flaky") == 2
    assert streak(metrics, "flaky") == 0  # the third run succeeded
    assert 'reelgate_loop_failures_total{loop="flaky"} 2.0' in metrics.render_text()
    assert supervisor.failing() == {}


async def test_scheduled_job_failing_flips_healthz_to_503_and_back_on_recovery() -> None:
    metrics = Metrics()
    supervisor = Supervisor(metrics, unhealthy_after=3)
    broken = True

    async def refresh() -> None:
        if broken:
            raise RuntimeError("database is gone")

    scheduler = AsyncIOScheduler(timezone=UTC)
    scheduler.add_job(
        supervisor.job("url_refresh", refresh),
        "interval",
        seconds=0.05,
        max_instances=1,
        coalesce=True,
    )
    app = build_health_app(metrics, failing_loops=supervisor.failing)
    scheduler.start()
    try:
        async with HealthServer(app) as server, httpx.AsyncClient(base_url=server.base_url) as http:

            async def unhealthy() -> bool:
                return (await http.get("/healthz")).status_code == 503

            await wait_for(unhealthy)
            body = (await http.get("/healthz")).json()
            assert body["status"] == "failing"
            assert list(body["loops"]) == ["url_refresh"]
            assert body["loops"]["url_refresh"]["consecutive_failures"] >= 3
            assert body["loops"]["url_refresh"]["last_error_type"] == "RuntimeError"
            assert "database is gone" not in str(body)  # messages stay in the logs
            assert failures(metrics, "url_refresh") >= 3

            broken = False

            async def healthy() -> bool:
                return (await http.get("/healthz")).status_code == 200

            await wait_for(healthy)
            assert (await http.get("/healthz")).json() == {"status": "ok"}
            assert streak(metrics, "url_refresh") == 0
    finally:
        scheduler.shutdown(wait=False)


async def test_loop_below_the_threshold_stays_healthy_and_a_success_resets_the_streak() -> None:
    metrics = Metrics()
    supervisor = Supervisor(metrics, unhealthy_after=3)
    results: list[bool | Exception] = [OSError("a"), OSError("b"), True, OSError("c"), False]
    stopping = asyncio.Event()
    busy_marks = 0

    async def body() -> bool:
        result = results.pop(0)
        if not results:
            stopping.set()
        if isinstance(result, Exception):
            raise result
        return result

    def on_busy() -> None:
        nonlocal busy_marks
        busy_marks += 1

    await supervisor.loop("drain", body, every=0.001, stopping=stopping, on_busy=on_busy)
    assert failures(metrics, "drain") == 3
    assert supervisor.failing() == {}  # never 3 in a row
    assert busy_marks == 1


async def test_daemon_loops_are_supervised_and_named_on_healthz(
    tmp_path: Path, local_notion: LocalNotionServer
) -> None:
    def fail_fast(config: AppConfig) -> AppConfig:
        settings = config.settings.model_copy(
            update={"notion_poll_seconds": 0.05, "unhealthy_after_failures": 2}
        )
        return dataclasses.replace(config, settings=settings)

    async with make_pipeline_env(tmp_path, local_notion, configure=fail_fast) as env:
        daemon = Daemon(env.runtime, idle_sleep=0.05)
        metrics = env.runtime.metrics
        app = build_health_app(metrics, failing_loops=daemon.supervisor.failing)
        # Every Tasks query is refused for good: each poll raises NotionPermanentError.
        local_notion.knobs.inject(
            status=403, method="POST", path_prefix="/v1/data_sources", times=None
        )
        runner = asyncio.create_task(daemon.run())
        try:
            async with (
                HealthServer(app) as server,
                httpx.AsyncClient(base_url=server.base_url) as http,
            ):

                async def unhealthy() -> bool:
                    return (await http.get("/healthz")).status_code == 503

                await wait_for(unhealthy)
                body = (await http.get("/healthz")).json()
                assert list(body["loops"]) == ["notion_poll"]
                assert body["loops"]["notion_poll"]["last_error_type"] == "NotionPermanentError"
                assert failures(metrics, "notion_poll") >= 2

                local_notion.knobs.clear_faults()

                async def healthy() -> bool:
                    return (await http.get("/healthz")).status_code == 200

                await wait_for(healthy)
        finally:
            daemon.stop()
            await asyncio.wait_for(runner, 30)


async def test_an_idle_loop_backs_off_doubling_up_to_its_limit() -> None:
    supervisor, stopping, rounds = Supervisor(Metrics()), asyncio.Event(), [0]

    async def idle() -> bool:
        rounds[0] += 1
        return False

    loop = asyncio.create_task(
        supervisor.loop("idle", idle, every=0.01, stopping=stopping, idle_max=1000.0)
    )
    await asyncio.sleep(1.0)
    stopping.set()
    await loop
    # Pauses of 0.01, 0.02, 0.04 ... s: at most 8 rounds fit in a second (a loop
    # pausing 0.01 s each time would have made about a hundred).
    assert 2 <= rounds[0] <= 8


def _idle_loop(
    **options: float,
) -> tuple[asyncio.Task[None], list[int], asyncio.Event, asyncio.Event]:
    """A supervised loop that never finds work, paused 300 s between rounds: the task,
    its round count, its wake-up event and its stop event."""
    rounds, wake, stopping = [0], asyncio.Event(), asyncio.Event()

    async def idle() -> bool:
        rounds[0] += 1
        return False

    loop = asyncio.create_task(
        Supervisor(Metrics()).loop(
            "idle", idle, every=300.0, stopping=stopping, wake=wake, idle_max=600.0, **options
        )
    )
    return loop, rounds, wake, stopping


async def test_a_wake_ends_an_idle_pause_at_once() -> None:
    loop, rounds, wake, stopping = _idle_loop()
    await wait_for(lambda: _at_least(rounds, 1))
    wake.set()  # e.g. a Notion change applied: without the wake, the next round is 300 s away
    await wait_for(lambda: _at_least(rounds, 2))
    assert not wake.is_set()  # cleared by the loop it woke
    stopping.set()
    await loop


async def test_a_woken_loop_waits_its_settle_time_so_a_series_goes_in_one_round() -> None:
    """settle_on_wake (the drainer): the status writes of a task moving on quickly are
    queued together and only the latest is sent (drainer.superseded_status_writes)."""
    loop, rounds, wake, stopping = _idle_loop(settle_on_wake=300.0)
    await wait_for(lambda: _at_least(rounds, 1))
    wake.set()
    await asyncio.sleep(0.3)
    # Woken, but the next round comes the settle time (300 s) after the wake, not at once.
    assert rounds == [1]
    assert not wake.is_set()
    stopping.set()  # ends the settle wait too
    await asyncio.wait_for(loop, 5)
    assert rounds == [1]


async def _at_least(rounds: list[int], n: int) -> bool:
    return rounds[0] >= n


async def test_a_notion_change_applied_wakes_the_idle_workers(
    tmp_path: Path, local_notion: LocalNotionServer
) -> None:
    async with make_pipeline_env(tmp_path, local_notion) as env:
        daemon = Daemon(env.runtime)
        await daemon.poll_notion()
        env.runtime.ctx.work_ready.clear()
        await daemon.poll_notion()  # nothing new: nobody is woken
        assert not env.runtime.ctx.work_ready.is_set()
        env.create_task(clips=2)
        await daemon.poll_notion()
        assert env.runtime.ctx.work_ready.is_set()
