"""Media in a local folder, served over HTTP by ``storage.file_server`` for the demo."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import tempfile
from pathlib import Path
from urllib.parse import quote

import structlog

from storage.base import ObjectURL, StoredObject
from storage.errors import StoragePermanentError
from storage.hashing import CHUNK_BYTES
from storage.keys import validate_key

__all__ = ["LocalStorage"]

log = structlog.get_logger(__name__)


class LocalStorage:
    """Objects are files under ``root``; URLs are ``{base_url}/{key}``.

    ``base_url`` may be set after construction (the daemon learns it once its file
    server is listening). Without one, URLs are ``file://`` URIs: fine for tests and
    ``reelgate status``, useless to Notion.
    """

    name = "local"

    def __init__(self, root: Path, base_url: str = "") -> None:
        self.root = root.resolve()
        self.base_url = base_url

    @property
    def base_url(self) -> str:
        return self._base_url

    @base_url.setter
    def base_url(self, value: str) -> None:
        self._base_url = value.rstrip("/")

    def path_for(self, key: str) -> Path:
        """The file behind ``key``; refuses anything that would leave ``root``."""
        validate_key(key)
        path = (self.root / key).resolve()
        # validate_key already excludes "..", but a symlink inside root could still
        # point outside: resolve() follows it, and this check catches it.
        if not path.is_relative_to(self.root):
            raise StoragePermanentError(f"storage key escapes the media folder: {key!r}")
        return path

    async def put(self, key: str, path: Path, content_type: str) -> StoredObject:
        dest = self.path_for(key)
        try:
            size, sha256 = await asyncio.to_thread(_copy_atomically, path, dest)
        except OSError as exc:
            raise StoragePermanentError(f"cannot store {key!r} locally: {exc}") from exc
        log.debug("object_stored", backend=self.name, key=key, bytes=size, sha256=sha256)
        return StoredObject(
            key=key,
            url=self._url(key, dest),
            bytes=size,
            sha256=sha256,
            content_type=content_type,
        )

    async def url_for(self, key: str) -> str:
        return self._url(key, self.path_for(key))

    async def url_for_with_expiry(self, key: str) -> ObjectURL:
        return ObjectURL(url=await self.url_for(key), expires_at=None)

    async def delete(self, key: str) -> None:
        path = self.path_for(key)
        with contextlib.suppress(FileNotFoundError):
            await asyncio.to_thread(path.unlink)
        log.info("object_deleted", backend=self.name, key=key)

    async def exists(self, key: str) -> bool:
        return await asyncio.to_thread(self.path_for(key).is_file)

    def _url(self, key: str, path: Path) -> str:
        if self._base_url:
            return f"{self._base_url}/{quote(key, safe='/')}"
        return path.as_uri()


def _copy_atomically(src: Path, dest: Path) -> tuple[int, str]:
    """Copy ``src`` to ``dest`` via a temp file in the same folder and a rename.

    Readers (the file server, a retrying worker) see either no file or the whole
    file, never a half-written one. os.replace is atomic within one filesystem,
    which the same-folder temp file guarantees. Returns ``(size, sha256)`` of the
    bytes actually written.
    """
    dest.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    size = 0
    fd, tmp_name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".part", dir=dest.parent)
    tmp = Path(tmp_name)
    try:
        with src.open("rb") as reader, os.fdopen(fd, "wb") as writer:
            while chunk := reader.read(CHUNK_BYTES):
                writer.write(chunk)
                digest.update(chunk)
                size += len(chunk)
            writer.flush()
            os.fsync(writer.fileno())
        os.chmod(tmp, 0o644)  # mkstemp makes 0600; the file server may run as another user
        os.replace(tmp, dest)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return size, digest.hexdigest()
