"""The route table: every endpoint notion-client 3.1 calls, mapped to its operation.

Paths are those of `notion_client/api_endpoints.py` (notion-client 3.1.0) under `/v1`.
Anything else answers Notion's `400 invalid_request_url`. OAuth endpoints answer a clear
`400 invalid_request`: the local server has no OAuth apps; use a bearer token.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from . import comments, markdown, service, templates, uploads, view_queries, views, workspace
from .apierror import ApiError, not_found, validation_error
from .routes import Api, Context
from .state import LocalNotionState

__all__ = ["ALL_METHODS", "OAUTH_MESSAGE", "routes"]

JSON = dict[str, Any]
ALL_METHODS = ["GET", "POST", "PATCH", "PUT", "DELETE"]
OAUTH_MESSAGE = (
    "OAuth is not served by the local Notion API: it has no public integrations to "
    "authorize. Call it with a bearer token instead (any token, or one given with "
    "`reelgate local-notion --token`)."
)


def _page_size(ctx: Context) -> str | None:
    return ctx.query("page_size")


def _unknown(ctx: Context) -> JSON:
    raise ApiError(400, "invalid_request_url", "Invalid request URL.")


def _oauth(ctx: Context) -> JSON:
    raise ApiError(400, "invalid_request", OAUTH_MESSAGE)


def _async_task(ctx: Context) -> JSON:
    # Nothing runs as an async task locally (templates and imports finish in place).
    raise not_found(ctx.param("id"), "async_task")


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
        return uploads.send_upload(
            ctx.state,
            ctx.param("id"),
            data,
            upload.filename,
            upload.content_type,
            part if isinstance(part, str) else None,
        )


async def _create_upload(ctx: Context) -> JSON:
    if ctx.body.get("mode") != "external_url":
        return uploads.create_file_upload(ctx.state, ctx.body, ctx.actor)
    url, _ = uploads.check_external_request(ctx.body)
    probe = await uploads.probe_external(url)  # outside the state lock: it may be us
    created = uploads.create_file_upload(ctx.state, ctx.body, ctx.actor, probe=probe)
    ctx.spawn(uploads.import_external(ctx.state, str(created["id"])))
    return created


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


def routes(api: Api) -> list[Route]:
    s, v, q = service, views, view_queries

    def r(path: str, methods: str, handler: Callable[[Context], Any], **kw: bool) -> Route:
        return api.route(path, handler, methods.split(), **kw)

    return [
        # users
        r("/v1/users/me", "GET", lambda c: s.get_user(c.state, c.state.bot_user_id)),
        r(
            "/v1/users",
            "GET",
            lambda c: s.list_users(c.state, c.query("start_cursor"), _page_size(c)),
        ),
        r("/v1/users/{id}", "GET", lambda c: s.get_user(c.state, c.param("id"))),
        # databases and data sources
        r("/v1/databases", "POST", lambda c: s.create_database(c.state, c.body, c.actor)),
        r("/v1/databases/{id}", "GET", lambda c: s.get_database(c.state, c.param("id"))),
        r(
            "/v1/databases/{id}",
            "PATCH",
            lambda c: s.update_database(c.state, c.param("id"), c.body, c.actor),
        ),
        r("/v1/data_sources", "POST", lambda c: s.create_data_source(c.state, c.body, c.actor)),
        r("/v1/data_sources/{id}", "GET", lambda c: s.get_data_source(c.state, c.param("id"))),
        r(
            "/v1/data_sources/{id}",
            "PATCH",
            lambda c: s.update_data_source(c.state, c.param("id"), c.body, c.actor),
        ),
        r(
            "/v1/data_sources/{id}/query",
            "POST",
            lambda c: s.query_data_source(
                c.state, c.param("id"), c.body, c.query_list("filter_properties")
            ),
        ),
        r(
            "/v1/data_sources/{id}/templates",
            "GET",
            lambda c: templates.list_templates(
                c.state, c.param("id"), c.query("name"), c.query("start_cursor"), _page_size(c)
            ),
        ),
        # pages
        r("/v1/pages", "POST", lambda c: s.create_page(c.state, c.body, c.actor)),
        r(
            "/v1/pages/{id}",
            "GET",
            lambda c: s.get_page(c.state, c.param("id"), c.query_list("filter_properties")),
        ),
        r(
            "/v1/pages/{id}",
            "PATCH",
            lambda c: s.update_page(c.state, c.param("id"), c.body, c.actor),
        ),
        r(
            "/v1/pages/{id}/properties/{prop}",
            "GET",
            lambda c: s.get_property_item(
                c.state, c.param("id"), c.param("prop"), c.query("start_cursor"), _page_size(c)
            ),
        ),
        r(
            "/v1/pages/{id}/markdown",
            "GET",
            lambda c: markdown.get_markdown(c.state, c.param("id")),
        ),
        r(
            "/v1/pages/{id}/markdown",
            "PATCH",
            lambda c: markdown.update_markdown(c.state, c.param("id"), c.body, c.actor),
        ),
        r(
            "/v1/pages/{id}/move",
            "POST",
            lambda c: s.move_page(c.state, c.param("id"), c.body, c.actor),
        ),
        # blocks
        r(
            "/v1/blocks/meeting_notes/query",
            "POST",
            lambda c: workspace.query_meeting_notes(c.state, c.body),
        ),
        r(
            "/v1/blocks/{id}/children",
            "GET",
            lambda c: s.list_children(
                c.state, c.param("id"), c.query("start_cursor"), _page_size(c)
            ),
        ),
        r(
            "/v1/blocks/{id}/children",
            "PATCH",
            lambda c: s.append_children(c.state, c.param("id"), c.body, c.actor),
        ),
        r("/v1/blocks/{id}", "GET", lambda c: s.get_block(c.state, c.param("id"))),
        r(
            "/v1/blocks/{id}",
            "PATCH",
            lambda c: s.update_block(c.state, c.param("id"), c.body, c.actor),
        ),
        r("/v1/blocks/{id}", "DELETE", lambda c: s.delete_block(c.state, c.param("id"), c.actor)),
        # comments
        r("/v1/comments", "POST", lambda c: comments.create_comment(c.state, c.body, c.actor)),
        r(
            "/v1/comments",
            "GET",
            lambda c: comments.list_comments(
                c.state, c.query("block_id"), c.query("start_cursor"), _page_size(c)
            ),
        ),
        r("/v1/comments/{id}", "GET", lambda c: comments.get_comment(c.state, c.param("id"))),
        r(
            "/v1/comments/{id}",
            "PATCH",
            lambda c: comments.update_comment(c.state, c.param("id"), c.body, c.actor),
        ),
        r(
            "/v1/comments/{id}",
            "DELETE",
            lambda c: comments.delete_comment(c.state, c.param("id"), c.actor),
        ),
        # file uploads
        r("/v1/file_uploads", "POST", _create_upload),
        r(
            "/v1/file_uploads",
            "GET",
            lambda c: uploads.list_file_uploads(
                c.state, c.query("status"), c.query("start_cursor"), _page_size(c)
            ),
        ),
        r(
            "/v1/file_uploads/{id}",
            "GET",
            lambda c: uploads.get_file_upload(c.state, c.param("id")),
        ),
        r("/v1/file_uploads/{id}/send", "POST", _send_upload, raw_body=True),
        r(
            "/v1/file_uploads/{id}/complete",
            "POST",
            lambda c: uploads.complete_upload(c.state, c.param("id")),
        ),
        # views
        r("/v1/views", "POST", lambda c: v.create_view(c.state, c.body, c.actor)),
        r(
            "/v1/views",
            "GET",
            lambda c: v.list_views(
                c.state,
                c.query("database_id"),
                c.query("data_source_id"),
                c.query("start_cursor"),
                _page_size(c),
            ),
        ),
        r("/v1/views/{id}", "GET", lambda c: v.get_view(c.state, c.param("id"))),
        r(
            "/v1/views/{id}",
            "PATCH",
            lambda c: v.update_view(c.state, c.param("id"), c.body, c.actor),
        ),
        r("/v1/views/{id}", "DELETE", lambda c: v.delete_view(c.state, c.param("id"))),
        r(
            "/v1/views/{id}/queries",
            "POST",
            lambda c: q.create_view_query(c.state, c.param("id"), c.body),
        ),
        r(
            "/v1/views/{id}/queries/{query}",
            "GET",
            lambda c: q.view_query_results(
                c.state, c.param("id"), c.param("query"), c.query("start_cursor"), _page_size(c)
            ),
        ),
        r(
            "/v1/views/{id}/queries/{query}",
            "DELETE",
            lambda c: q.delete_view_query(c.state, c.param("id"), c.param("query")),
        ),
        # search, emojis, async tasks, OAuth
        r("/v1/search", "POST", lambda c: s.search(c.state, c.body)),
        r(
            "/v1/custom_emojis",
            "GET",
            lambda c: workspace.list_custom_emojis(
                c.state, c.query("name"), c.query("start_cursor"), _page_size(c)
            ),
        ),
        r("/v1/async_tasks/{id}", "GET", _async_task),
        r("/v1/oauth/{action}", "POST", _oauth, auth=False, raw_body=True),
        # Notion-hosted files (the URLs in `type: file` objects)
        Route("/files/{id}/{name:path}", _serve_file(api.state), methods=["GET", "HEAD"]),
        Route("/files/{id}", _serve_file(api.state), methods=["GET", "HEAD"]),
        api.route("/{rest:path}", _unknown, ALL_METHODS, raw_body=True),
    ]
