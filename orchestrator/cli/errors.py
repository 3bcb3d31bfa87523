"""The CLI's one error boundary: any failure becomes one line saying what failed and
how to fix it, and a non-zero exit.

`orchestrator.cli.main` runs the Typer app inside `run_cli`; whatever a command
raises (our error tree, or a library error that escaped it: database drivers,
notion-client, httpx, botocore, the OS) is turned into ``error: <what>. <fix>`` on
stderr. The traceback is printed only with ``--debug`` or ``REELGATE_DEBUG=1``.

Secrets never reach the terminal: every message passes through `redact`, which
removes the configured secret values (Notion token, R2 keys, Google API key,
webhook token) and the password of any URL in the text.
"""

from __future__ import annotations

import re
import sys
import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, NoReturn

import click
from sqlalchemy.engine import make_url

from notion_sync.errors import NotionError
from orchestrator.errors import ConfigError, ReelgateError
from storage.errors import StorageError

__all__ = [
    "EXIT_ERROR",
    "database_failure",
    "describe",
    "print_debug_traceback",
    "redact",
    "remember",
    "run_cli",
]

EXIT_ERROR = 1

# The longest a message may get: one line on a terminal, give or take.
_MAX_DETAIL = 300


@dataclass
class _Context:
    """What the boundary knows of the settings once the root callback built them."""

    debug: bool = False
    secrets: list[str] = field(default_factory=list)
    database_url: str = ""
    notion_base_url: str = ""


_context = _Context()


def remember(
    *, debug: bool, secrets: Iterable[str], database_url: str, notion_base_url: str
) -> None:
    """Called by the root callback once settings are built."""
    _context.debug = _context.debug or debug
    _context.secrets = [s for s in secrets if s]
    _context.database_url = database_url
    _context.notion_base_url = notion_base_url


_URL_PASSWORD = re.compile(r"(?P<head>[a-zA-Z][a-zA-Z0-9+.-]*://[^/\s:@]*:)[^@\s/]+@")


def redact(text: str, secrets: Iterable[str] | None = None) -> str:
    """`text` without any known secret value or URL password."""
    for secret in sorted(secrets if secrets is not None else _context.secrets, key=len):
        if secret:
            text = text.replace(secret, "***")
    return _URL_PASSWORD.sub(r"\g<head>***@", text)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    line = text.splitlines()[0].strip()
    return line if len(line) <= _MAX_DETAIL else line[: _MAX_DETAIL - 1] + "…"


def _safe_url(url: str) -> str:
    if not url:
        return "(not set)"
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # not a URL SQLAlchemy can parse: the generic redaction
        return redact(url)


def _root_cause(exc: BaseException) -> BaseException:
    """The innermost cause (`from exc` chains and SQLAlchemy's `.orig`)."""
    seen: set[int] = set()
    while id(exc) not in seen:
        seen.add(id(exc))
        inner = getattr(exc, "orig", None) or exc.__cause__
        if not isinstance(inner, BaseException):
            break
        exc = inner
    return exc


def database_failure(url: str, exc: BaseException) -> str:
    """A command could not use the database: why, and what to do (password masked)."""
    remember_url = _context.database_url
    _context.database_url = url
    try:
        return redact(_database(exc))
    finally:
        _context.database_url = remember_url


def _database(exc: BaseException) -> str:
    root = _root_cause(exc)
    cause = f"{type(root).__name__}: {_first_line(root)}"
    where = _safe_url(_context.database_url)
    lowered = cause.lower()
    if "no such table" in lowered or ("relation" in lowered and "does not exist" in lowered):
        return (
            f"the database at {where} has no reelgate schema ({cause}). "
            "Run `reelgate migrate` first."
        )
    return (
        f"cannot use the database at {where}: {cause}. Check REELGATE_DATABASE_URL "
        "(host, port, user, password, database name) and that the server is running "
        "and reachable from here."
    )


