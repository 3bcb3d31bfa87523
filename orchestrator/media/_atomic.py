"""Write-then-rename: readers (uploader, HTTP server) never see a half-written file."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

__all__ = ["atomic_target"]


@contextlib.contextmanager
def atomic_target(final: Path, *, mode_from: Path | None = None) -> Iterator[Path]:
    """Yield a temp path next to `final`; on success rename it over `final`.

    The temp file lives in the same directory so `os.replace` is an atomic rename on
    one filesystem. It keeps `final`'s suffix so tools that sniff extensions agree.
    On error the temp file is removed and `final` is left as it was.
    """
    final.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=final.parent, prefix=f".{final.stem}.", suffix=final.suffix)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        if mode_from is not None and mode_from.exists():
            # mkstemp creates 0600; keep the original file's permissions.
            os.chmod(tmp, mode_from.stat().st_mode & 0o7777)
        else:
            # Not derived from os.umask(): reading it means setting it, which races
            # with other threads creating files.
            os.chmod(tmp, 0o644)
        os.replace(tmp, final)
    finally:
        tmp.unlink(missing_ok=True)
