"""What every pipeline step needs, built once by the daemon."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from notion_sync.settings import NotionSettings
from orchestrator.channels import ChannelConfig, Channels
from orchestrator.db.types import utcnow
from orchestrator.metrics import Metrics
from orchestrator.providers.base import ProviderSet
from orchestrator.settings import Settings
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

    def task_dir(self, task_id: int) -> Path:
        path = self.work_dir / f"task_{task_id:05d}"
        path.mkdir(parents=True, exist_ok=True)
        return path
