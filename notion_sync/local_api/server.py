"""Run the local Notion API: in-process for tests, or blocking from the CLI."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from types import TracebackType

import structlog
from starlette.applications import Starlette

from reelgate.serving import ThreadedServer, serve_forever

from .admin import Admin
from .faults import Knobs, RequestLog
from .persistence import JsonPersistence
from .routes import build_app
from .state import LocalNotionState

__all__ = ["LocalNotionServer", "root_page_id", "serve"]

log = structlog.get_logger(__name__)


class LocalNotionServer:
    """A real HTTP server on loopback, in a background thread (``reelgate.serving``).

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
        self._http: ThreadedServer | None = None

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def root_page_id(self) -> str:
        return self.state.root_page_id

    def _app(self) -> Starlette:
        return build_app(self.state, self.knobs, self.request_log, self.token)

    def start(self) -> LocalNotionServer:
        if self._http is not None:
            return self
        self._http = ThreadedServer(
            self._app(), host=self.host, port=self.port, name="local-notion"
        ).start()
        self.port = self._http.port
        self.state.public_base_url = self.base_url
        if self.persistence is not None:
            self.persistence.start()
        log.info("local_notion_started", base_url=self.base_url, root_page_id=self.root_page_id)
        return self

    def stop(self) -> None:
        if self._http is not None:
            self._http.stop()
        if self.persistence is not None:
            self.persistence.close()
        self._http = None

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
        serve_forever(server._app(), host=host, port=port)
    finally:
        if server.persistence is not None:
            server.persistence.close()
