"""Provider latency: every call a channel's providers make, timed.

`timed_providers(registry.for_channel, metrics)` hands the pipeline the same
`ProviderSet`s with each capability wrapped, so `reelgate_provider_call_seconds`
{provider, kind} covers every call without the stages timing anything. Failed
calls are timed too: a provider that answers errors slowly is worth seeing, and
counted in `reelgate_provider_errors` {provider, kind}.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, cast

from orchestrator.metrics import Metrics
from orchestrator.providers.base import ClipPoll, Image, Narration, ProviderSet, Storyboard

if TYPE_CHECKING:
    from orchestrator.channels import ChannelConfig

__all__ = ["timed_providers"]


class _Timed:
    """One capability of a provider, with each call observed in the histogram."""

    def __init__(self, inner: Any, provider: str, metrics: Metrics) -> None:
        self._inner = inner
        self._provider = provider
        self._metrics = metrics
        self.name: str = inner.name

    def __getattr__(self, attribute: str) -> Any:
        return getattr(self._inner, attribute)

    def _failed(self, kind: str) -> None:
        self._metrics.provider_errors.labels(provider=self._provider, kind=kind).inc()

    def _observe(self, kind: str, started: float) -> None:
        self._metrics.provider_call_seconds.labels(provider=self._provider, kind=kind).observe(
            time.monotonic() - started
        )

    async def plan_storyboard(self, *args: Any, **kwargs: Any) -> Storyboard:
        started = time.monotonic()
        try:
            return cast(Storyboard, await self._inner.plan_storyboard(*args, **kwargs))
        except Exception:
            self._failed("storyboard")
            raise
        finally:
            self._observe("storyboard", started)

    async def render_keyframe(self, *args: Any, **kwargs: Any) -> Image:
        started = time.monotonic()
        try:
            return cast(Image, await self._inner.render_keyframe(*args, **kwargs))
        except Exception:
            self._failed("keyframe")
            raise
        finally:
            self._observe("keyframe", started)

    async def start_clip(self, *args: Any, **kwargs: Any) -> str:
        started = time.monotonic()
        try:
            return cast(str, await self._inner.start_clip(*args, **kwargs))
        except Exception:
            self._failed("clip_create")
            raise
        finally:
            self._observe("clip_create", started)

    async def poll_clip(self, *args: Any, **kwargs: Any) -> ClipPoll:
        started = time.monotonic()
        try:
            return cast(ClipPoll, await self._inner.poll_clip(*args, **kwargs))
        except Exception:
            self._failed("clip_poll")
            raise
        finally:
            self._observe("clip_poll", started)

    async def narrate(self, *args: Any, **kwargs: Any) -> Narration:
        started = time.monotonic()
        try:
            return cast(Narration, await self._inner.narrate(*args, **kwargs))
        except Exception:
            self._failed("narration")
            raise
        finally:
            self._observe("narration", started)


def timed_providers(
    providers_for: Callable[[ChannelConfig], ProviderSet], metrics: Metrics
) -> Callable[[ChannelConfig], ProviderSet]:
    """`providers_for`, with every capability of the sets it returns timed."""
    wrapped: dict[int, tuple[ProviderSet, ProviderSet]] = {}

    def timed(channel: ChannelConfig) -> ProviderSet:
        inner = providers_for(channel)
        # The registry hands out one set per distinct channel setup: wrap each once.
        # The original is kept alongside so its id is never reused by another set.
        hit = wrapped.get(id(inner))
        if hit is None or hit[0] is not inner:
            hit = (
                inner,
                dataclasses.replace(
                    inner,
                    storyboard=_Timed(inner.storyboard, inner.name, metrics),
                    keyframes=_Timed(inner.keyframes, inner.name, metrics),
                    clips=_Timed(inner.clips, inner.name, metrics),
                    narration=_Timed(inner.narration, inner.name, metrics),
                ),
            )
            wrapped[id(inner)] = hit
        return hit[1]

    return timed
