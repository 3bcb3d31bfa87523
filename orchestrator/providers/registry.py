"""Where providers are built: one `ProviderSet` per channel, from the provider settings.

A channel names its provider kind (`local` or `google`), may override model ids and
the number of automatic rephrases after a safety filter. The registry builds each
distinct combination once, on first use, and hands the same instances to every
channel that asks for it, so they share one HTTP pool or one render queue. The
daemon makes one registry at start (orchestrator/daemon/runtime.py), checks every
channel's models against the catalogue there (`check`), and closes it at exit.

To add a provider kind: implement the protocols of `orchestrator.providers.base`,
then build it in `ProviderRegistry._build`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date
from typing import TYPE_CHECKING, Any

from orchestrator.errors import ConfigError
from orchestrator.providers.base import ProviderSet
from orchestrator.providers.catalogue import CAPABILITIES, ENV_VARS, Capability
from orchestrator.providers.google import GoogleProvider, RateLimitListener, check_models
from orchestrator.providers.local import (
    CLIP_MODEL,
    KEYFRAME_MODEL,
    STORYBOARD_MODEL,
    VOICE_MODEL,
    LocalProvider,
)
from orchestrator.providers.local_settings import LocalProviderSettings
from orchestrator.providers.settings import GoogleSettings

if TYPE_CHECKING:
    from orchestrator.channels import ChannelConfig

__all__ = ["LOCAL_MODELS", "ProviderRegistry"]

# The model ids the local provider's costs are recorded under (all priced at $0).
LOCAL_MODELS = {
    "storyboard": STORYBOARD_MODEL,
    "image": KEYFRAME_MODEL,
    "video": CLIP_MODEL,
    "tts": VOICE_MODEL,
}
# Capabilities a channel may override, as named in channels.toml `[models]`.
_CAPABILITIES = ("storyboard", "image", "video", "tts")
# Automatic rephrases after a safety filter when neither channel nor settings say.
_LOCAL_RAI_REPHRASE_RETRIES = 1


class ProviderRegistry:
    """The providers of every channel, built on first use and shared between channels.

    `for_channel(channel)` (or calling the registry) returns the channel's
    `ProviderSet`; `aclose()` closes every provider made, exactly once.
    """

    def __init__(
        self,
        google: GoogleSettings,
        local: LocalProviderSettings,
        *,
        local_provider: LocalProvider | None = None,
        on_rate_limited: RateLimitListener | None = None,
        on_retry: Callable[[str, str], None] | None = None,
    ) -> None:
        """`local_provider` replaces the one built from `local` (demos and tests share one).

        `on_rate_limited` hears every 429 on a paid create (the daemon backs off the
        whole cluster: orchestrator/pipeline/pacing.py); `on_retry(provider, operation)`
        hears of every call a provider sends again (the metrics count them).
        """
        self._on_rate_limited = on_rate_limited
        self._on_retry = on_retry
        self._google = google
        self._local_settings = local
        self._local = local_provider
        self._cache: dict[tuple[Any, ...], ProviderSet] = {}

    def for_channel(self, channel: ChannelConfig) -> ProviderSet:
        """The providers `channel` uses; the same instance for the same request."""
        models = channel.models.model_dump(exclude_none=True) if channel.models else {}
        retries = channel.rai_rephrase_retries
        key = (channel.provider, tuple(sorted(models.items())), retries)
        if key not in self._cache:
            self._cache[key] = self._build(channel.provider, models, retries)
        return self._cache[key]

    def __call__(self, channel: ChannelConfig) -> ProviderSet:
        return self.for_channel(channel)

    def google_settings(self, channel: ChannelConfig) -> GoogleSettings:
        """The Google settings `channel` runs with: the global ones plus its overrides."""
        models = channel.models.model_dump(exclude_none=True) if channel.models else {}
        overrides = {
            f"{name}_model": value for name, value in models.items() if name in _CAPABILITIES
        }
        return self._google.model_copy(update=overrides)

    def check(self, channels: Iterable[ChannelConfig], *, today: date | None = None) -> None:
        """Every google channel's models are catalogued and not retired; else ConfigError.

        Run at start, so a mistyped or retired model stops the daemon with the setting
        to change instead of failing at the first paid call.
        """
        problems: list[str] = []
        for channel in channels:
            if channel.provider != "google":
                continue
            overridden = channel.models.model_dump(exclude_none=True) if channel.models else {}
            where: dict[Capability, str] = {
                cap: (
                    f"[channels.{channel.name}.models] {cap}"
                    if cap in overridden
                    else ENV_VARS[cap]
                )
                for cap in CAPABILITIES
            }
            try:
                check_models(self.google_settings(channel), today=today, where=where)
            except ConfigError as exc:
                problems.append(f"channel {channel.name!r}: {exc}")
        if problems:
            raise ConfigError("; ".join(problems))

    async def aclose(self) -> None:
        """Close every provider made (HTTP pools, running renders) exactly once."""
        seen: set[int] = set()
        for provider in [self._local, *(p.clips for p in self._cache.values())]:
            if provider is None or id(provider) in seen:
                continue
            seen.add(id(provider))
            closer = getattr(provider, "aclose", None)
            if closer is not None:
                await closer()

    def _build(self, kind: str, models: dict[str, str], retries: int | None) -> ProviderSet:
        if kind == "local":
            if self._local is None:
                self._local = LocalProvider(self._local_settings)
            local = self._local
            return ProviderSet(
                "local",
                local,
                local,
                local,
                local,
                dict(LOCAL_MODELS),
                rai_rephrase_retries=_LOCAL_RAI_REPHRASE_RETRIES if retries is None else retries,
            )
        settings = self._google.model_copy(
            update={f"{n}_model": v for n, v in models.items() if n in _CAPABILITIES}
        )
        google = GoogleProvider(
            settings, on_rate_limited=self._on_rate_limited, on_retry=self._on_retry
        )
        return ProviderSet(
            "google",
            google,
            google,
            google,
            google,
            {
                "storyboard": settings.storyboard_model,
                "image": settings.image_model,
                "video": settings.video_model,
                "tts": settings.tts_model,
            },
            rai_rephrase_retries=settings.rai_rephrase_retries if retries is None else retries,
            video_resolution=settings.video_resolution,
            video_audio=settings.video_generate_audio,
        )
