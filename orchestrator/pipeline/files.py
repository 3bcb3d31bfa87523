"""Local copies of media and their keys in storage."""

from __future__ import annotations

from pathlib import Path

import httpx

from orchestrator.db.models import Task
from orchestrator.errors import MediaError

__all__ = ["ensure_local", "task_ref"]


def task_ref(task: Task) -> str:
    """The task's folder name in storage: stable even if the title changes."""
    return f"task-{task.id}-{task.notion_page_id.replace('-', '')[:8]}"


async def ensure_local(path: Path, url: str | None) -> Path:
    """`path` if it exists (made on this replica); else download it from `url`."""
    if path.exists():
        return path
    if not url:
        raise MediaError(f"{path.name} is not on this machine and has no URL to fetch it from")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".part")
    try:
        async with (
            httpx.AsyncClient(timeout=120, follow_redirects=True) as client,
            client.stream("GET", url) as response,
        ):
            response.raise_for_status()
            with tmp.open("wb") as out:
                async for chunk in response.aiter_bytes(1 << 20):
                    out.write(chunk)
    except httpx.HTTPError as exc:
        tmp.unlink(missing_ok=True)
        # The URL may be presigned: name the file, not the URL.
        raise MediaError(f"cannot download {path.name}: {type(exc).__name__}") from exc
    tmp.replace(path)
    return path
