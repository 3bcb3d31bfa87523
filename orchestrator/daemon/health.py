"""The daemon's small HTTP port: ``/healthz``, ``/readyz``, ``/metrics``.

- ``/healthz``: the process is alive, its event loop answers, and no loop or job
  is failing (liveness): 503 naming the loops whose last runs all failed (see
  ``orchestrator.daemon.supervisor``), 200 again once they succeed.
- ``/readyz``: the daemon can do work: the readiness callable (e.g. database
  reachable, migrations at head) says so and the daemon is not draining for a
  shutdown. Load balancers and Kubernetes stop routing to a 503.
- ``/metrics``: Prometheus text exposition of a :class:`~orchestrator.metrics.Metrics`.

:class:`HealthServer` runs the app under uvicorn as a task in the *current* event
loop (no thread; ``reelgate.serving.InLoopServer``), so handlers can await the
daemon's own engine and state.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, Self

import structlog
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from orchestrator.metrics import CONTENT_TYPE, Metrics
from reelgate.serving import InLoopServer

__all__ = [
    "FailingLoops",
    "HealthServer",
    "Readiness",
    "ReadinessCheck",
    "all_ready",
    "build_health_app",
    "database_readiness",
]

log = structlog.get_logger(__name__)

# (ready, details): details are served as the JSON body of /readyz either way.
Readiness = tuple[bool, dict[str, Any]]
ReadinessCheck = Callable[[], Awaitable[Readiness]]
# Loop name -> what is known about its failure streak (Supervisor.failing).
FailingLoops = Callable[[], Mapping[str, Any]]

# A readiness probe that hangs is as bad as one that fails; Kubernetes' default
# probe timeout is 1 s, so answer well before a typical configured timeout.
_DEFAULT_READINESS_TIMEOUT_S = 5.0


async def _always_ready() -> Readiness:
    return True, {}


class _State:
    """Mutable flags shared by the app's handlers and the runner."""

    def __init__(self) -> None:
        self.draining = False


def build_health_app(
    metrics: Metrics | None = None,
    readiness: ReadinessCheck | None = None,
    *,
    extra_routes: Sequence[BaseRoute] = (),
    readiness_timeout_s: float = _DEFAULT_READINESS_TIMEOUT_S,
    failing_loops: FailingLoops | None = None,
) -> Starlette:
    """The ASGI app. ``extra_routes`` lets the daemon mount e.g. the webhook receiver
    on the same port; ``failing_loops`` (the daemon's ``Supervisor.failing``) makes
    /healthz answer 503 while it names any loop. ``app.state.health`` holds the
    draining flag."""
    check = readiness or _always_ready
    state = _State()

    async def healthz(request: Request) -> Response:
        failing = dict(failing_loops()) if failing_loops is not None else {}
        if failing:
            return JSONResponse({"status": "failing", "loops": failing}, status_code=503)
        return JSONResponse({"status": "ok"})

    async def evaluate() -> tuple[bool, dict[str, Any]]:
        if state.draining:
            return False, {"status": "draining"}
        try:
            async with asyncio.timeout(readiness_timeout_s):
                ready, details = await check()
        except TimeoutError:
            ready, details = (
                False,
                {"error": f"readiness check timed out after {readiness_timeout_s} s"},
            )
        except Exception as exc:
            # Surface the failure to the prober instead of a bare 500 traceback.
            log.warning("check_readiness_failed", error_type=type(exc).__name__, exc_info=True)
            ready, details = False, {"error": f"{type(exc).__name__}: {str(exc)[:300]}"}
        return ready, {"status": "ready" if ready else "not_ready", **details}

    async def readyz(request: Request) -> Response:
        ready, body = await evaluate()
        return JSONResponse(body, status_code=200 if ready else 503)

    async def metrics_view(request: Request) -> Response:
        if metrics is None:
            return Response(b"", media_type=CONTENT_TYPE)
        # reelgate_ready is what /readyz answers right now: alerts need no prober.
        ready, _ = await evaluate()
        metrics.ready.set(1 if ready else 0)
        return Response(metrics.render(), media_type=CONTENT_TYPE)

    app = Starlette(
        routes=[
            Route("/healthz", healthz, methods=["GET", "HEAD"]),
            Route("/readyz", readyz, methods=["GET", "HEAD"]),
            Route("/metrics", metrics_view, methods=["GET", "HEAD"]),
            *extra_routes,
        ]
    )
    app.state.health = state
    return app


def all_ready(*checks: ReadinessCheck) -> ReadinessCheck:
    """Ready when every check is; the details of all are merged into one body.

    The first check is the database's: when it fails the rest are not asked (they
    read the database). Otherwise every check runs, so /readyz names every problem
    at once (a provider down and a renamed property, say)."""

    async def check() -> Readiness:
        merged: dict[str, Any] = {}
        all_ok = True
        for index, one in enumerate(checks):
            ready, details = await one()
            merged.update(details)
            all_ok = all_ok and ready
            if not ready and index == 0:
                break
        return all_ok, merged

    return check


def database_readiness(engine: AsyncEngine) -> ReadinessCheck:
    """A readiness check: the database answers and its schema is at the alembic head.

    A replica started with a newer image than the database (migrate Job not run
    yet) reports not ready instead of failing on the first query.
    """
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    from orchestrator.db.migrate import alembic_config

    heads = set(ScriptDirectory.from_config(alembic_config()).get_heads())

    def current(connection: Connection) -> set[str]:
        return set(MigrationContext.configure(connection).get_current_heads())

    async def check() -> Readiness:
        try:
            async with engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
                revisions = await conn.run_sync(current)
        except Exception as exc:
            log.warning("check_database_failed", error_type=type(exc).__name__)
            return False, {"database": "unreachable", "error": type(exc).__name__}
        at_head = revisions == heads
        return at_head, {
            "database": "ok",
            "migrations": "at_head" if at_head else "behind",
            "revision": sorted(revisions),
            "head": sorted(heads),
        }

    return check


class HealthServer(InLoopServer):
    """Serves the health app as a task in the running event loop (``reelgate.serving``).

    ``port=0`` picks a free port; the socket is bound in :meth:`start`, so
    :attr:`port` is known as soon as it returns.
    """

    def __init__(
        self,
        app: Starlette,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        shutdown_timeout_s: float = 5.0,
    ) -> None:
        super().__init__(
            app,
            host=host,
            port=port,
            name="health server",
            graceful_shutdown_s=int(max(1, shutdown_timeout_s)),
        )

    def mark_draining(self) -> None:
        """From now on /readyz answers 503 (shutdown started); /healthz stays 200."""
        state = getattr(self.app.state, "health", None)
        if isinstance(state, _State):
            state.draining = True

    async def start(self, timeout_s: float = 10.0) -> Self:
        await super().start(timeout_s)
        log.info("start_http_server", host=self.host, port=self.port)
        return self
