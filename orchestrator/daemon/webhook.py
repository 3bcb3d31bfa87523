"""Optional Notion webhook receiver: a page changed -> poll that page now.

Notion signs every event with ``X-Notion-Signature: sha256=<hex>``, the HMAC-SHA256
of the raw request body keyed with the subscription's verification token. Before
that, when the admin creates the subscription, Notion POSTs one unsigned
``{"verification_token": "..."}`` to the endpoint; the admin pastes that token
back into Notion to activate the subscription and sets it as
``REELGATE_NOTION_WEBHOOK_VERIFICATION_TOKEN`` on every replica.

The token is written to a file (mode 0600) and handed to an optional callback,
never logged: logs travel to places secrets must not. Only a short fingerprint is
logged so the admin can tell which token arrived.

Webhooks are a latency shortcut, not the source of truth: events can be late,
duplicated, out of order or missed, and the regular poller reconciles them all.
So the receiver answers fast, triggers an immediate poll of the page, and ignores
everything it does not need.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import os
from collections import deque
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, Final

import structlog
from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict
from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

__all__ = [
    "DEFAULT_WEBHOOK_PATH",
    "SIGNATURE_HEADER",
    "NotionWebhookReceiver",
    "PageEventCallback",
    "TokenCallback",
    "WebhookSettings",
    "sign_body",
    "verify_signature",
]

log = structlog.get_logger(__name__)

SIGNATURE_HEADER: Final = "X-Notion-Signature"
DEFAULT_WEBHOOK_PATH: Final = "/notion/webhook"
# Notion events carry ids, not content: a few KB. Anything much larger is not Notion.
_MAX_BODY_BYTES: Final = 256 * 1024
_SEEN_EVENT_IDS: Final = 2048

PageEventCallback = Callable[[str], Awaitable[None]]
TokenCallback = Callable[[str], Awaitable[None]]


class WebhookSettings(BaseSettings):
    """``REELGATE_NOTION_WEBHOOK_*``: the webhook receiver is off unless enabled."""

    model_config = SettingsConfigDict(
        env_prefix="REELGATE_NOTION_WEBHOOK_", env_file=".env", extra="ignore"
    )

    enabled: bool = False
    path: str = DEFAULT_WEBHOOK_PATH
    verification_token: SecretStr = SecretStr("")
    # Where a verification token received from Notion is written for the admin.
    token_file: Path = Path("reelgate-data/notion-webhook-verification-token")


def sign_body(token: str, body: bytes) -> str:
    """The ``X-Notion-Signature`` value Notion sends for ``body``."""
    digest = hmac.new(token.encode("utf-8"), body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def verify_signature(token: str, body: bytes, header: str | None) -> bool:
    """Constant-time check of an ``X-Notion-Signature`` header against ``body``."""
    if not token or not header:
        return False
    expected = sign_body(token, body).encode("ascii")
    # Starlette decodes header bytes as latin-1, so this round-trips exactly.
    return hmac.compare_digest(expected, header.strip().encode("latin-1", errors="replace"))


def _fingerprint(token: str) -> str:
    # Enough to tell two tokens apart in logs; reveals nothing usable.
    return hashlib.sha256(token.encode("utf-8")).hexdigest()[:12]


def _write_secret_file(path: Path, value: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.part")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(value + "\n")
    os.replace(tmp, path)


class NotionWebhookReceiver:
    """Starlette routes receiving Notion webhook events.

    ``on_page_event(page_id)`` is called (as a background task, after the 200 is
    on its way) for every verified event whose entity is a page.
    """

    def __init__(
        self,
        verification_token: SecretStr | str | None,
        on_page_event: PageEventCallback,
        *,
        on_verification_token: TokenCallback | None = None,
        token_file: Path | None = None,
        max_body_bytes: int = _MAX_BODY_BYTES,
    ) -> None:
        if isinstance(verification_token, SecretStr):
            verification_token = verification_token.get_secret_value()
        self._token = verification_token or ""
        self._on_page_event = on_page_event
        self._on_verification_token = on_verification_token
        self._token_file = token_file
        self._max_body_bytes = max_body_bytes
        self._tasks: set[asyncio.Task[None]] = set()
        self._seen: deque[str] = deque(maxlen=_SEEN_EVENT_IDS)
        self._seen_set: set[str] = set()
        self.events_received = 0
        self.events_rejected = 0

    @property
    def has_token(self) -> bool:
        return bool(self._token)

    def routes(self, path: str = DEFAULT_WEBHOOK_PATH) -> list[Route]:
        return [Route(path, self._handle, methods=["POST"])]

    def app(self, path: str = DEFAULT_WEBHOOK_PATH) -> Starlette:
        """A stand-alone app, for running the receiver on a port of its own."""
        return Starlette(routes=self.routes(path))

    async def aclose(self) -> None:
        """Wait briefly for callbacks in flight, then cancel the rest (shutdown)."""
        if not self._tasks:
            return
        _, pending = await asyncio.wait(set(self._tasks), timeout=5.0)
        for task in pending:
            task.cancel()
        for task in pending:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _handle(self, request: Request) -> Response:
        body = await self._read_body(request)
        if body is None:
            return JSONResponse({"error": "body too large"}, status_code=413)

        payload = _parse_json(body)
        if isinstance(payload, dict) and "verification_token" in payload and "type" not in payload:
            return await self._handle_verification(payload["verification_token"])

        if not self._token:
            return self._reject("no_verification_token_configured")
        if not verify_signature(self._token, body, request.headers.get(SIGNATURE_HEADER)):
            reason = (
                "missing_signature" if SIGNATURE_HEADER not in request.headers else "bad_signature"
            )
            return self._reject(reason)
        if not isinstance(payload, dict):
            return JSONResponse({"error": "body is not a JSON object"}, status_code=400)

        self.events_received += 1
        event_id = payload.get("id")
        event_type = payload.get("type")
        entity = payload.get("entity")
        if isinstance(event_id, str) and event_id:
            if event_id in self._seen_set:
                # Notion retries deliveries it thinks failed; one poll is enough.
                log.debug("skip_duplicate_webhook_event", event_id=event_id)
                return JSONResponse({"status": "duplicate"})
            self._remember(event_id)
        if (
            isinstance(entity, dict)
            and entity.get("type") == "page"
            and isinstance(entity.get("id"), str)
            and entity["id"]
        ):
            page_id: str = entity["id"]
            log.info("receive_webhook_event", event_type=event_type, page_id=page_id)
            self._spawn(page_id)
            return JSONResponse({"status": "accepted"})
        log.debug("ignore_webhook_event", event_type=event_type)
        return JSONResponse({"status": "ignored"})

    async def _read_body(self, request: Request) -> bytes | None:
        declared = request.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > self._max_body_bytes:
            return None
        chunks: list[bytes] = []
        size = 0
        try:
            async for chunk in request.stream():
                size += len(chunk)
                if size > self._max_body_bytes:
                    return None
                chunks.append(chunk)
        except ClientDisconnect:
            return b""
        return b"".join(chunks)

    async def _handle_verification(self, token: Any) -> Response:
        if not isinstance(token, str) or not token.strip():
            return JSONResponse({"error": "verification_token must be a string"}, status_code=400)
        token = token.strip()
        fingerprint = _fingerprint(token)
        stored_at: str | None = None
        if self._token_file is not None:
            try:
                await asyncio.to_thread(_write_secret_file, self._token_file, token)
                stored_at = str(self._token_file)
            except OSError as exc:
                log.error(
                    "store_webhook_verification_token_failed",
                    path=str(self._token_file),
                    error_type=type(exc).__name__,
                )
        if self._on_verification_token is not None:
            try:
                await self._on_verification_token(token)
            except Exception:
                log.exception("handle_webhook_verification_token_failed")
        adopted = False
        if not self._token:
            # Before the admin configured a token, trust the one Notion just sent so
            # events work right after the subscription is verified in Notion. A
            # configured token is never replaced by an unauthenticated request.
            self._token = token
            adopted = True
        log.warning(
            "receive_webhook_verification_token",
            fingerprint=fingerprint,
            stored_at=stored_at,
            adopted=adopted,
            hint="paste the token from that file into Notion's webhook settings and set "
            "REELGATE_NOTION_WEBHOOK_VERIFICATION_TOKEN on every replica",
        )
        return JSONResponse({"status": "verification_token_received"})

    def _reject(self, reason: str) -> Response:
        self.events_rejected += 1
        log.warning("reject_webhook_event", reason=reason)
        return JSONResponse({"error": "invalid signature"}, status_code=401)

    def _remember(self, event_id: str) -> None:
        if len(self._seen) == self._seen.maxlen:
            self._seen_set.discard(self._seen[0])
        self._seen.append(event_id)
        self._seen_set.add(event_id)

    def _spawn(self, page_id: str) -> None:
        task = asyncio.create_task(self._run_callback(page_id), name=f"webhook-page-{page_id}")
        # Keep a reference: the loop only holds weak ones to tasks.
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run_callback(self, page_id: str) -> None:
        try:
            await self._on_page_event(page_id)
        except Exception:
            log.exception("handle_webhook_page_event_failed", page_id=page_id)


def _parse_json(body: bytes) -> Any:
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None
