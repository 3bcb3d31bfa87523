"""Keep a local workspace across restarts: one JSON file plus a folder of file bytes.

Writes are debounced on a background thread so a burst of requests costs one save;
`flush()` (called on stop) makes the file current.
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

import structlog

from .state import LocalNotionState

__all__ = ["JsonPersistence"]

log = structlog.get_logger(__name__)


class JsonPersistence:
    def __init__(self, state: LocalNotionState, path: Path, *, delay: float = 0.2) -> None:
        self.state = state
        self.path = path
        self.files_dir = path.with_name(path.name + ".files")
        self.delay = delay
        self._dirty = threading.Event()
        self._closed = threading.Event()
        self._io_lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def load(self) -> bool:
        """Load the file into the state if it exists; -> whether it did."""
        if not self.path.exists():
            return False
        data = json.loads(self.path.read_text(encoding="utf-8"))
        self.state.restore(data)
        with self.state.lock:
            for upload_id in self.state.file_uploads:
                blob = self.files_dir / upload_id
                if blob.exists():
                    self.state.file_data[upload_id] = blob.read_bytes()
        log.info("local_notion_state_loaded", path=str(self.path))
        return True

    def start(self) -> None:
        self.state.on_write = lambda _state: self._dirty.set()
        if not self.path.exists():
            # Save the fresh workspace at once so its root page id survives a restart.
            self.flush()
        self._thread = threading.Thread(target=self._run, name="local-notion-save", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._closed.is_set():
            if self._dirty.wait(timeout=0.5):
                self._closed.wait(self.delay)
                self.flush()

    def flush(self) -> None:
        with self._io_lock:
            self._dirty.clear()
            with self.state.lock:
                text = json.dumps(self.state.snapshot(), separators=(",", ":"))
                blobs = dict(self.state.file_data)
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_name(self.path.name + ".tmp")
            tmp.write_text(text, encoding="utf-8")
            os.replace(tmp, self.path)
            if blobs:
                self.files_dir.mkdir(parents=True, exist_ok=True)
                for upload_id, data in blobs.items():
                    blob = self.files_dir / upload_id
                    if not blob.exists() or blob.stat().st_size != len(data):
                        blob.write_bytes(data)

    def close(self) -> None:
        self._closed.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self.state.on_write = None
        self.flush()
