"""Estimates before spending, and the channel budget that caps them."""

from __future__ import annotations

from orchestrator.pipeline.context import ProviderSet
from orchestrator.providers.pricing import price_for

__all__ = ["clip_cost", "estimate_task", "keyframe_cost", "narration_cost", "storyboard_cost"]


def _unit_price(providers: ProviderSet, capability: str) -> float:
    model = providers.models.get(capability)
    return price_for(model).usd if model else 0.0


def storyboard_cost(providers: ProviderSet) -> float:
    return _unit_price(providers, "storyboard")


def keyframe_cost(providers: ProviderSet, count: int = 1) -> float:
    return _unit_price(providers, "image") * count


def clip_cost(providers: ProviderSet, seconds: int, count: int = 1) -> float:
    return _unit_price(providers, "video") * seconds * count


def narration_cost(providers: ProviderSet, seconds: float, count: int = 1) -> float:
    return _unit_price(providers, "tts") * (seconds / 60.0) * count


def estimate_task(providers: ProviderSet, clip_count: int, clip_seconds: int) -> float:
    """Everything one clean pass costs: storyboard, N+1 keyframes, N clips, narration."""
    return round(
        storyboard_cost(providers)
        + keyframe_cost(providers, clip_count + 1)
        + clip_cost(providers, clip_seconds, clip_count)
        + narration_cost(providers, clip_seconds, clip_count),
        4,
    )