def _notion(exc: NotionError) -> str:
    detail = _first_line(exc)
    where = _safe_url(_context.notion_base_url)
    if exc.status == 401:
        return (
            f"Notion refused the token ({detail}). Set REELGATE_NOTION_TOKEN to the "
            "integration's secret (Notion → Settings → Connections → your integration)."
        )
    if exc.status in (403, 404):
        return (
            f"Notion: {detail}. Share the Tasks and Videos databases with the integration "
            "(database ⋯ menu → Connections) and check REELGATE_NOTION_*_DATA_SOURCE_ID."
        )
    if exc.transient and exc.status is None:
        return (
            f"cannot reach Notion at {where}: {detail}. Check the network and "
            "REELGATE_NOTION_BASE_URL."
        )
    if exc.transient:
        return f"Notion is unavailable right now ({detail}). Try again in a minute."
    return f"Notion: {detail}"


def _storage(exc: StorageError) -> str:
    return (
        f"storage: {_first_line(exc)}. Check REELGATE_STORAGE_* (bucket, endpoint, keys) "
        "and that the bucket exists."
    )


def _is_database_error(exc: BaseException) -> bool:
    module = type(exc).__module__
    return module.startswith(("sqlalchemy", "asyncpg", "sqlite3", "aiosqlite", "psycopg"))


def describe(exc: BaseException) -> str:
    """One line: what failed, and how to fix it (secrets removed)."""
    if isinstance(exc, NotionError):
        text = _notion(exc)
    elif isinstance(exc, StorageError):
        text = _storage(exc)
    elif isinstance(exc, ConfigError | ReelgateError):
        text = _first_line(exc)
    elif _is_database_error(exc) or _is_database_error(_root_cause(exc)):
        text = _database(exc)
    elif type(exc).__module__.startswith(("botocore", "boto3")):
        text = f"storage: {_first_line(exc)}. Check REELGATE_STORAGE_* (endpoint, keys, bucket)."
    elif type(exc).__module__.startswith(("httpx", "httpcore", "notion_client")):
        text = f"network: {_first_line(exc)}. Check the URL and that the service is reachable."
    elif isinstance(exc, PermissionError):
        text = f"permission denied: {_first_line(exc)}. Check the file's owner and mode."
    elif isinstance(exc, FileNotFoundError):
        text = (
            f"file not found: {_first_line(exc)}. Check the paths in your settings "
            "(REELGATE_DATABASE_URL, REELGATE_DATA_DIR, REELGATE_CHANNELS_FILE)."
        )
    elif isinstance(exc, ConnectionError | TimeoutError | OSError):
        text = (
            f"{type(exc).__name__}: {_first_line(exc)}. Check the addresses in your "
            "settings and that those services are running."
        )
    else:
        text = (
            f"unexpected {type(exc).__name__}: {_first_line(exc)}. Run again with --debug "
            "(or REELGATE_DEBUG=1) for the traceback, and report it."
        )
    return redact(" ".join(text.split()))


def print_debug_traceback(exc: BaseException | None) -> None:
    """With --debug / REELGATE_DEBUG, the traceback of `exc` on stderr, redacted."""
    if _context.debug and exc is not None:
        sys.stderr.write(redact("".join(traceback.format_exception(exc))))


def _print(message: str) -> None:
    click.secho(f"error: {message}", fg="red", err=True)


def run_cli(app: Callable[..., Any], argv: list[str] | None = None) -> NoReturn:
    """Run the Typer app; map any exception that escapes a command to one line.

    Click's standalone mode still handles usage errors, `typer.Exit` and Ctrl-C
    ("Aborted!"); everything else lands here instead of a traceback. `--debug` is
    accepted anywhere on the line (`reelgate run --debug` as well as
    `reelgate --debug run`).
    """
    args = list(sys.argv[1:] if argv is None else argv)
    if "--debug" in args:
        _context.debug = True
        args = [a for a in args if a != "--debug"]
    try:
        app(args=args)
    except SystemExit:
        raise
    except Exception as exc:
        print_debug_traceback(exc)
        _print(describe(exc))
        raise SystemExit(EXIT_ERROR) from None
    raise SystemExit(0)
