"""Settings of the embedded `local` provider (env prefix REELGATE_LOCAL_)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from orchestrator.errors import ProviderPermanentError

__all__ = ["LocalProviderSettings"]

X264Preset = Literal[
    "ultrafast",
    "superfast",
    "veryfast",
    "faster",
    "fast",
    "medium",
    "slow",
    "slower",
    "veryslow",
]


class LocalProviderSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="REELGATE_LOCAL_", env_file=".env", extra="ignore")

    # Operations (requests, frames, outputs) live here so renders survive restarts.
    work_dir: Path = Path("reelgate-data/local-provider")
    # Small defaults: the local provider must stay fast on a 2-core machine.
    # H.264 with yuv420p needs even dimensions.
    width_16_9: int = Field(default=640, ge=16, multiple_of=2)
    height_16_9: int = Field(default=360, ge=16, multiple_of=2)
    width_9_16: int = Field(default=360, ge=16, multiple_of=2)
    height_9_16: int = Field(default=640, ge=16, multiple_of=2)
    fps: int = Field(default=24, ge=1, le=120)
    x264_preset: X264Preset = "veryfast"
    crf: int = Field(default=23, ge=0, le=51)
    max_concurrent_renders: int = Field(default=2, ge=1)
    # Prompts containing one of these words (case-insensitive, whole word) come back
    # as ClipFiltered, so the pipeline's RAI path can be exercised without Veo.
    # From the environment as a JSON list: REELGATE_LOCAL_BLOCKED_WORDS='["gore"]'.
    blocked_words: tuple[str, ...] = ()
    # Extra seconds every render waits before finishing, to make operations stay
    # pending long enough for demos and operation-poller tests.
    render_delay_s: float = Field(default=0.0, ge=0.0)
    # Speak with espeak-ng when it is installed; False forces the silent track + SRT.
    use_espeak: bool = True
    # Speaking rate assumed for the silent track (words per second).
    words_per_second: float = Field(default=2.6, gt=0.0)
    ffmpeg_timeout_s: float = Field(default=300.0, gt=0.0)

    def size_for(self, aspect: str) -> tuple[int, int]:
        """Frame size (width, height) for an aspect ratio."""
        if aspect == "9:16":
            return self.width_9_16, self.height_9_16
        if aspect == "16:9":
            return self.width_16_9, self.height_16_9
        raise ProviderPermanentError(f"unsupported aspect ratio {aspect!r}; use 16:9 or 9:16")
