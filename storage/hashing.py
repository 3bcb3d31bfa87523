"""Streaming sha256 + size of a file, in bounded memory."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Final

__all__ = ["CHUNK_BYTES", "sha256_file"]

CHUNK_BYTES: Final = 1024 * 1024


def sha256_file(path: Path) -> tuple[int, str]:
    """Return ``(size_in_bytes, hex_sha256)`` reading ``path`` 1 MiB at a time.

    Blocking: call it through ``asyncio.to_thread``.
    """
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as fh:
        while chunk := fh.read(CHUNK_BYTES):
            digest.update(chunk)
            size += len(chunk)
    return size, digest.hexdigest()
