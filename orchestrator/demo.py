"""`reelgate demo`: the whole product on one machine, with a scripted reviewer.

Starts the local Notion API with a sample workspace (Tasks + Videos + one task),
local providers, local storage served over HTTP and SQLite; runs the daemon; and
plays the reviewer through the Notion API exactly as a person would: approve the
storyboard and keyframes, write "clips 2, 3 - too dark" in Error Log and then set
Video Error, approve the regenerated round, approve audio and final. The sample task
has a reference image (uploaded to Notion, in its References), which every keyframe
shows as an inset.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import shutil
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx
import structlog
from notion_client import AsyncClient
from PIL import Image as PILImage
from PIL import ImageDraw
from sqlalchemy import select

from notion_sync.client import NotionClient
from notion_sync.local_api.server import LocalNotionServer
from notion_sync.schema import setup_notion
from notion_sync.settings import NotionSettings
from notion_sync.uploads import NotionFileUploads
from orchestrator.channels import Channels, load_channels
from orchestrator.config import AppConfig
from orchestrator.daemon.daemon import Daemon
from orchestrator.daemon.runtime import build_runtime, prepare
from orchestrator.db.engine import create_engine
from orchestrator.db.migrate import upgrade
from orchestrator.db.models import Clip, Event, Task
from orchestrator.notion_setup import status_options
from orchestrator.providers.local_settings import LocalProviderSettings
from orchestrator.settings import Settings
from orchestrator.state.labels import install_labels
from orchestrator.state.status import Status
from storage.keys import final_file_name
from storage.settings import StorageSettings

__all__ = ["DemoSummary", "ReviewScript", "Reviewer", "default_script", "demo_config", "run_demo"]

log = structlog.get_logger(__name__)

DEMO_BRIEF = (
    "A lighthouse keeper's last night before the light is automated. "
    "Waves climb the rocks at dusk. He climbs the spiral stairs one more time. "
    "The lamp turns and sweeps the dark sea. At dawn he walks down the path and does not look back."
)
REJECTION = "Regenerate: clips 2, 3 - too dark"
ADMIN_TOKEN = "demo-integration-token"
REVIEWER_TOKEN = "demo-reviewer-token"


@dataclass
class DemoSummary:
    final_video: str | None
    timeline: list[str]
    clips: list[dict[str, Any]]
    provider_calls: dict[str, int]
    notion_requests: int
    notion_429s: int
    cost_usd: float
    elapsed_s: float
    task_page_id: str = ""
    final_status: str = ""
    reviewer_actions: list[str] = field(default_factory=list)
    # Per integration (bearer token), counted from the local API's request log: the
    # daemon's own requests once it runs, the reviewer's, and the setup before the daemon.
    daemon_requests: int = 0
    daemon_429s: int = 0
    reviewer_requests: int = 0
    reviewer_429s: int = 0
    setup_requests: int = 0

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


# What the reviewer does at each gate: (status seen, round) -> (Error Log line, new status).
ReviewScript = dict[tuple[str, int], tuple[str | None, str]]


def default_script() -> ReviewScript:
    """Approve storyboard and keyframes, reject clips 2 and 3 once, approve the rest,
    in the board's labels (the channels file may rename them)."""
    s = Status
    return {
        (s.STORYBOARD_READY.label, 1): (None, s.STORYBOARD_APPROVED.label),
        (s.KEYFRAMES_READY.label, 1): (None, s.KEYFRAMES_APPROVED.label),
        (s.VIDEO_READY.label, 1): (REJECTION, s.VIDEO_ERROR.label),
        (s.VIDEO_READY.label, 2): (None, s.VIDEO_APPROVED.label),
        (s.AUDIO_READY.label, 1): (None, s.AUDIO_APPROVED.label),
        (s.FINAL_READY.label, 1): (None, s.DONE.label),
    }


