"""The Starlette app: HTTP <-> service, plus auth, rate limit, faults and logging."""

from __future__ import annotations

import asyncio
import inspect
import json
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import structlog
from starlette.applications import Starlette
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from . import service
from .apierror import ApiError, validation_error
from .faults import ERROR_CODES, Knobs, LoggedRequest, RequestLog
from .state import LocalNotionState

__all__ = ["Context", "build_app"]

log = structlog.get_logger(__name__)
JSON = dict[str, Any]
ALL_METHODS = ["GET", "POST", "PATCH", "PUT", "DELETE"]


@dataclass
class Context:
    request: Request
    state: LocalNotionState
    actor: str
    body: JSON

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
    def __init__(
        self,
        state: LocalNotionState,
        knobs: Knobs,
        request_log: RequestLog,
        token: str | None,
    ) -> None:
        self.state = state
        self.knobs = knobs
        self.request_log = request_log
        self.token = token

    def _actor(self, request: Request, token: str) -> str:
        ref = request.headers.get("x-local-user")
        if ref:
            uid = self.state.resolve_user(ref)
            if uid is None:
                raise validation_error(f"X-Local-User {ref!r} is not a user of this workspace.")
            return uid
        return self.state.token_users.get(token, self.state.bot_user_id)

    async def _answer(self, request: Request, handler: Handler, *, raw_body: bool) -> Response:
        method, path = request.method, request.url.path
        request_id = str(uuid.uuid4())
        actor: str | None = None
        headers: dict[str, str] = {}
        try:
            auth = request.headers.get("authorization", "")
            token = auth[len("Bearer ") :] if auth.startswith("Bearer ") else ""
            if not token or (self.token is not None and token != self.token):
                raise ApiError(401, "unauthorized", "API token is invalid.")
            if "notion-version" not in request.headers:
                raise ApiError(
                    400,
                    "missing_version",
                    "Notion-Version header failed validation: Notion-Version header should "
                    "be defined, instead was `undefined`.",
                )
            retry_after = self.knobs.check_rate_limit()
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
            actor = self._actor(request, token)
            body: JSON = {}
            if method in ("POST", "PATCH") and not raw_body:
                body = await _json_body(request)
            result = handler(Context(request, self.state, actor, body))
            payload = await result if inspect.isawaitable(result) else result
            status = 200
            if payload.get("object") == "list":
                # Notion's list responses carry the request id too.
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
            )
        )
        return JSONResponse(payload, status_code=status, headers=headers)

    def route(
        self, path: str, handler: Handler, methods: list[str], *, raw_body: bool = False
    ) -> Route:
        async def endpoint(request: Request) -> Response:
            request.scope["local_api_t0"] = time.perf_counter()
            return await self._answer(request, handler, raw_body=raw_body)

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


# -- handlers ---------------------------------------------------------------------


async def _send_upload(ctx: Context) -> JSON:
    content_type = ctx.request.headers.get("content-type", "")
    if not content_type.startswith("multipart/form-data"):
        raise validation_error(
            "Send a file upload with Content-Type multipart/form-data and the contents under "
            "the `file` key."
        )
    async with ctx.request.form(max_part_size=1024 * 1024) as form:
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise validation_error(
                "body failed validation: body.file should be defined, instead was `undefined`."
            )
        data = await upload.read()
        part = form.get("part_number")
        return service.send_upload(
            ctx.state,
            ctx.param("id"),
            data,
            upload.filename,
            upload.content_type,
            part if isinstance(part, str) else None,
        )


def _serve_file(state: LocalNotionState) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        upload_id = str(request.path_params["id"])
        with state.lock:
            upload = state.file_uploads.get(upload_id)
            data = state.file_data.get(upload_id)
        if upload is None or data is None:
            return Response("not found", status_code=404)
        media = upload.get("content_type") or "application/octet-stream"
        headers = {"Accept-Ranges": "bytes"}
        # Browsers seek in videos with Range requests; answer them so the demo plays.
        rng = request.headers.get("range", "")
        if rng.startswith("bytes="):
            first, _, last = rng[len("bytes=") :].partition("-")
            try:
                start = int(first) if first else max(0, len(data) - int(last))
                end = int(last) if first and last else len(data) - 1
            except ValueError:
                start, end = 0, len(data) - 1
            end = min(end, len(data) - 1)
            if start > end:
                return Response(status_code=416, headers={"Content-Range": f"bytes */{len(data)}"})
            headers["Content-Range"] = f"bytes {start}-{end}/{len(data)}"
            return Response(data[start : end + 1], 206, headers=headers, media_type=media)
        return Response(data, headers=headers, media_type=media)

    return endpoint


def _page_size(ctx: Context) -> str | None:
    return ctx.query("page_size")


