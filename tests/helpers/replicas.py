"""Replicas of the pipeline in one test process: one PipelineContext per "daemon".

Each replica has its own engine (its own connection pool), providers, work folder and
process token, and they share one database and one media store, as `reelgate run`
processes on several machines would. Tasks are seeded at *Generating Video* with
their keyframes on disk, so the video stage can submit for real (google-genai against
the fake Vertex server).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select

from orchestrator.channels import ChannelConfig, Channels
from orchestrator.db import upgrade
from orchestrator.db.engine import create_engine, session_factory
from orchestrator.db.models import Clip, CostEntry, Keyframe, Task
from orchestrator.metrics import Metrics
from orchestrator.pipeline.context import PipelineContext
from orchestrator.pipeline.pacing import CreatePacer
from orchestrator.providers.local_settings import LocalProviderSettings
from orchestrator.providers.registry import ProviderRegistry
from orchestrator.providers.settings import GoogleSettings
from orchestrator.settings import Settings
from orchestrator.state.status import Status
from storage.keys import keyframe_file_name
from storage.local import LocalStorage
from tests.fakes.vertex import tiny_png

__all__ = ["FakeClock", "clips_of", "ledger", "migrate", "replica", "seed_video_task"]

API_KEY = "AIzaFakeReplicaKey-0123456789abcdef"


async def migrate(url: str) -> None:
    """The shared database at head, as `reelgate migrate` leaves it."""
    engine = create_engine(url)
    await upgrade(engine)
    await engine.dispose()


async def clips_of(ctx: PipelineContext, task_id: int) -> list[Clip]:
    async with ctx.sessions() as session:
        rows = await session.execute(
            select(Clip).where(Clip.task_id == task_id).order_by(Clip.number)
        )
        return list(rows.scalars().all())


@dataclass
class FakeClock:
    """A clock tests move by hand; `monotonic` feeds the fake Vertex server."""

    now: datetime = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def monotonic(self) -> float:
        return self.now.timestamp()

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)

    def set(self, at: datetime) -> None:
        self.now = max(self.now, at)


@contextlib.asynccontextmanager
async def replica(
    url: str,
    root: Path,
    name: str,
    *,
    vertex_url: str,
    clock: Callable[[], datetime] | None = None,
    channel: dict[str, Any] | None = None,
    settings: dict[str, Any] | None = None,
    sleep: Callable[[float], Awaitable[None]] | None = None,
) -> AsyncIterator[PipelineContext]:
    """One replica on database `url`; its process token is `name`."""
    engine = create_engine(url)
    sessions = session_factory(engine)
    config = Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url=url,
        data_dir=root / name,
        **(settings or {}),
    )
    google = GoogleSettings(
        _env_file=None,  # type: ignore[call-arg]
        api_key=API_KEY,  # type: ignore[arg-type]
        base_url=vertex_url,
        timeout_ms=10_000,
        read_retry_attempts=1,
        rate_limit_initial_s=0.01,
        rate_limit_max_s=0.05,
    )
    now = clock or (lambda: datetime.now(UTC))
    pacer = CreatePacer(
        sessions,
        clock=now,
        sleep=sleep or asyncio.sleep,
        rpm_override=config.create_requests_per_minute,
    )
    registry = ProviderRegistry(
        google,
        LocalProviderSettings(_env_file=None, work_dir=root / name / "local"),  # type: ignore[call-arg]
        on_rate_limited=pacer.back_off,
    )
    default = ChannelConfig(name="default", provider="google", **(channel or {}))
    storage = LocalStorage(root / "media", base_url="http://127.0.0.1:9/media")
    ctx = PipelineContext(
        sessions=sessions,
        settings=config,
        channels=Channels({"default": default}, "test"),
        providers_for=registry.for_channel,
        storage_for=lambda _channel: storage,
        metrics=Metrics(),
        work_dir=root / name / "work",
        clock=now,
        pacer=pacer,
        process=name,
    )
    try:
        yield ctx
    finally:
        await registry.aclose()
        await engine.dispose()


async def seed_video_task(
    ctx: PipelineContext, *, clips: int, seconds: int = 8, also: tuple[PipelineContext, ...] = ()
) -> int:
    """A task at Generating Video with `clips` planned clips and their keyframes on disk
    (on `ctx`'s machine, and on each of `also`)."""
    async with ctx.sessions() as session, session.begin():
        task = Task(
            notion_page_id=f"page-{datetime.now(UTC).timestamp()}-{clips}",
            title="Lighthouse",
            status=Status.GENERATING_VIDEO.value,
            brief="A lighthouse at dusk",
            clip_count=clips,
            clip_seconds=seconds,
        )
        session.add(task)
        await session.flush()
        for number in range(1, clips + 2):
            session.add(Keyframe(task_id=task.id, number=number, attempt=1, status="complete"))
        for number in range(1, clips + 1):
            session.add(
                Clip(task_id=task.id, number=number, prompt=f"shot {number}", seconds=seconds)
            )
        task_id = task.id
    for each in (ctx, *also):
        work = each.task_dir(task_id)
        for number in range(1, clips + 2):
            (work / keyframe_file_name(number, 1)).write_bytes(tiny_png(f"kf{number}"))
    return task_id


async def ledger(ctx: PipelineContext, task_id: int) -> list[CostEntry]:
    async with ctx.sessions() as session:
        rows = await session.execute(
            select(CostEntry).where(CostEntry.task_id == task_id).order_by(CostEntry.id)
        )
        return list(rows.scalars().all())