class Reviewer:
    """A person in Notion: reads the task page, writes Error Log and Status."""

    def __init__(self, base_url: str, token: str, page_id: str, script: ReviewScript) -> None:
        # notion-client's own logger would print every 429 it retries.
        self._client = AsyncClient(auth=token, base_url=base_url, log_level=logging.ERROR)
        self.page_id = page_id
        self.script = dict(script)
        self.seen: Counter[str] = Counter()
        self.actions: list[str] = []
        self.last_status = ""
        # Notes written, Status not set yet: the next look sets it.
        self._then: tuple[str, str, str] | None = None

    async def close(self) -> None:
        await self._client.aclose()

    async def status(self) -> str:
        page = await self._client.pages.retrieve(page_id=self.page_id)
        prop = page["properties"]["Status"]
        value = prop.get(prop["type"]) or {}
        self.last_status = str(value.get("name", ""))
        return self.last_status

    async def step(self) -> bool:
        """Look once; act if the script says so. True when the task is finished.

        Like a person: notes are typed into Error Log first, and Status is set on
        the next look (the daemon acts on the notes once they have settled).
        """
        status = await self.status()
        if status in (Status.DONE.label, Status.FAILED.label, Status.CANCELLED.label):
            return True
        if self._then is not None:
            seen, target, line = self._then
            self._then = None
            await self._set(seen, target, line)
            return False
        action = self.script.pop((status, self.seen[status] + 1), None)
        if action is None:
            return False
        self.seen[status] += 1
        note, target = action
        if not note:
            await self._set(status, target, "")
            return False
        line = note
        page = await self._client.pages.retrieve(page_id=self.page_id)
        existing = "".join(t["plain_text"] for t in page["properties"]["Error Log"]["rich_text"])
        text = f"{existing}\n{line}" if existing else line
        await self._client.pages.update(
            page_id=self.page_id,
            properties={"Error Log": {"rich_text": [{"text": {"content": text[-2000:]}}]}},
        )
        self._then = (status, target, line)
        return False

    async def _set(self, seen: str, target: str, line: str) -> None:
        await self._client.pages.update(
            page_id=self.page_id, properties={"Status": {"status": {"name": target}}}
        )
        self.actions.append(f"{seen} -> {target}" + (f" ({line})" if line else ""))
        log.info("review_task", seen=seen, set=target, error_log=line)


def demo_config(data_dir: Path, notion_base_url: str, tasks_ds: str, videos_ds: str) -> AppConfig:
    """Fast loops for a demo: seconds instead of minutes."""
    return AppConfig(
        settings=Settings(
            database_url=f"sqlite+aiosqlite:///{data_dir / 'reelgate.db'}",
            data_dir=data_dir,
            notion_poll_seconds=2.0,
            outbox_drain_seconds=0.2,
            operation_poll_seconds=0.5,
            clip_poll_initial_seconds=0.5,
            clip_poll_max_seconds=1.0,
            clip_deadline_seconds=300.0,
            workers=2,
            heartbeat_seconds=5.0,
            # Reviewer notes settle quickly here (45 s in production).
            review_settle_seconds=2.0,
            http_port=0,
            shutdown_grace_seconds=10.0,
        ),
        notion=NotionSettings(
            base_url=notion_base_url,
            token=ADMIN_TOKEN,  # type: ignore[arg-type]
            tasks_data_source_id=tasks_ds,
            videos_data_source_id=videos_ds,
        ),
        storage=StorageSettings(backend="local", local_dir=data_dir / "media"),
        local=LocalProviderSettings(work_dir=data_dir / "local-provider"),
    )


def draw_reference_image(path: Path) -> Path:
    """The demo's reference: a lighthouse on a rock, as a creator's style frame (PNG)."""
    img = PILImage.new("RGB", (240, 240), (24, 38, 72))
    draw = ImageDraw.Draw(img)
    draw.rectangle((0, 170, 240, 240), fill=(20, 70, 110))  # the sea
    draw.polygon([(60, 240), (120, 160), (180, 240)], fill=(60, 60, 60))  # the rock
    draw.polygon([(102, 170), (112, 60), (128, 60), (138, 170)], fill=(235, 235, 225))
    for y in (85, 115, 145):  # red bands
        draw.polygon([(110, y), (130, y), (131, y + 12), (109, y + 12)], fill=(200, 40, 40))
    draw.rectangle((106, 40, 134, 60), fill=(255, 220, 90))  # the lamp
    draw.polygon([(134, 44), (240, 10), (240, 70), (134, 56)], fill=(255, 240, 170))
    img.save(path, format="PNG")
    return path


