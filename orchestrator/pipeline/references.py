"""A task's reference images: downloaded once, checked, stored, shown, and handed over.

The rule (docs/notion-setup.md, "Reference images"):

- The poller copies the page's References (with the signed URLs of that read) while
  they may still change what gets made: while the task is a Draft, Queued before its
  first start, or at Storyboard Error (a re-plan). Later edits are not used.
- A worker downloads what is new before anything is spent: when the task starts
  (Queued), and before a Storyboard Error review is applied. Each file is fetched
  once: a stored copy is reused for as long as the page lists the same file.
- Each is checked from its bytes (PNG, JPEG or WebP; size; pixels) and the list
  against the channel's image model (count). A bad one gets a comment naming the file
  and the reason, and nothing is spent: a starting task goes back to Draft; a re-plan
  waits at Storyboard Error until the page changes.
- Stored under the task's prefix (`storage.keys.reference_key`), shown in the
  storyboard section of the page, sent to the storyboard model and to every keyframe.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
import structlog

from notion_sync.mapping import ReferenceFile
from notion_sync.ops import BlockSpec
from orchestrator.channels import ChannelConfig
from orchestrator.db.models import Task
from orchestrator.pipeline.context import PipelineContext
from orchestrator.pipeline.files import ensure_local, task_ref
from orchestrator.pipeline.notion_out import file_ref
from orchestrator.providers.base import Image
from orchestrator.references import (
    FETCH_TIMEOUT_S,
    CheckedImage,
    ReferenceLimits,
    ReferenceProblem,
    ReferenceUnreachable,
    check_image,
    fetch_reference,
    limits_for,
    too_many,
)
from orchestrator.state.status import Status
from storage.keys import reference_file_name, reference_key

__all__ = [
    "REFERENCE_RETRY",
    "StoredReference",
    "active_references",
    "fetch_references",
    "follows_page",
    "load_reference_images",
    "problems_text",
    "reference_blocks",
    "references_pending",
]

log = structlog.get_logger(__name__)

# A re-plan waiting on bad references looks again when the page changes (the poller
# clears not_before), or after this long.
REFERENCE_RETRY = timedelta(days=1)


@dataclass(frozen=True)
class StoredReference:
    """One reference image as stored: which page file it came from, and where it is."""

    identity: str  # ReferenceFile.identity: the same file on the page, whatever its URL
    name: str  # as the creator named it
    file_name: str  # ref_01_3fa9c2d1.png
    storage_key: str
    public_url: str | None
    file_upload_id: str | None
    sha256: str
    mime_type: str
    bytes: int
    width: int
    height: int

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> StoredReference:
        return cls(
            identity=str(data["identity"]),
            name=str(data.get("name", "")),
            file_name=str(data["file_name"]),
            storage_key=str(data["storage_key"]),
            public_url=data.get("public_url") or None,
            file_upload_id=data.get("file_upload_id") or None,
            sha256=str(data["sha256"]),
            mime_type=str(data["mime_type"]),
            bytes=int(data.get("bytes") or 0),
            width=int(data.get("width") or 0),
            height=int(data.get("height") or 0),
        )


def follows_page(task: Task) -> bool:
    """Whether the page's References may still change what this task makes."""
    status = Status(task.status)
    not_started = status in (Status.DRAFT, Status.QUEUED) and not task.resume_status
    return not_started or status is Status.STORYBOARD_ERROR


def _sources(task: Task) -> list[ReferenceFile]:
    return [ReferenceFile.from_json(s) for s in task.reference_sources or []]


def _stored(task: Task) -> dict[str, StoredReference]:
    entries = (StoredReference.from_json(e) for e in task.reference_images or [])
    return {e.identity: e for e in entries}


def references_pending(task: Task) -> bool:
    """True when the page lists a file that is not stored yet."""
    stored = _stored(task)
    return any(s.identity not in stored for s in _sources(task))


def active_references(task: Task) -> list[StoredReference]:
    """The stored references the page lists, in its order (what the models are sent)."""
    stored = _stored(task)
    return [stored[s.identity] for s in _sources(task) if s.identity in stored]


def _limits(ctx: PipelineContext, channel: ChannelConfig) -> ReferenceLimits:
    return limits_for(ctx.providers_for(channel).models)