def build_app(
    state: LocalNotionState, knobs: Knobs, request_log: RequestLog, token: str | None = None
) -> Starlette:
    api = Api(state, knobs, request_log, token)
    s = service

    def unknown(ctx: Context) -> JSON:
        raise ApiError(400, "invalid_request_url", "Invalid request URL.")

    routes = [
        api.route("/v1/users/me", lambda c: s.get_user(c.state, c.state.bot_user_id), ["GET"]),
        api.route(
            "/v1/users",
            lambda c: s.list_users(c.state, c.query("start_cursor"), _page_size(c)),
            ["GET"],
        ),
        api.route("/v1/users/{id}", lambda c: s.get_user(c.state, c.param("id")), ["GET"]),
        api.route("/v1/databases", lambda c: s.create_database(c.state, c.body, c.actor), ["POST"]),
        api.route("/v1/databases/{id}", lambda c: s.get_database(c.state, c.param("id")), ["GET"]),
        api.route(
            "/v1/databases/{id}",
            lambda c: s.update_database(c.state, c.param("id"), c.body, c.actor),
            ["PATCH"],
        ),
        api.route(
            "/v1/data_sources/{id}", lambda c: s.get_data_source(c.state, c.param("id")), ["GET"]
        ),
        api.route(
            "/v1/data_sources/{id}",
            lambda c: s.update_data_source(c.state, c.param("id"), c.body, c.actor),
            ["PATCH"],
        ),
        api.route(
            "/v1/data_sources/{id}/query",
            lambda c: s.query_data_source(
                c.state, c.param("id"), c.body, c.query_list("filter_properties")
            ),
            ["POST"],
        ),
        api.route("/v1/pages", lambda c: s.create_page(c.state, c.body, c.actor), ["POST"]),
        api.route(
            "/v1/pages/{id}",
            lambda c: s.get_page(c.state, c.param("id"), c.query_list("filter_properties")),
            ["GET"],
        ),
        api.route(
            "/v1/pages/{id}",
            lambda c: s.update_page(c.state, c.param("id"), c.body, c.actor),
            ["PATCH"],
        ),
        api.route(
            "/v1/pages/{id}/properties/{prop}",
            lambda c: s.get_property_item(
                c.state, c.param("id"), c.param("prop"), c.query("start_cursor"), _page_size(c)
            ),
            ["GET"],
        ),
        api.route(
            "/v1/blocks/{id}/children",
            lambda c: s.list_children(
                c.state, c.param("id"), c.query("start_cursor"), _page_size(c)
            ),
            ["GET"],
        ),
        api.route(
            "/v1/blocks/{id}/children",
            lambda c: s.append_children(c.state, c.param("id"), c.body, c.actor),
            ["PATCH"],
        ),
        api.route("/v1/blocks/{id}", lambda c: s.get_block(c.state, c.param("id")), ["GET"]),
        api.route(
            "/v1/blocks/{id}",
            lambda c: s.update_block(c.state, c.param("id"), c.body, c.actor),
            ["PATCH"],
        ),
        api.route(
            "/v1/blocks/{id}", lambda c: s.delete_block(c.state, c.param("id"), c.actor), ["DELETE"]
        ),
        api.route("/v1/comments", lambda c: s.create_comment(c.state, c.body, c.actor), ["POST"]),
        api.route(
            "/v1/comments",
            lambda c: s.list_comments(
                c.state, c.query("block_id"), c.query("start_cursor"), _page_size(c)
            ),
            ["GET"],
        ),
        api.route(
            "/v1/file_uploads", lambda c: s.create_file_upload(c.state, c.body, c.actor), ["POST"]
        ),
        api.route(
            "/v1/file_uploads",
            lambda c: s.list_file_uploads(
                c.state, c.query("status"), c.query("start_cursor"), _page_size(c)
            ),
            ["GET"],
        ),
        api.route(
            "/v1/file_uploads/{id}", lambda c: s.get_file_upload(c.state, c.param("id")), ["GET"]
        ),
        api.route("/v1/file_uploads/{id}/send", _send_upload, ["POST"], raw_body=True),
        api.route(
            "/v1/file_uploads/{id}/complete",
            lambda c: s.complete_upload(c.state, c.param("id")),
            ["POST"],
        ),
        api.route("/v1/search", lambda c: s.search(c.state, c.body), ["POST"]),
        Route("/files/{id}/{name:path}", _serve_file(state), methods=["GET", "HEAD"]),
        Route("/files/{id}", _serve_file(state), methods=["GET", "HEAD"]),
        api.route("/{rest:path}", unknown, ALL_METHODS, raw_body=True),
    ]
    return Starlette(routes=routes)
