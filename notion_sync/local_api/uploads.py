"""File uploads: single part, multi part and external_url imports.

Limits: single part <= 20 MB; parts 5-20 MB but the last; up to 1,000 parts; uploads
expire an hour after creation unless attached (developers.notion.com file upload
reference, checked 2026-12-01). An external_url upload is `pending` when created and
becomes `uploaded` or `failed` once the background import finishes, with a
`file_import_result` (notion-sdk-py recording `test_file_uploads_create_external`).
"""

from __future__ import annotations

import mimetypes
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx

from .apierror import not_found, validation_error
from .objects import WORKSPACE_FILE_LIMIT, render_file_upload
from .service import MIB, _id_or_404, list_envelope, paginate
from .state import LocalNotionState, format_time, new_id

__all__ = [
    "MODES",
    "Probe",
    "UploadLimits",
    "check_external_request",
    "complete_upload",
    "create_file_upload",
    "get_file_upload",
    "import_external",
    "list_file_uploads",
    "probe_external",
    "send_upload",
]

JSON = dict[str, Any]
MODES = ("single_part", "multi_part", "external_url")
EXTERNAL_TIMEOUT = 30.0
UPLOAD_STATUSES = ("pending", "uploaded", "expired", "failed")


class UploadLimits:
    """Notion's documented limits: single part <= 20 MB; parts 5-20 MB but the last."""

    single_part_max = 20 * MIB
    part_min = 5 * MIB
    part_max = 20 * MIB
    max_parts = 1000


def create_file_upload(
    state: LocalNotionState, body: JSON, actor: str, *, probe: Probe | None = None
) -> JSON:
    """Create a pending upload; `external_url` ones need the `probe_external` result."""
    with state.lock:
        mode = body.get("mode", "single_part")
        if mode not in MODES:
            raise validation_error(
                "body failed validation: body.mode should be `single_part`, `multi_part` or "
                f"`external_url`, instead was `{mode!r}`."
            )
        filename = body.get("filename")
        parts = body.get("number_of_parts")
        content_type = body.get("content_type")
        if mode == "multi_part":
            if not isinstance(filename, str) or not filename:
                raise validation_error("filename is required for multi_part uploads.")
            if not isinstance(parts, int) or not 1 <= parts <= UploadLimits.max_parts:
                raise validation_error(
                    "body failed validation: body.number_of_parts should be an integer "
                    f"between 1 and {UploadLimits.max_parts}, instead was `{parts!r}`."
                )
        elif parts is not None:
            raise validation_error("number_of_parts is only allowed for multi_part uploads.")
        if mode == "external_url":
            if probe is None:
                raise RuntimeError("external_url uploads are created after probe_external()")
            check_external_request(body)
            content_type = content_type or probe.content_type
        elif body.get("external_url") is not None:
            raise validation_error("external_url is only allowed for external_url uploads.")
        upload_id = new_id()
        now = state.now_iso()
        state.file_uploads[upload_id] = {
            "id": upload_id,
            "mode": mode,
            "created_time": now,
            "last_edited_time": now,
            "created_by": actor,
            "expiry_time": format_time(state.clock() + timedelta(hours=1)),
            "status": "pending",
            "filename": filename,
            "content_type": content_type,
            "content_length": None,
            "number_of_parts": parts,
            "parts": {},
            "external_url": body.get("external_url"),
            "import_result": None,
        }
        state.touch()
        return render_file_upload(state, state.file_uploads[upload_id])


# -- external_url imports -------------------------------------------------------------


@dataclass(frozen=True)
class Probe:
    """What the HEAD request Notion makes before accepting an external URL told us."""

    content_type: str
    content_length: int | None


def check_external_request(body: JSON) -> tuple[str, str]:
    """Validate an external_url request without touching the network -> (url, filename).

    Notion refuses (400 validation_error) URLs that are not HTTPS or not public, that do
    not answer a HEAD request with a Content-Type, files over the workspace limit, and
    requests without a filename with a supported extension or content type
    (developers.notion.com/docs/importing-external-files, checked 2026-12-01). The local
    server also accepts plain http on loopback, so tests and demos can serve files.
    """
    url = body.get("external_url")
    if not isinstance(url, str) or not url:
        raise validation_error(
            "body failed validation: body.external_url should be defined, instead was `undefined`."
        )
    parsed = urlsplit(url)
    loopback = parsed.hostname in ("127.0.0.1", "localhost", "::1")
    if parsed.scheme != "https" and not (parsed.scheme == "http" and loopback):
        raise validation_error(f"The external URL must use HTTPS (SSL), instead was `{url}`.")
    filename = body.get("filename")
    if not isinstance(filename, str) or not filename:
        raise validation_error(
            "body failed validation: body.filename should be defined for external_url "
            "uploads, instead was `undefined`."
        )
    if body.get("content_type") is None and mimetypes.guess_type(filename)[0] is None:
        raise validation_error(
            f"Could not determine a content type for filename {filename!r}: give it a "
            "supported extension or pass content_type."
        )
    return url, filename


async def probe_external(url: str) -> Probe:
    """The HEAD request; answers the same 400s Notion gives at this step."""
    try:
        async with httpx.AsyncClient(timeout=EXTERNAL_TIMEOUT, follow_redirects=True) as client:
            response = await client.head(url)
    except httpx.HTTPError as exc:
        raise validation_error(f"The external URL is not publicly accessible: {exc}.") from exc
    content_type = response.headers.get("content-type", "").split(";")[0].strip()
    if response.status_code >= 400 or not content_type:
        raise validation_error(
            f"The external URL did not answer a HEAD request with a Content-Type "
            f"(HTTP {response.status_code})."
        )
    length = response.headers.get("content-length")
    size = int(length) if length and length.isdigit() else None
    if size is not None and size > WORKSPACE_FILE_LIMIT:
        raise validation_error(
            f"The file at the external URL is {size} bytes, over the workspace's per-file "
            f"limit of {WORKSPACE_FILE_LIMIT} bytes."
        )
    return Probe(content_type, size)


