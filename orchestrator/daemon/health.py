"""The daemon's small HTTP port: ``/healthz``, ``/readyz``, ``/metrics``.

- ``/healthz``: the process is alive and its event loop answers (liveness).
- ``/readyz``: the daemon can do work: the readiness callable (e.g. database
  reachable, migrations at head) says so and the daemon is not draining for a
  shutdown. Load balancers and Kubernetes stop routing to a 503.
- ``/metrics``: Prometheus text exposition of a :class:`~orchestrator.metrics.Metrics`.

:class:`HealthServer` runs the app under uvicorn as a task in the *current* event
loop (no thread), so handlers can await the daemon's own engine and state.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Awaitable, Callable, Iterator, Sequence
from typing import Any

import structlog
import uvicorn
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from orchestrator.metrics import CONTENT_TYPE, Metrics

__all__ = [
    "HealthServer",
    "Readiness",
    "ReadinessCheck",
    "build_health_app",
    "database_readiness",
]

log = structlog.get_logger(__name__)

# (ready, details): details are served as the JSON body of /readyz either way.
Readiness = tuple[bool, dict[str, Any]]
ReadinessCheck = Callable[[], Awaitable[Readiness]]

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
) -> Starlette:
    """The ASGI app. ``extra_routes`` lets the daemon mount e.g. the webhook receiver
    on the same port. ``app.state.health`` holds the draining flag."""
    check = readiness or _always_ready
    state = _State()

    async def healthz(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def readyz(request: Request) -> Response:
        if state.draining:
            return JSONResponse({"status": "draining"}, status_code=503)
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
        body = {"status": "ready" if ready else "not_ready", **details}
        return JSONResponse(body, status_code=200 if ready else 503)

    async def metrics_view(request: Request) -> Response:
        payload = metrics.render() if metrics is not None else b""
        return Response(payload, media_type=CONTENT_TYPE)

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


class _InLoopServer(uvicorn.Server):
    """uvicorn without its signal handling: the daemon owns SIGTERM/SIGINT and
    stops this server as one step of its own graceful shutdown."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


class HealthServer:
    """Runs an ASGI app under uvicorn as a task in the running event loop.

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
        self.app = app
        self.host = host
        self._requested_port = port
        self._shutdown_timeout_s = shutdown_timeout_s
        self._socket: socket.socket | None = None
        self._server: _InLoopServer | None = None
        self._task: asyncio.Task[None] | None = None

    @property
    def port(self) -> int:
        """The bound port (the real one when constructed with ``port=0``)."""
        if self._socket is None:
            raise RuntimeError("health server is not started")
        return int(self._socket.getsockname()[1])

    @property
    def base_url(self) -> str:
        host = self.host
        if host in ("0.0.0.0", ""):
            host = "127.0.0.1"
        elif host == "::":
            host = "::1"
        shown = f"[{host}]" if ":" in host else host
        return f"http://{shown}:{self.port}"

    def mark_draining(self) -> None:
        """From now on /readyz answers 503 (shutdown started); /healthz stays 200."""
        state = getattr(self.app.state, "health", None)
        if isinstance(state, _State):
            state.draining = True

    async def start(self, timeout_s: float = 10.0) -> None:
        if self._task is not None:
            raise RuntimeError("health server already started")
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((self.host, self._requested_port))
        except OSError:
            sock.close()
            raise
        self._socket = sock
        config = uvicorn.Config(
            self.app,
            # None: leave logging to the daemon's own (JSON) configuration.
            log_config=None,
            log_level="warning",
            access_log=False,
            lifespan="off",
            timeout_graceful_shutdown=int(max(1, self._shutdown_timeout_s)),
        )
        server = _InLoopServer(config)
        self._server = server
        self._task = asyncio.create_task(server.serve(sockets=[sock]), name="reelgate-health")
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        while not server.started:
            if self._task.done() or loop.time() > deadline:
                error = self._task.exception() if self._task.done() else None
                await self.stop()
                raise RuntimeError("health server failed to start") from error
            await asyncio.sleep(0.01)
        log.info("start_http_server", host=self.host, port=self.port)

    async def stop(self) -> None:
        server, task = self._server, self._task
        self._server = None
        self._task = None
        if server is not None:
            server.should_exit = True
        if task is not None:
            try:
                await asyncio.wait_for(task, timeout=self._shutdown_timeout_s + 2)
            except TimeoutError:
                if server is not None:
                    server.force_exit = True
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            except Exception:
                log.warning("stop_http_server_failed", exc_info=True)
        if self._socket is not None:
            self._socket.close()
            self._socket = None

    async def __aenter__(self) -> HealthServer:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()
