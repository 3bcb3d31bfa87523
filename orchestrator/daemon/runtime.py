"""Build everything the daemon runs on from the settings, and take it down again."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncEngine

from notion_sync.client import NotionClient
from notion_sync.writer import NotionWriter
from orchestrator.channels import ChannelConfig, Channels, load_channels
from orchestrator.config import AppConfig
from orchestrator.db.engine import create_engine, session_factory
from orchestrator.metrics import Metrics
from orchestrator.pipeline.context import PipelineContext
from orchestrator.pipeline.pacing import CreatePacer
from orchestrator.providers.local import LocalProvider
from orchestrator.providers.registry import ProviderRegistry
from orchestrator.providers.timed import timed_providers
from orchestrator.state.labels import install_labels
from storage.base import Storage
from storage.factory import build_storage

__all__ = ["Runtime", "build_runtime", "prepare"]

log = structlog.get_logger(__name__)


@dataclass
class Runtime:
    config: AppConfig
    engine: AsyncEngine
    ctx: PipelineContext
    notion: NotionClient
    writer: NotionWriter
    metrics: Metrics
    closers: list[Callable[[], Any]] = field(default_factory=list)

    async def close(self) -> None:
        for closer in reversed(self.closers):
            result = closer()
            if hasattr(result, "__await__"):
                await result
        await self.notion.close()
        await self.engine.dispose()


class _Storages:
    def __init__(self, config: AppConfig, notion: NotionClient, metrics: Metrics) -> None:
        self._config = config
        self._notion = notion
        self._metrics = metrics
        self._cache: dict[str, Storage] = {}

    def _count_retry(self, backend: str, reason: str) -> None:
        self._metrics.storage_retries.labels(backend=backend, reason=reason).inc()

    def __call__(self, channel: ChannelConfig) -> Storage:
        backend = channel.storage or self._config.storage.backend
        if backend not in self._cache:
            settings = self._config.storage.model_copy(update={"backend": backend})
            self._cache[backend] = build_storage(
                settings, notion_client=self._notion, on_retry=self._count_retry
            )
        return self._cache[backend]


async def build_runtime(
    config: AppConfig,
    *,
    channels: Channels | None = None,
    metrics: Metrics | None = None,
    local_provider: LocalProvider | None = None,
    work_dir: Path | None = None,
) -> Runtime:
    settings = config.settings
    engine = create_engine(settings.database_url)
    metrics = metrics or Metrics()
    notion = NotionClient(config.notion)
    channels = channels or load_channels(settings.channels_file)
    # The board's status labels hold for the whole process (see state/labels.py).
    install_labels(channels.status_labels)
    sessions = session_factory(engine, info={"metrics": metrics})
    # Create slots per model, cluster-wide; a 429 on a create backs off every replica.
    pacer = CreatePacer(sessions, rpm_override=settings.create_requests_per_minute)
    providers = ProviderRegistry(
        config.google,
        config.local,
        local_provider=local_provider,
        on_rate_limited=pacer.back_off,
        on_retry=lambda provider, operation: metrics.provider_retries.labels(
            provider=provider, operation=operation
        ).inc(),
    )
    # An unknown or retired model fails here, at start, with the setting to change.
    providers.check(channels)
    ctx = PipelineContext(
        sessions=sessions,
        settings=settings,
        channels=channels,
        providers_for=timed_providers(providers.for_channel, metrics),
        storage_for=_Storages(config, notion, metrics),
        metrics=metrics,
        work_dir=work_dir or settings.data_dir / "work",
        notion=config.notion,
        pacer=pacer,
    )
    runtime = Runtime(config, engine, ctx, notion, NotionWriter(notion, config.notion), metrics)
    runtime.closers.append(providers.aclose)
    return runtime


async def prepare(runtime: Runtime, *, check_schema: bool = True) -> None:
    """Start-up checks and services: Notion schema, our bot identity, the file server."""
    from notion_sync.schema import ensure_schema
    from orchestrator.notion_setup import label_mapping
    from storage.file_server import FileServer
    from storage.local import LocalStorage

    if check_schema:
        # A board whose Status options differ from the labels in use fails here, once,
        # with the fix; it is never reverted card by card.
        report = await ensure_schema(
            runtime.notion, runtime.config.notion, status_labels=label_mapping()
        )
        for advice in report.advice:
            log.warning("notion_schema_advice", advice=advice)
    me = await runtime.notion.request("GET", "/v1/users/me")
    runtime.ctx.bot_user_id = str(me.get("id") or "") or None
    storage = runtime.ctx.storage_for(runtime.ctx.channels.get(None))
    if isinstance(storage, LocalStorage) and not storage.base_url:
        # Notion (and reviewers' browsers) fetch media over HTTP: serve the folder.
        storage.root.mkdir(parents=True, exist_ok=True)
        server = FileServer(storage.root, host=runtime.config.settings.http_host)
        storage.base_url = server.start()
        runtime.closers.append(server.stop)
        log.info("serve_local_media", url=storage.base_url)
