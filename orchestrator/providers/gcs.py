"""Reading a Veo result from Cloud Storage with the project's own credentials.

With `REELGATE_GOOGLE_OUTPUT_GCS_URI` set, Vertex writes each clip to the bucket and
the finished operation carries `gcsUri` instead of the bytes. A gs:// URI is not a
URL anybody can fetch: the object is read through the Cloud Storage JSON API
(`GET {base}/storage/v1/b/{bucket}/o/{object}?alt=media`, object name URL-encoded,
https://cloud.google.com/storage/docs/json_api/v1/objects/get, checked 2026-12-01)
with an OAuth bearer token of the same credentials that created the clip. An
express-mode API key cannot read Cloud Storage, so that combination is refused at
start (GoogleProvider).
"""

from __future__ import annotations

import asyncio
from urllib.parse import quote

import google.auth.credentials
import google.auth.exceptions
import google.auth.transport.requests
import httpx

from orchestrator.errors import ProviderPermanentError, ProviderTransientError

__all__ = ["GcsReader", "split_gs_uri"]

_TRANSIENT = frozenset({408, 429, 500, 502, 503, 504})


def split_gs_uri(uri: str) -> tuple[str, str]:
    """gs://bucket/path/to/object -> ("bucket", "path/to/object")."""
    if not uri.startswith("gs://"):
        raise ValueError(f"not a gs:// URI: {uri!r}")
    bucket, _, name = uri[len("gs://") :].partition("/")
    if not bucket or not name:
        raise ValueError(f"gs:// URI needs a bucket and an object name: {uri!r}")
    return bucket, name


class GcsReader:
    """Downloads gs:// objects; one HTTP pool, tokens refreshed when they expire."""

    def __init__(
        self,
        credentials: google.auth.credentials.Credentials,
        *,
        base_url: str,
        timeout_s: float,
    ) -> None:
        self._credentials = credentials
        self._base = base_url.rstrip("/")
        self._http = httpx.AsyncClient(timeout=timeout_s, follow_redirects=True)
        self._lock = asyncio.Lock()

    async def aclose(self) -> None:
        await self._http.aclose()

    async def _token(self) -> str:
        creds = self._credentials
        async with self._lock:
            if not creds.valid:
                try:
                    request = google.auth.transport.requests.Request()  # type: ignore[no-untyped-call]
                    await asyncio.to_thread(creds.refresh, request)
                except google.auth.exceptions.RefreshError:
                    raise ProviderPermanentError(
                        "download_clip: Google credentials could not be refreshed"
                    ) from None
                except google.auth.exceptions.TransportError:
                    raise ProviderTransientError(
                        "download_clip: cannot reach Google's token endpoint"
                    ) from None
        token = creds.token
        if not isinstance(token, str) or not token:
            raise ProviderPermanentError("download_clip: the credentials carry no access token")
        return token

    async def read(self, uri: str) -> bytes:
        """The object's bytes. Errors name the URI, never the token."""
        try:
            bucket, name = split_gs_uri(uri)
        except ValueError as exc:
            raise ProviderPermanentError(f"download_clip: {exc}") from None
        url = f"{self._base}/storage/v1/b/{quote(bucket, safe='')}/o/{quote(name, safe='')}"
        headers = {"Authorization": f"Bearer {await self._token()}"}
        try:
            response = await self._http.get(url, params={"alt": "media"}, headers=headers)
        except httpx.HTTPError as exc:
            # A read: trying again later cannot pay twice.
            raise ProviderTransientError(f"download_clip {uri}: {type(exc).__name__}") from None
        if response.status_code == 200:
            return response.content
        message = f"download_clip {uri}: HTTP {response.status_code}"
        if response.status_code in _TRANSIENT:
            raise ProviderTransientError(message)
        if response.status_code in (401, 403):
            message += (
                " (the credentials need storage.objects.get on the bucket of "
                "REELGATE_GOOGLE_OUTPUT_GCS_URI)"
            )
        raise ProviderPermanentError(message)
