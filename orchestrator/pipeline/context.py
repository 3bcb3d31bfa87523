"""What every pipeline step needs, built once by the daemon."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from notion_sync.settings import NotionSettings
from orchestrator.channels import ChannelConfig, Channels
from orchestrator.db.types import utcnow
from orchestrator.metrics import Metrics
from orchestrator.pipeline.pacing import CreatePacer
from orchestrator.providers.base import ProviderSet
from orchestrator.settings import Settings
from orchestrator.state.owners import this_process
from storage.base import Storage

__all__ = ["PipelineContext", "ProviderSet"]


@dataclass
class PipelineContext:
    sessions: async_sessionmaker[AsyncSession]
    settings: Settings
    channels: Channels
    providers_for: Callable[[ChannelConfig], ProviderSet]
    storage_for: Callable[[ChannelConfig], Storage]
    metrics: Metrics
    work_dir: Path
    clock: Callable[[], datetime] = utcnow
    # Notion user id of our integration: lines and rows it edited are not reviews.
    bot_user_id: str | None = None
    # Property names of this workspace, for schema-drift messages (pipeline/drift.py).
    notion: NotionSettings | None = None

    @property
    def notion_settings(self) -> NotionSettings:
        # model_construct: the defaults, without reading the environment.
        return self.notion or NotionSettings.model_construct()

    # Cluster-wide create slots (built from `sessions` and the settings when None).
    pacer: CreatePacer | None = None
    # Set by a submit in this process: the operation loop looks at its schedule again.
    operations_changed: asyncio.Event = field(default_factory=asyncio.Event)
    # Set when a task may have become runnable here (a Notion change applied, a task
    # woken by its last operation): idle workers look at once instead of at the end
    # of their idle back-off (Supervisor.loop, REELGATE_WORKER_IDLE_MAX_SECONDS).
    work_ready: asyncio.Event = field(default_factory=asyncio.Event)
    # Each model's learned clip latency and when it was read (pipeline/latency.py).
    learned_latencies: dict[str, tuple[datetime, float | None]] = field(default_factory=dict)
    # This process, as named in the leases and operation claims it takes.
    process: str = field(default_factory=lambda: str(this_process()))

    def __post_init__(self) -> None:
        if self.pacer is None:
            self.pacer = CreatePacer(
                self.sessions,
                clock=self.clock,
                rpm_override=self.settings.create_requests_per_minute,
            )

    @property
    def create_pacer(self) -> CreatePacer:
        assert self.pacer is not None
        return self.pacer

    def task_dir(self, task_id: int) -> Path:
        path = self.work_dir / f"task_{task_id:05d}"
        path.mkdir(parents=True, exist_ok=True)
        return path
