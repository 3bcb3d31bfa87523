"""Run the local Notion API: in-process for tests, or blocking from the CLI."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType

import structlog
import uvicorn

from .admin import Admin
from .faults import Knobs, RequestLog
from .persistence import JsonPersistence
from .routes import build_app
from .state import LocalNotionState

__all__ = ["LocalNotionServer", "root_page_id", "serve"]

log = structlog.get_logger(__name__)


class LocalNotionServer:
    """A real HTTP server on loopback, running uvicorn in a background thread.

    with LocalNotionServer() as server:
        client = AsyncClient(auth="t", base_url=server.base_url)
    """

    def __init__(
        self,
        state: LocalNotionState | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        token: str | Sequence[str] | None = None,
        state_file: Path | None = None,
        knobs: Knobs | None = None,
    ) -> None:
        self.state = state or LocalNotionState()
        self.knobs = knobs or Knobs()
        self.request_log = RequestLog()
        self.admin = Admin(self.state)
        self.host = host
        self.port = port
        self.token = token
        self.persistence = JsonPersistence(self.state, state_file) if state_file else None
        if self.persistence is not None:
            self.persistence.load()
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def root_page_id(self) -> str:
        return self.state.root_page_id

    def _config(self) -> uvicorn.Config:
        app = build_app(self.state, self.knobs, self.request_log, self.token)
        return uvicorn.Config(
            app,
            host=self.host,
            port=self.port,
            log_config=None,
            access_log=False,
            log_level="warning",
            lifespan="off",
            ws="none",
            timeout_graceful_shutdown=1,
        )

    def start(self) -> LocalNotionServer:
        if self._thread is not None:
            return self
        # uvicorn binds the port itself (port 0 = a free one) and we read it back:
        # handing it a pre-bound socket made every loopback request ~45 ms slower.
        self._server = uvicorn.Server(self._config())
        self._thread = threading.Thread(target=self._server.run, name="local-notion", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("local Notion server failed to start")
            time.sleep(0.005)
        self.port = self._server.servers[0].sockets[0].getsockname()[1]
        self.state.public_base_url = self.base_url
        if self.persistence is not None:
            self.persistence.start()
        log.info("local_notion_started", base_url=self.base_url, root_page_id=self.root_page_id)
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
        if self.persistence is not None:
            self.persistence.close()
        self._server = None
        self._thread = None

    def __enter__(self) -> LocalNotionServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def root_page_id(state_file: Path | None = None) -> str:
    """The workspace root page id a server with this state file would print."""
    state = LocalNotionState()
    if state_file is not None:
        JsonPersistence(state, state_file).load()
    return state.root_page_id


def serve(
    host: str = "127.0.0.1",
    port: int = 8765,
    state_file: Path | None = None,
    token: str | Sequence[str] | None = None,
    knobs: Knobs | None = None,
) -> None:
    """Serve until interrupted (Ctrl-C / SIGTERM). Prints the root page id first.

    `token`: one or several accepted bearer tokens (others get 401); `knobs`: e.g. the
    per-token rate limit (`Knobs(rate=3, burst=10)`).
    """
    server = LocalNotionServer(
        host=host, port=port, token=token, state_file=state_file, knobs=knobs
    )
    server.state.public_base_url = server.base_url
    if server.persistence is not None:
        server.persistence.start()
    print(f"local Notion API on {server.base_url}", flush=True)
    print(f"root page id: {server.root_page_id}", flush=True)
    if token is not None:
        print(
            "requests must carry: Authorization: Bearer <one of the tokens you chose>", flush=True
        )
    try:
        uvicorn.Server(server._config()).run()
    finally:
        if server.persistence is not None:
            server.persistence.close()
