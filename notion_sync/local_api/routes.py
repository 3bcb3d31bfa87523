"""The Starlette app: HTTP plumbing around the handlers in `endpoints.py`.

Every request: bearer token (401 `unauthorized` for a missing one, or one not in
`knobs.allow_tokens`), Notion-Version header, the token's own rate-limit bucket (429
with Retry-After), injected latency and faults, then the handler; every answer carries
a top-level `request_id` when it is an object, as Notion's do, and lands in the request
log with the token's fingerprint.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import time
import uuid
from collections.abc import Awaitable, Callable, Coroutine, Iterable
from dataclasses import dataclass, field
from typing import Any

import structlog
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .apierror import ApiError, validation_error
from .faults import ERROR_CODES, Knobs, LoggedRequest, RequestLog, token_fingerprint
from .state import LocalNotionState

__all__ = ["Api", "Context", "Handler", "build_app"]

log = structlog.get_logger(__name__)
JSON = dict[str, Any]
ALL_METHODS = ["GET", "POST", "PATCH", "PUT", "DELETE"]


@dataclass
class Context:
    request: Request
    state: LocalNotionState
    actor: str
    body: JSON
    # Runs a coroutine after the response (e.g. an external_url import).
    spawn: Callable[[Coroutine[Any, Any, None]], None] = field(default=lambda coro: None)

    def param(self, name: str) -> str:
        return str(self.request.path_params[name])

    def query(self, name: str) -> str | None:
        return self.request.query_params.get(name)

    def query_list(self, name: str) -> list[str]:
        return self.request.query_params.getlist(name)


Handler = Callable[[Context], Awaitable[JSON] | JSON]


def _error_body(status: int, code: str, message: str, request_id: str) -> JSON:
    return {
        "object": "error",
        "status": status,
        "code": code,
        "message": message,
        "request_id": request_id,
    }


class Api:
    def __init__(self, state: LocalNotionState, knobs: Knobs, request_log: RequestLog) -> None:
        self.state = state
        self.knobs = knobs
        self.request_log = request_log
        self._background: set[asyncio.Task[None]] = set()

    def spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._background.add(task)  # keep a reference until it finishes
        task.add_done_callback(self._background.discard)

    def _actor(self, request: Request, token: str) -> str:
        ref = request.headers.get("x-local-user")
        if ref:
            uid = self.state.resolve_user(ref)
            if uid is None:
                raise validation_error(f"X-Local-User {ref!r} is not a user of this workspace.")
            return uid
        return self.state.token_users.get(token, self.state.bot_user_id)

    async def _answer(
        self, request: Request, handler: Handler, *, raw_body: bool, auth: bool
    ) -> Response:
        method, path = request.method, request.url.path
        request_id = str(uuid.uuid4())
        actor: str | None = None
        headers: dict[str, str] = {}
        authorization = request.headers.get("authorization", "")
        token = authorization[len("Bearer ") :] if authorization.startswith("Bearer ") else ""
        try:
            if auth and not self.knobs.token_allowed(token):
                raise ApiError(401, "unauthorized", "API token is invalid.")
            if "notion-version" not in request.headers:
                raise ApiError(
                    400,
                    "missing_version",
                    "Notion-Version header failed validation: Notion-Version header should "
                    "be defined, instead was `undefined`.",
                )
            retry_after = self.knobs.check_rate_limit(token) if auth else None
            if retry_after is not None:
                raise ApiError(
                    429,
                    "rate_limited",
                    "You have been rate limited. Please try again in a few minutes.",
                    headers={"Retry-After": str(retry_after)},
                )
            delay = self.knobs.latency_for(method, path)
            if delay > 0:
                await asyncio.sleep(delay)
            injection = self.knobs.take_injection(method, path)
            if injection is not None:
                extra = {}
                if injection.retry_after is not None:
                    extra["Retry-After"] = str(injection.retry_after)
                code = injection.code or ERROR_CODES.get(injection.status, "internal_server_error")
                raise ApiError(
                    injection.status,
                    code,
                    injection.message or f"Injected {code} from the local Notion server.",
                    headers=extra,
                )
            actor = self._actor(request, token) if auth else None
            body: JSON = {}
            if method in ("POST", "PATCH") and not raw_body:
                body = await _json_body(request)
            context = Context(request, self.state, actor or "", body, self.spawn)
            result = handler(context)
            payload = await result if inspect.isawaitable(result) else result
            status = 200
            if "object" in payload:
                # Notion's objects and lists carry the request id at the top level
                # (recorded 2025-09-03 responses); bare answers such as templates do not.
                payload["request_id"] = request_id
        except ApiError as exc:
            status = exc.status
            payload = _error_body(exc.status, exc.code, exc.message, request_id)
            headers.update(exc.headers)
        except Exception as exc:  # a bug in the local server must still answer like Notion
            log.exception("local_api_failed", method=method, path=path)
            status = 500
            payload = _error_body(
                500, "internal_server_error", f"Local server error: {exc}", request_id
            )
        started = time.time()
        self.request_log.add(
            LoggedRequest(
                method=method,
                path=path,
                status=status,
                time=started,
                duration=time.perf_counter() - request.scope["local_api_t0"],
                user_id=actor,
                request_id=request_id,
                token=token_fingerprint(token) if token else None,
            )
        )
        return JSONResponse(payload, status_code=status, headers=headers)

    def route(
        self,
        path: str,
        handler: Handler,
        methods: list[str],
        *,
        raw_body: bool = False,
        auth: bool = True,
    ) -> Route:
        async def endpoint(request: Request) -> Response:
            request.scope["local_api_t0"] = time.perf_counter()
            return await self._answer(request, handler, raw_body=raw_body, auth=auth)

        return Route(path, endpoint, methods=methods)


async def _json_body(request: Request) -> JSON:
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        parsed = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise ApiError(400, "invalid_json", "Error parsing JSON body.") from None
    if not isinstance(parsed, dict):
        raise ApiError(400, "invalid_json", "Error parsing JSON body: expected an object.")
    return parsed


def build_app(
    state: LocalNotionState,
    knobs: Knobs,
    request_log: RequestLog,
    token: str | Iterable[str] | None = None,
) -> Starlette:
    """The app; `token` (one or several) makes every other token answer 401."""
    from .endpoints import routes

    if token is not None:
        knobs.allow_tokens([token] if isinstance(token, str) else token)
    return Starlette(routes=routes(Api(state, knobs, request_log)))
