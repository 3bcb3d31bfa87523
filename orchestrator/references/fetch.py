"""Download one reference image promptly, with a size cap, naming what went wrong.

A file uploaded to Notion is read through a signed URL that works for one hour
(`expiry_time` on the file object): the poller stores the URL it read with the page,
and the worker fetches it when the task starts, seconds later. A URL already past its
expiry is not tried; the reason tells the creator to set the status again, which
makes the poller read a fresh URL. External links do not expire.

Workers never call the Notion API; fetching a file URL is plain HTTP.
"""

from __future__ import annotations

from datetime import datetime

import httpx

from notion_sync.mapping import ReferenceFile
from orchestrator.references.check import human_bytes

__all__ = ["FETCH_TIMEOUT_S", "ReferenceUnreachable", "fetch_reference"]

FETCH_TIMEOUT_S = 20.0


class ReferenceUnreachable(Exception):
    """The reference could not be downloaded (or is too large to); `reason` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


async def fetch_reference(
    client: httpx.AsyncClient, ref: ReferenceFile, *, max_bytes: int, now: datetime
) -> bytes:
    """The file's bytes; raises ReferenceUnreachable with the reason for the creator."""
    if ref.hosted == "notion" and ref.expires_at is not None and now >= ref.expires_at:
        raise ReferenceUnreachable(
            f"unreachable (its Notion link expired at {ref.expires_at:%H:%M} UTC before it "
            "could be downloaded; a fresh link is read when the page is next changed)"
        )
    if not ref.url.startswith(("http://", "https://")):
        raise ReferenceUnreachable("unreachable (not an http or https link)")
    try:
        async with client.stream("GET", ref.url) as response:
            if response.status_code >= 400:
                phrase = response.reason_phrase or ""
                why = f"HTTP {response.status_code} {phrase}".strip()
                if ref.hosted == "notion" and response.status_code == 403:
                    why += ": the Notion link may have expired"
                raise ReferenceUnreachable(f"unreachable ({why})")
            declared = response.headers.get("content-length")
            if declared is not None and declared.isdigit() and int(declared) > max_bytes:
                raise ReferenceUnreachable(_too_large(int(declared), max_bytes))
            body = bytearray()
            async for chunk in response.aiter_bytes(1 << 16):
                body += chunk
                if len(body) > max_bytes:
                    # Stop reading: a huge file is refused without downloading all of it.
                    raise ReferenceUnreachable(_too_large(None, max_bytes))
            return bytes(body)
    except httpx.TimeoutException:
        raise ReferenceUnreachable(
            f"unreachable (no answer within {FETCH_TIMEOUT_S:.0f} s)"
        ) from None
    except httpx.HTTPError as exc:
        # The URL may be signed: name the error type, never the URL.
        raise ReferenceUnreachable(f"unreachable ({type(exc).__name__})") from None


def _too_large(size: int | None, max_bytes: int) -> str:
    what = human_bytes(size) if size is not None else f"more than {human_bytes(max_bytes)}"
    return f"too large ({what}; at most {human_bytes(max_bytes)})"