async def create_sample_task(
    notion: NotionClient,
    tasks_ds: str,
    creator_id: str,
    *,
    clips: int,
    seconds: int,
    reference: Path | None = None,
) -> str:
    references: list[dict[str, Any]] = []
    if reference is not None:
        # Uploaded as a creator would drag it in: it reads back as a Notion-hosted
        # `file` with a link that expires in an hour.
        upload = await NotionFileUploads(notion).upload_file(reference, content_type="image/png")
        references.append(
            {
                "name": reference.name,
                "type": "file_upload",
                "file_upload": {"id": upload.file_upload.id},
            }
        )
    page = await notion.request(
        "POST",
        "/v1/pages",
        body={
            "parent": {"type": "data_source_id", "data_source_id": tasks_ds},
            "properties": {
                "Name": {"title": [{"text": {"content": "The last lighthouse keeper"}}]},
                "Status": {"status": {"name": Status.QUEUED.label}},
                "Channel": {"select": {"name": "demo"}},
                "Brief": {"rich_text": [{"text": {"content": DEMO_BRIEF}}]},
                "Clips": {"number": clips},
                "Clip Seconds": {"number": seconds},
                "Aspect Ratio": {"select": {"name": "16:9"}},
                "Owner": {"people": [{"id": creator_id}]},
                **({"References": {"files": references}} if references else {}),
            },
        },
    )
    return str(page["id"])


async def run_demo(
    data_dir: Path,
    *,
    clips: int = 4,
    seconds: int = 4,
    script: ReviewScript | None = None,
    on_progress: Callable[[dict[str, Any]], None] | None = None,
    timeout_s: float = 600.0,
    server: LocalNotionServer | None = None,
    channels: Channels | None = None,
    configure: Callable[[AppConfig], AppConfig] | None = None,
    review_interval_s: float = 1.0,
) -> DemoSummary:
    """Run the scenario; a given `server` is left running so callers can inspect it."""
    started = time.monotonic()
    if data_dir.exists():
        shutil.rmtree(data_dir)
    data_dir.mkdir(parents=True)
    own_server = server is None
    if server is None:
        server = LocalNotionServer(state_file=data_dir / "notion-state.json")
        # Two integrations, as in a real workspace: any other token gets 401.
        server.knobs.allow_tokens([ADMIN_TOKEN, REVIEWER_TOKEN])
        server.start()
    server.state.token_users[REVIEWER_TOKEN] = server.state.reviewer_id
    channels = channels or load_channels(None)
    # The board is set up, and the reviewer reads it, in the channels file's labels.
    install_labels(channels.status_labels)
    try:
        setup_client = NotionClient(
            NotionSettings(base_url=server.base_url, token=ADMIN_TOKEN)  # type: ignore[arg-type]
        )
        async with setup_client:
            setup = await setup_notion(setup_client, server.root_page_id, status_options())
            page_id = await create_sample_task(
                setup_client,
                setup.tasks_data_source_id,
                server.state.creator_id,
                clips=clips,
                seconds=seconds,
                reference=draw_reference_image(data_dir / "reference-lighthouse.png"),
            )
        config = demo_config(
            data_dir, server.base_url, setup.tasks_data_source_id, setup.videos_data_source_id
        )
        if configure is not None:
            # The same scenario on other backends (the production-path acceptance test).
            config = configure(config)
        engine = create_engine(config.settings.database_url)
        await upgrade(engine)
        await engine.dispose()
        runtime = await build_runtime(config, channels=channels)
        await prepare(runtime)
        daemon = Daemon(runtime)
        reviewer = Reviewer(server.base_url, REVIEWER_TOKEN, page_id, script or default_script())
        daemon_started = time.time()
        runner = asyncio.create_task(daemon.run())
        try:
            deadline = time.monotonic() + timeout_s
            while time.monotonic() < deadline:
                if runner.done():
                    runner.result()
                    break
                with contextlib.suppress(httpx.HTTPError):
                    if await reviewer.step():
                        break
                if on_progress is not None:
                    on_progress(await _progress(runtime.ctx.sessions, reviewer.last_status))
                await asyncio.sleep(review_interval_s)
            # The reviewer's last move is in Notion; wait until the daemon has polled
            # it in (its status is final in the database), then for its last writes.
            settle_until = time.monotonic() + 60
            while time.monotonic() < settle_until and not runner.done():
                if await _finished(runtime.ctx.sessions, page_id) and await daemon.is_idle():
                    break
                await asyncio.sleep(0.2)
        finally:
            daemon.stop()
            with contextlib.suppress(Exception):
                await runner
            await reviewer.close()
        summary = await _summary(runtime, server, page_id, started)
        summary.reviewer_actions = reviewer.actions
        _count_per_integration(summary, server, daemon_started)
        await runtime.close()
        return summary
    finally:
        if own_server:
            server.stop()


