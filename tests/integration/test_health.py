"""/healthz, /readyz, /metrics on a real uvicorn server in the test's event loop."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from orchestrator.daemon.health import (
    HealthServer,
    Readiness,
    build_health_app,
    database_readiness,
)
from orchestrator.db import create_engine
from orchestrator.metrics import Metrics


async def test_healthz_metrics_and_bound_port() -> None:
    metrics = Metrics()
    metrics.transitions.labels(actor="daemon", to="planning").inc()
    server = HealthServer(build_health_app(metrics), port=0)
    await server.start()
    port = server.port
    try:
        assert port > 0
        async with httpx.AsyncClient(base_url=server.base_url) as client:
            health = await client.get("/healthz")
            assert health.status_code == 200
            assert health.json() == {"status": "ok"}

            scraped = await client.get("/metrics")
            assert scraped.status_code == 200
            assert scraped.headers["content-type"].startswith("text/plain; version=0.0.4")
            assert 'reelgate_transitions_total{actor="daemon",to="planning"} 1.0' in scraped.text
    finally:
        await server.stop()
    async with httpx.AsyncClient() as client:
        with pytest.raises(httpx.ConnectError):
            await client.get(f"http://127.0.0.1:{port}/healthz", timeout=1)


async def test_readyz_follows_the_readiness_callable_and_draining() -> None:
    answer: Readiness = (False, {"database": "unreachable"})

    async def readiness() -> Readiness:
        return answer

    async with (
        HealthServer(build_health_app(Metrics(), readiness)) as server,
        httpx.AsyncClient(base_url=server.base_url) as client,
    ):
        not_ready = await client.get("/readyz")
        assert not_ready.status_code == 503
        assert not_ready.json()["database"] == "unreachable"

        answer = (True, {"database": "ok"})
        ready = await client.get("/readyz")
        assert ready.status_code == 200
        assert ready.json() == {"status": "ready", "database": "ok"}

        server.mark_draining()
        draining = await client.get("/readyz")
        assert draining.status_code == 503
        assert (await client.get("/healthz")).status_code == 200


async def test_readyz_reports_a_failing_or_hanging_check_as_503() -> None:
    async def broken() -> Readiness:
        raise RuntimeError("boom")

    async def hangs() -> Readiness:
        import asyncio

        await asyncio.sleep(30)
        return True, {}

    async with (
        HealthServer(build_health_app(None, broken)) as a,
        HealthServer(build_health_app(None, hangs, readiness_timeout_s=0.2)) as b,
        httpx.AsyncClient() as client,
    ):
        first = await client.get(f"{a.base_url}/readyz")
        assert first.status_code == 503
        assert "RuntimeError" in first.json()["error"]
        second = await client.get(f"{b.base_url}/readyz")
        assert second.status_code == 503
        assert "timed out" in second.json()["error"]


async def test_database_readiness_needs_migrations_at_head(
    sqlite_url: str, engine: AsyncEngine
) -> None:
    # `engine` is migrated to head (sqlite and, when reachable, postgres).
    ready, details = await database_readiness(engine)()
    assert ready, details
    assert details["migrations"] == "at_head"

    # A fresh, unmigrated database answers but is behind.
    blank = create_engine(sqlite_url.replace("reelgate.db", "blank.db"))
    try:
        async with blank.connect() as conn:
            await conn.execute(text("SELECT 1"))
        ready, details = await database_readiness(blank)()
        assert not ready
        assert details["migrations"] == "behind"
    finally:
        await blank.dispose()


async def test_database_readiness_unreachable_database() -> None:
    # Port 1 on loopback: nothing listens, the connect fails at once.
    dead = create_engine("postgresql+asyncpg://nobody@127.0.0.1:1/none")
    try:
        ready, details = await database_readiness(dead)()
        assert not ready
        assert details["database"] == "unreachable"
    finally:
        await dead.dispose()
