"""Reference images for tests: real image bytes, a loopback HTTP server for links, and
uploads to the local Notion API (a Notion-hosted `file` with an expiring URL)."""

from __future__ import annotations

import io
import threading
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from notion_client import AsyncClient
from PIL import Image as PILImage
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route

from notion_sync.local_api.server import LocalNotionServer
from reelgate.serving import ThreadedServer
from tests.fixtures.pipeline import TOKEN

__all__ = [
    "ImageServer",
    "external",
    "image_bytes",
    "set_references",
    "upload_to_notion",
]


def image_bytes(
    colour: tuple[int, int, int], size: tuple[int, int] = (48, 32), fmt: str = "PNG"
) -> bytes:
    """A solid-colour image with a white bar, so it is not mistaken for a flat card."""
    img = PILImage.new("RGB", size, colour)
    for x in range(size[0] // 4, size[0] // 2):
        for y in range(size[1] // 4, size[1] // 2):
            img.putpixel((x, y), (255, 255, 255))
    buf = io.BytesIO()
    img.save(buf, format=fmt)
    return buf.getvalue()


@dataclass
class _File:
    data: bytes
    content_type: str
    status: int = 200
    chunked: bool = False  # no Content-Length: the size shows only while reading


@dataclass
class ImageServer:
    """Serves registered files at `/{name}` (any query string); counts GETs per path."""

    files: dict[str, _File] = field(default_factory=dict)
    hits: Counter[str] = field(default_factory=Counter)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _http: ThreadedServer | None = None

    def add(
        self,
        name: str,
        data: bytes,
        content_type: str = "image/png",
        status: int = 200,
        *,
        chunked: bool = False,
    ) -> str:
        """Serve `data` (labelled `content_type`, whatever it is) at the returned URL."""
        with self._lock:
            self.files[name] = _File(data, content_type, status, chunked)
        return self.url(name)

    def url(self, name: str) -> str:
        assert self._http is not None
        return f"{self._http.base_url}/{name}"

    async def _serve(self, request: Request) -> Response:
        name = request.path_params["name"]
        with self._lock:
            self.hits[name] += 1
            found = self.files.get(name)
        if found is None:
            return PlainTextResponse("Not Found", status_code=404)
        if found.chunked:
            data = found.data

            async def chunks() -> AsyncIterator[bytes]:
                for start in range(0, len(data), 1 << 16):
                    yield data[start : start + (1 << 16)]

            return StreamingResponse(
                chunks(), status_code=found.status, media_type=found.content_type
            )
        return Response(found.data, status_code=found.status, media_type=found.content_type)

    def __enter__(self) -> ImageServer:
        app = Starlette(routes=[Route("/{name:path}", self._serve, methods=["GET"])])
        self._http = ThreadedServer(app, name="reference-images").start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._http is not None:
            self._http.stop()
        self._http = None


def external(name: str, url: str) -> dict[str, Any]:
    """A files-property item linking to `url` (what pasting a link in Notion makes)."""
    return {"name": name, "type": "external", "external": {"url": url}}


async def upload_to_notion(
    server: LocalNotionServer, data: bytes, name: str, content_type: str = "image/png"
) -> dict[str, Any]:
    """Upload through the File Upload API; the files-property item that attaches it."""
    client = AsyncClient(auth=TOKEN, base_url=server.base_url)
    try:
        created = await client.file_uploads.create(
            mode="single_part", filename=name, content_type=content_type
        )
        await client.file_uploads.send(created["id"], file=(name, data, content_type))
    finally:
        await client.aclose()
    return {"name": name, "type": "file_upload", "file_upload": {"id": created["id"]}}


def set_references(server: LocalNotionServer, page_id: str, items: list[dict[str, Any]]) -> None:
    """What a creator does: put files in the task's References property."""
    server.admin.update_page(page_id, {"References": {"files": items}}, as_user="Cory Creator")