def _count_per_integration(
    summary: DemoSummary, server: LocalNotionServer, daemon_started: float
) -> None:
    log = server.request_log
    summary.daemon_requests = log.count(token=ADMIN_TOKEN, since=daemon_started)
    summary.daemon_429s = log.count(token=ADMIN_TOKEN, status=429, since=daemon_started)
    summary.setup_requests = log.count(token=ADMIN_TOKEN) - summary.daemon_requests
    summary.reviewer_requests = log.count(token=REVIEWER_TOKEN)
    summary.reviewer_429s = log.count(token=REVIEWER_TOKEN, status=429)


async def _finished(sessions: Any, page_id: str) -> bool:
    async with sessions() as session:
        status = (
            await session.execute(select(Task.status).where(Task.notion_page_id == page_id))
        ).scalar_one_or_none()
    return status is not None and Status(status) in (Status.DONE, Status.FAILED, Status.CANCELLED)


async def _progress(sessions: Any, notion_status: str) -> dict[str, Any]:
    async with sessions() as session:
        task = (await session.execute(select(Task))).scalars().first()
        clips = (await session.execute(select(Clip).order_by(Clip.number))).scalars().all()
    return {
        "status": Status(task.status).label if task else "(waiting for the poller)",
        "notion_status": notion_status,
        "clips": [(c.number, c.status, c.attempt) for c in clips],
        "cost_usd": round(task.cost_usd, 4) if task else 0.0,
    }


async def _summary(
    runtime: Any, server: LocalNotionServer, page_id: str, started: float
) -> DemoSummary:
    async with runtime.ctx.sessions() as session:
        task = (
            await session.execute(select(Task).where(Task.notion_page_id == page_id))
        ).scalar_one()
        events = (
            await session.execute(
                select(Event)
                .where(Event.task_id == task.id, Event.kind == "transition")
                .order_by(Event.id)
            )
        ).scalars()
        timeline = [Status(e.to_status).label for e in events if e.to_status]
        clips = (
            await session.execute(select(Clip).where(Clip.task_id == task.id).order_by(Clip.number))
        ).scalars()
        clip_rows = [{"number": c.number, "attempts": c.attempt, "status": c.status} for c in clips]
    calls: Counter[str] = Counter()
    for metric in runtime.metrics.provider_calls.collect():
        for sample in metric.samples:
            if sample.name.endswith("_total"):
                calls[sample.labels["kind"]] += int(sample.value)
    # The demo's own copy of the final video (the stored one may be remote).
    final = (
        runtime.ctx.task_dir(task.id) / final_file_name(task.final_round)
        if task.final_key
        else None
    )
    return DemoSummary(
        final_video=str(final.resolve()) if final else None,
        timeline=timeline,
        clips=clip_rows,
        provider_calls=dict(sorted(calls.items())),
        notion_requests=server.request_log.count(),
        notion_429s=server.request_log.count(status=429),
        cost_usd=round(task.cost_usd, 4),
        elapsed_s=round(time.monotonic() - started, 1),
        task_page_id=page_id,
        final_status=Status(task.status).label,
    )


def write_summary(summary: DemoSummary, path: Path) -> None:
    path.write_text(json.dumps(summary.as_json(), indent=2), encoding="utf-8")
