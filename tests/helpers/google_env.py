"""A pipeline on the google provider against the fake Vertex server, one channel "x"."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from pathlib import Path

from notion_sync.local_api.server import LocalNotionServer
from orchestrator.channels import ChannelConfig, Channels
from orchestrator.config import AppConfig
from orchestrator.providers.settings import GoogleSettings
from tests.fakes.vertex import FakeVertex
from tests.fixtures.pipeline import PipelineEnv, make_pipeline_env

__all__ = ["EnvFactory", "google_env_factory"]

EnvFactory = Callable[..., AbstractAsyncContextManager[PipelineEnv]]


def google_env_factory(
    tmp_path: Path,
    server: LocalNotionServer,
    vertex: FakeVertex,
    *,
    api_key: str,
    title: str,
    shots: list[tuple[str, str, str]],
) -> EnvFactory:
    """`make(**channel)` builds an env whose channel "x" takes those settings.

    The fake storyboard model answers `title` and `shots` (visual, motion, narration).
    """
    vertex.json_text = json.dumps(
        {
            "title": title,
            "shots": [
                {"visual_prompt": v, "motion_prompt": m, "narration": n} for v, m, n in shots
            ],
        }
    )

    def make(**channel: object) -> AbstractAsyncContextManager[PipelineEnv]:
        def configure(config: AppConfig) -> AppConfig:
            google = GoogleSettings(
                _env_file=None,  # type: ignore[call-arg]
                api_key=api_key,  # type: ignore[arg-type]
                base_url=vertex.url,
                timeout_ms=10_000,
                read_retry_attempts=1,
            )
            settings = config.settings.model_copy(
                update={"clip_poll_initial_seconds": 0.05, "clip_poll_max_seconds": 0.2}
            )
            return dataclasses.replace(config, google=google, settings=settings)

        x = ChannelConfig(name="x", provider="google", **channel)  # type: ignore[arg-type]
        channels = Channels({"default": ChannelConfig(name="default"), "x": x}, "test")
        return make_pipeline_env(tmp_path, server, channels=channels, configure=configure)

    return make
