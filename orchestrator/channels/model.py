"""What a channel is: pydantic models of one channel's settings, and the set of them."""

from __future__ import annotations

import typing
from collections.abc import Iterator, Mapping
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from orchestrator.state.labels import StatusLabels

__all__ = [
    "DEFAULT_CHANNEL",
    "STAGE_NAMES",
    "ChannelConfig",
    "Channels",
    "ExportFormat",
    "ModelOverrides",
    "Provider",
    "ReviewLabels",
    "StageName",
    "StorageBackend",
    "StuckAfter",
    "VideoDefaults",
]

DEFAULT_CHANNEL = "default"

Provider = Literal["local", "google"]
# The names a channels file may use for stages (auto_approve); the stages themselves,
# with their statuses, are orchestrator.state.status.STAGES.
StageName = Literal["storyboard", "keyframes", "video", "audio", "final"]
StorageBackend = Literal["local", "r2", "notion"]
STAGE_NAMES: tuple[StageName, ...] = typing.get_args(StageName)


class _Strict(BaseModel):
    # strict: a config file saying clip_count = "6" or budget_usd = true is a mistake
    # worth reporting, not something to coerce silently.
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class ModelOverrides(_Strict):
    """Provider model names; None = the provider's default model for that capability."""

    storyboard: str | None = None
    image: str | None = None
    video: str | None = None
    tts: str | None = None


class ReviewLabels(_Strict):
    """A channel's own words for the review issue classes, on top of the built-in ones
    (orchestrator/review/classes.py): a line labelled with one of them routes there.

        [channels.shorts.review_labels]
        narrative = ["plot hole", "pacing"]
        audio = ["lip sync"]
    """

    narrative: tuple[str, ...] = Field(default=(), strict=False)
    audio: tuple[str, ...] = Field(default=(), strict=False)
    keyframe: tuple[str, ...] = Field(default=(), strict=False)

    def as_mapping(self) -> dict[str, tuple[str, ...]]:
        return {"narrative": self.narrative, "audio": self.audio, "keyframe": self.keyframe}


class VideoDefaults(_Strict):
    """Defaults for new tasks of the channel (a task may still set its own)."""

    clip_count: int = Field(default=6, ge=1, le=60)
    clip_seconds: Literal[4, 6, 8] = 8
    aspect_ratio: Literal["16:9", "9:16"] = "16:9"


class ExportFormat(_Strict):
    """One rendition of the final video. `height` is the 480p/720p/1080p class."""

    format: Literal["mp4", "webm", "mov"]
    height: Literal[480, 720, 1080]


class StuckAfter(_Strict):
    """Minutes a task may stay in a stage's working status (Planning, Generating
    Video, ...) before it counts as stuck: its owner gets one comment, the
    `reelgate_stuck_tasks` gauge counts it and `reelgate status` flags it."""

    storyboard: int = Field(default=20, ge=1)
    keyframes: int = Field(default=45, ge=1)
    video: int = Field(default=90, ge=1)
    audio: int = Field(default=30, ge=1)
    final: int = Field(default=45, ge=1)

    def minutes(self, stage: str) -> int:
        return int(getattr(self, stage))


class ChannelConfig(_Strict):
    """Settings of one channel, after inheriting the file's [defaults]."""

    name: str
    provider: Provider = "local"
    models: ModelOverrides = ModelOverrides()
    defaults: VideoDefaults = VideoDefaults()
    # Gates that pass without a human; TOML gives an array, so the set is built from it.
    auto_approve: frozenset[StageName] = Field(default=frozenset(), strict=False)
    budget_usd: float | None = Field(default=None, gt=0, allow_inf_nan=False)
    # Spending more than this in an hour fires the ReelgateSpendOverBudget alert
    # (exported as reelgate_channel_budget_per_hour_usd); None: no alert.
    budget_per_hour_usd: float | None = Field(default=None, gt=0, allow_inf_nan=False)
    stuck_after: StuckAfter = StuckAfter()
    max_review_rounds: int = Field(default=3, ge=1, le=100)
    # A step failing transiently this many times in a row (with back-off between
    # tries, REELGATE_STEP_RETRY_*) ends in Failed with the reason. With the default
    # back-off, 10 failures is about 75 minutes of trying.
    max_step_failures: int = Field(default=10, ge=1, le=1000)
    storage: StorageBackend | None = None  # None: the daemon's global storage setting
    voice: str = ""  # "": the provider's default voice
    exports: tuple[ExportFormat, ...] = Field(
        default=(ExportFormat(format="mp4", height=1080),), strict=False
    )
    negative_prompt: str | None = None
    rai_rephrase_retries: int | None = Field(default=None, ge=0, le=10)
    review_labels: ReviewLabels = ReviewLabels()

    def auto_approves(self, stage: str) -> bool:
        """True when the review gate of `stage` passes without a human."""
        return stage in self.auto_approve


class Channels:
    """The channels of one file; `get` never fails (unknown names get `default`).

    `status_labels` are the file's `[statuses]` (what the Notion board calls each
    status); the entry points install them for the process (orchestrator.state.labels).
    """

    def __init__(
        self,
        channels: Mapping[str, ChannelConfig],
        source: str,
        *,
        status_labels: StatusLabels | None = None,
    ) -> None:
        if DEFAULT_CHANNEL not in channels:
            raise ValueError("a channel set must contain the default channel")
        self.status_labels = status_labels or StatusLabels.default()
        self._channels = dict(channels)
        self._folded: dict[str, ChannelConfig] = {}
        for name, config in channels.items():
            self._folded.setdefault(name.casefold(), config)
        self.source = source

    @property
    def default(self) -> ChannelConfig:
        return self._channels[DEFAULT_CHANNEL]

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self._channels)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self._find(name) is not None

    def __iter__(self) -> Iterator[ChannelConfig]:
        return iter(self._channels.values())

    def __len__(self) -> int:
        return len(self._channels)

    def get(self, name: str | None) -> ChannelConfig:
        """The named channel; `default` for None, blank or unknown names.

        Matching is exact first, then case-insensitive: Notion select options are
        typed by people ("Shorts" for `[channels.shorts]`).
        """
        if name is None:
            return self.default
        return self._find(name) or self.default

    def _find(self, name: str) -> ChannelConfig | None:
        name = name.strip()
        if not name:
            return None
        return self._channels.get(name) or self._folded.get(name.casefold())

    def __repr__(self) -> str:
        return f"Channels(source={self.source!r}, names={self.names!r})"