async def fetch_references(ctx: PipelineContext, task_id: int) -> list[ReferenceProblem]:
    """Download, check and store what the page lists and is not stored yet.

    Returns the problems (empty: every reference is stored and usable). What was
    fetched and good is recorded even when another file is bad, so fixing one file
    downloads only that one. Makes no change when nothing is new.
    """
    async with ctx.sessions() as session:
        task = await session.get(Task, task_id)
        assert task is not None
        sources, stored = _sources(task), _stored(task)
        channel = ctx.channels.get(task.channel)
        folder = task_ref(task)
    if not sources and not stored:
        return []  # most tasks: nothing to fetch, nothing to forget
    limits = _limits(ctx, channel)
    found: list[tuple[int, ReferenceProblem]] = []
    wanted: list[tuple[int, ReferenceFile]] = []
    for position, source in enumerate(sources, 1):
        if position > limits.max_count:
            reason = too_many(position, len(sources), limits)
            found.append((position, ReferenceProblem(source.name, reason)))
        elif source.identity not in stored:
            wanted.append((position, source))
    if not wanted:
        if not found:
            await _forget_unlisted(ctx, task_id)
        return [problem for _, problem in found]

    work = ctx.task_dir(task_id) / "references"
    work.mkdir(parents=True, exist_ok=True)
    storage = ctx.storage_for(channel)
    now = ctx.clock()
    async with httpx.AsyncClient(timeout=FETCH_TIMEOUT_S, follow_redirects=True) as client:
        results = await asyncio.gather(
            *(_fetch_one(client, source, limits, now) for _, source in wanted)
        )
    added: list[StoredReference] = []
    for (position, source), result in zip(wanted, results, strict=True):
        if isinstance(result, ReferenceProblem):
            found.append((position, result))
            continue
        data, checked = result
        sha = hashlib.sha256(data).hexdigest()
        name = reference_file_name(position, sha, checked.mime_type)
        path = work / name
        path.write_bytes(data)
        key = reference_key(channel.name, folder, position, sha, checked.mime_type)
        put = await storage.put(key, path, checked.mime_type)
        added.append(
            StoredReference(
                identity=source.identity,
                name=source.name,
                file_name=name,
                storage_key=put.key,
                public_url=put.url or None,
                file_upload_id=put.file_upload_id,
                sha256=sha,
                mime_type=checked.mime_type,
                bytes=len(data),
                width=checked.width,
                height=checked.height,
            )
        )
        log.info(
            "store_reference",
            reference=source.name,
            bytes=len(data),
            mime_type=checked.mime_type,
            key=put.key,
        )
    async with ctx.sessions() as session, session.begin():
        task = await session.get(Task, task_id)
        assert task is not None
        task.reference_images = [
            *(task.reference_images or []),
            *(entry.to_json() for entry in added),
        ]
    problems = [problem for _, problem in sorted(found, key=lambda item: item[0])]
    if problems:
        log.warning("refuse_references", problems=[f"{p.name}: {p.reason}" for p in problems])
    else:
        await _forget_unlisted(ctx, task_id)
    return problems


async def _fetch_one(
    client: httpx.AsyncClient, source: ReferenceFile, limits: ReferenceLimits, now: datetime
) -> tuple[bytes, CheckedImage] | ReferenceProblem:
    try:
        data = await fetch_reference(client, source, max_bytes=limits.max_bytes, now=now)
    except ReferenceUnreachable as exc:
        return ReferenceProblem(source.name, exc.reason)
    checked = check_image(data, limits)
    if isinstance(checked, str):
        return ReferenceProblem(source.name, checked)
    return data, checked


async def _forget_unlisted(ctx: PipelineContext, task_id: int) -> None:
    # Files the page no longer lists leave the record (their stored objects stay:
    # keys are immutable, and a storyboard round may still show them).
    async with ctx.sessions() as session, session.begin():
        task = await session.get(Task, task_id)
        assert task is not None
        listed = {s.identity for s in _sources(task)}
        kept = [e for e in task.reference_images or [] if e.get("identity") in listed]
        if len(kept) != len(task.reference_images or []):
            task.reference_images = kept


def problems_text(problems: Sequence[ReferenceProblem]) -> str:
    """The lines of a comment: each file and why it cannot be used."""
    count = len(problems)
    head = (
        "1 reference image cannot be used"
        if count == 1
        else (f"{count} reference images cannot be used")
    )
    return head + ":\n" + "\n".join(p.line() for p in problems)


def reference_blocks(task: Task) -> list[BlockSpec]:
    """The storyboard section's images: what the models were given to follow."""
    refs = active_references(task)
    shown = [
        BlockSpec(
            kind="image",
            text=f"Reference {n}: {ref.name}",
            file=file_ref(ref.file_name, ref.public_url, ref.file_upload_id),
        )
        for n, ref in enumerate(refs, 1)
        if ref.public_url or ref.file_upload_id
    ]
    if not shown:
        return []
    return [BlockSpec(kind="heading_3", text="Reference images"), *shown]


async def load_reference_images(ctx: PipelineContext, task_id: int) -> tuple[Image, ...]:
    """The task's references as provider images, from this replica's copy or storage."""
    async with ctx.sessions() as session:
        task = await session.get(Task, task_id)
        assert task is not None
        refs = active_references(task)
        if references_pending(task):
            # The page changed after the last check (a race with the poller): the new
            # files are checked at the next start or re-plan; use what is stored.
            log.warning("skip_unchecked_references", task=task_id)
    if not refs:
        return ()
    work = ctx.task_dir(task_id) / "references"
    images = []
    for ref in refs:
        path = await ensure_local(work / ref.file_name, ref.public_url)
        images.append(Image(data=path.read_bytes(), mime_type=ref.mime_type))
    return tuple(images)