async def import_external(state: LocalNotionState, upload_id: str) -> None:
    """Download an external_url upload in the background, as Notion does after create."""
    with state.lock:
        url = state.file_uploads[upload_id]["external_url"]
    data: bytes | None = None
    error: JSON | None = None
    try:
        async with httpx.AsyncClient(timeout=EXTERNAL_TIMEOUT, follow_redirects=True) as client:
            response = await client.get(url)
        if response.status_code >= 400:
            error = _import_error(
                "http_error",
                f"Downloading the file answered HTTP {response.status_code}.",
                response.status_code,
            )
        elif len(response.content) > WORKSPACE_FILE_LIMIT:
            error = _import_error("file_too_large", "The file is over the per-file limit.", None)
        else:
            data = response.content
    except httpx.HTTPError as exc:
        error = _import_error("network_error", f"Could not download the file: {exc}.", None)
    with state.lock:
        upload = state.file_uploads.get(upload_id)
        if upload is None:
            return
        now = state.now_iso()
        upload["last_edited_time"] = now
        if data is not None:
            state.file_data[upload_id] = data
            upload["status"] = "uploaded"
            upload["content_length"] = len(data)
            upload["import_result"] = {"imported_time": now, "type": "success", "success": {}}
        else:
            upload["status"] = "failed"
            upload["import_result"] = {"imported_time": now, "type": "error", "error": error}
        state.touch()


def _import_error(code: str, message: str, status: int | None) -> JSON:
    # FileUploadObjectResponse.file_import_result.error (notion-sdk-js file-uploads.ts).
    return {
        "type": "download_error",
        "code": code,
        "message": message,
        "parameter": "external_url",
        "status_code": status,
    }


def _upload(state: LocalNotionState, raw_id: str) -> JSON:
    uid = _id_or_404(raw_id, "file_upload")
    upload = state.file_uploads.get(uid)
    if upload is None:
        raise not_found(uid, "file_upload")
    return upload


def send_upload(
    state: LocalNotionState,
    raw_id: str,
    data: bytes,
    filename: str | None,
    content_type: str | None,
    part_number: Any,
) -> JSON:
    with state.lock:
        upload = _upload(state, raw_id)
        if upload["mode"] == "external_url":
            raise validation_error(
                f"File upload {upload['id']} imports from an external URL; it takes no parts."
            )
        if upload["status"] != "pending":
            raise validation_error(
                f"File upload {upload['id']} is in status `{upload['status']}`, not `pending`."
            )
        if upload["mode"] == "single_part":
            if len(data) > UploadLimits.single_part_max:
                raise validation_error(
                    f"File size {len(data)} bytes exceeds the single-part limit of 20 MB; "
                    "use mode multi_part."
                )
            state.file_data[upload["id"]] = data
            upload["status"] = "uploaded"
            upload["content_length"] = len(data)
            upload["filename"] = upload["filename"] or filename or "file"
            upload["content_type"] = upload["content_type"] or content_type
        else:
            try:
                number = int(part_number)
            except (TypeError, ValueError):
                raise validation_error(
                    "part_number is required for multi_part uploads and must be an integer."
                ) from None
            if not 1 <= number <= upload["number_of_parts"]:
                raise validation_error(
                    f"part_number {number} is outside 1..{upload['number_of_parts']}."
                )
            if len(data) > UploadLimits.part_max:
                raise validation_error("Each part must be at most 20 MB.")
            if number < upload["number_of_parts"] and len(data) < UploadLimits.part_min:
                raise validation_error("Each part but the last must be at least 5 MB.")
            state.file_parts.setdefault(upload["id"], {})[number] = data
            upload["parts"][str(number)] = len(data)
        upload["last_edited_time"] = state.now_iso()
        state.touch()
        return render_file_upload(state, upload)


def complete_upload(state: LocalNotionState, raw_id: str) -> JSON:
    with state.lock:
        upload = _upload(state, raw_id)
        if upload["mode"] != "multi_part":
            raise validation_error("Only multi_part file uploads can be completed.")
        if upload["status"] != "pending":
            raise validation_error(f"File upload is in status `{upload['status']}`.")
        total = upload["number_of_parts"]
        if len(upload["parts"]) != total:
            raise validation_error(
                f"Expected {total} parts but received {len(upload['parts'])}; send every part "
                "before completing."
            )
        parts = state.file_parts.pop(upload["id"], {})
        data = b"".join(parts[n] for n in range(1, total + 1))
        state.file_data[upload["id"]] = data
        upload["content_length"] = len(data)
        upload["status"] = "uploaded"
        upload["last_edited_time"] = state.now_iso()
        state.touch()
        return render_file_upload(state, upload)


def get_file_upload(state: LocalNotionState, raw_id: str) -> JSON:
    with state.lock:
        return render_file_upload(state, _upload(state, raw_id))


def list_file_uploads(
    state: LocalNotionState, status: Any, start_cursor: Any, page_size: Any
) -> JSON:
    with state.lock:
        if status is not None and status not in UPLOAD_STATUSES:
            raise validation_error(
                "body failed validation: query.status should be one of "
                f"{', '.join(f'`{s}`' for s in UPLOAD_STATUSES)}, instead was `{status!r}`."
            )
        uploads = [u for u in state.file_uploads.values() if status in (None, u["status"])]
        chunk, cursor = paginate(uploads, lambda u: u["id"], start_cursor, page_size)
        return list_envelope([render_file_upload(state, u) for u in chunk], cursor, "file_upload")
