"""A small HTTP server for the local media folder (the demo's stand-in for R2).

Browsers seek in a ``<video>`` by sending ``Range: bytes=...`` requests and expect
``206 Partial Content``; Starlette's ``FileResponse`` implements Range (single and
multiple ranges, ``If-Range``) and ``HEAD``, so this module only decides *which*
file may be served: paths go through the same key validation as ``put``, which
also hides the ``.name.part`` temp files of in-progress copies.
"""

from __future__ import annotations

import mimetypes
from pathlib import Path
from types import TracebackType

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, Response
from starlette.routing import Route

from reelgate.serving import ThreadedServer
from storage.errors import StorageError
from storage.keys import content_type_for
from storage.local import LocalStorage
from storage.r2 import IMMUTABLE_CACHE_CONTROL

__all__ = ["FileServer", "build_app", "start_file_server"]


def build_app(root: Path) -> Starlette:
    """An ASGI app serving the files under ``root`` at ``/{key}`` (GET and HEAD)."""
    storage = LocalStorage(root)

    async def serve(request: Request) -> Response:
        key = request.path_params["key"]
        try:
            path = storage.path_for(key)
        except StorageError:
            return PlainTextResponse("Not Found", status_code=404)
        if not path.is_file():
            return PlainTextResponse("Not Found", status_code=404)
        media_type = content_type_for(key, default="")
        if not media_type:
            media_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        return FileResponse(
            path,
            media_type=media_type,
            headers={
                # Keys are immutable (the attempt number is in the key).
                "cache-control": IMMUTABLE_CACHE_CONTROL,
                # Media is public by design; lets other origins (Notion's web app) fetch it.
                "access-control-allow-origin": "*",
            },
        )

    async def health(request: Request) -> Response:
        return PlainTextResponse("ok")

    return Starlette(
        routes=[
            Route("/_health", health, methods=["GET"]),
            Route("/{key:path}", serve, methods=["GET", "HEAD"]),
        ]
    )


class FileServer:
    """Serves :func:`build_app` from a background thread (``reelgate.serving``).

    ``port=0`` picks a free port; the socket is bound before the thread starts, so
    :attr:`base_url` is known (and connectable) as soon as :meth:`start` returns.
    """

    def __init__(
        self,
        root: Path,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        public_base_url: str = "",
    ) -> None:
        self.root = root
        self.host = host
        self.port = port
        self._public_base_url = public_base_url.rstrip("/")
        self._http: ThreadedServer | None = None

    @property
    def base_url(self) -> str:
        """Where the files are: the configured public URL, else the bound address."""
        if self._public_base_url:
            return self._public_base_url
        if self._http is None:
            raise RuntimeError("file server is not started")
        return self._http.base_url

    def start(self, timeout_s: float = 10.0) -> str:
        if self._http is not None:
            raise RuntimeError("file server already started")
        self.root.mkdir(parents=True, exist_ok=True)
        http = ThreadedServer(
            build_app(self.root), host=self.host, port=self.port, name="reelgate-file-server"
        )
        http.start(timeout_s)
        self._http = http
        return self.base_url

    def stop(self, timeout_s: float = 10.0) -> None:
        if self._http is not None:
            self._http.stop(timeout_s)
        self._http = None

    def __enter__(self) -> FileServer:
        if self._http is None:
            self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def start_file_server(
    root: Path, *, host: str = "127.0.0.1", port: int = 0, public_base_url: str = ""
) -> FileServer:
    """Start serving ``root`` in a background thread; read ``.base_url``, call ``.stop()``."""
    server = FileServer(root, host=host, port=port, public_base_url=public_base_url)
    server.start()
    return server
