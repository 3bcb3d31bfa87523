"""structlog, configured once by the CLI.

Context variables (task, page, clip, attempt, operation) are merged first so every
line carries them; JSON when stdout is not a TTY. A redaction processor replaces
any configured secret value wherever it appears in an event.

With a log file (`REELGATE_LOG_FILE`, `reelgate run` only) every line is also
written there as JSON, rotated by size; `reelgate logs TASK` reads it back
(orchestrator/admin/logs.py). Our lines and libraries' go through stdlib logging,
so one set of handlers serves both.
"""

from __future__ import annotations

import logging
import logging.handlers
import sys
from collections.abc import Iterable, Mapping, MutableMapping
from pathlib import Path
from typing import Any, TextIO, cast

import structlog

__all__ = ["SecretRedactor", "configure_logging"]

_MASK = "***"


class SecretRedactor:
    """Masks every known secret value in keys' values, recursively."""

    def __init__(self, secrets: Iterable[str]):
        # Short values would mask ordinary words; real tokens are long.
        self._secrets = sorted({s for s in secrets if s and len(s) >= 6}, key=len, reverse=True)

    def redact(self, value: Any) -> Any:
        if not self._secrets:
            return value
        if isinstance(value, str):
            for secret in self._secrets:
                if secret in value:
                    value = value.replace(secret, _MASK)
            return value
        if isinstance(value, Mapping):
            return {k: self.redact(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return type(value)(self.redact(v) for v in value)
        if isinstance(value, BaseException):
            return self.redact(repr(value))
        return value

    def __call__(
        self, _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
    ) -> MutableMapping[str, Any]:
        return {k: self.redact(v) for k, v in event_dict.items()}


class _StdStream:
    """sys.stdout or sys.stderr, looked up at each write.

    Test runners and shells swap these objects; holding the one seen at start-up
    would write to a closed stream later.
    """

    def __init__(self, name: str) -> None:
        self._name = name

    def _target(self) -> TextIO:
        stream: TextIO = getattr(sys, self._name)
        return stream

    def write(self, text: str) -> int:
        return self._target().write(text)

    def flush(self) -> None:
        self._target().flush()

    def isatty(self) -> bool:
        return self._target().isatty()


class _OwnHandler:
    """Marks the handlers configure_logging made, so a second call closes them."""


class _StreamHandler(logging.StreamHandler[TextIO], _OwnHandler):
    pass


class _FileHandler(logging.handlers.RotatingFileHandler, _OwnHandler):
    pass


def configure_logging(
    *,
    level: str = "info",
    json: bool | None = None,
    secrets: Iterable[str] = (),
    stream: TextIO | None = None,
    log_file: Path | None = None,
    log_file_max_bytes: int = 50 * 1024 * 1024,
    log_file_backups: int = 5,
) -> None:
    stream = stream or sys.stdout
    if stream is sys.stdout or stream is sys.stderr:
        stream = cast(TextIO, _StdStream("stdout" if stream is sys.stdout else "stderr"))
    as_json = (not stream.isatty()) if json is None else json
    redactor = SecretRedactor(secrets)
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.format_exc_info,
        redactor,
    ]
    json_renderer = structlog.processors.JSONRenderer()
    renderer: Any = (
        json_renderer if as_json else structlog.dev.ConsoleRenderer(colors=stream.isatty())
    )
    numeric = getattr(logging, level.upper(), logging.INFO)

    def formatter(render: Any) -> logging.Formatter:
        return structlog.stdlib.ProcessorFormatter(
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, render],
            foreign_pre_chain=shared,
        )

    handlers: list[logging.Handler] = [_StreamHandler(stream)]
    handlers[0].setFormatter(formatter(renderer))
    if log_file is not None:
        log_file.parent.mkdir(parents=True, exist_ok=True)
        file_handler = _FileHandler(
            log_file,
            maxBytes=log_file_max_bytes,
            backupCount=log_file_backups,
            encoding="utf-8",
        )
        file_handler.setFormatter(formatter(json_renderer))
        handlers.append(file_handler)
    structlog.configure(
        # The last processor hands the event to stdlib logging; each handler renders
        # it (console or JSON on the stream, JSON in the file).
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        logger_factory=structlog.stdlib.LoggerFactory(),
        cache_logger_on_first_use=False,
    )
    root = logging.getLogger()
    for old in root.handlers:
        if isinstance(old, _OwnHandler):
            old.close()
    root.handlers[:] = handlers
    root.setLevel(numeric)
    for noisy in ("httpx", "httpcore", "botocore", "urllib3", "apscheduler", "uvicorn.access"):
        logging.getLogger(noisy).setLevel(max(numeric, logging.WARNING))
    # "Execution of job ... skipped: maximum number of running instances reached"
    # and "... missed by": a poll that outlasts its interval, every interval. Jobs
    # are coalesced and every failed run is logged by the supervisor (fail_loop_run).
    logging.getLogger("apscheduler.scheduler").setLevel(max(numeric, logging.ERROR))
    # Job functions are supervised (they never raise): all that reaches APScheduler's
    # executor is a running job cancelled at shutdown, which it logs as an ERROR
    # with a traceback on every stop.
    logging.getLogger("apscheduler.executors").setLevel(logging.CRITICAL)
