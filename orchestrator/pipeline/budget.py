"""Estimates before spending, and the channel budget that caps them.

Every figure comes from the model catalogue (orchestrator/providers/catalogue.py), with
the options a channel's clips are created with (resolution, audio), so an estimate and
the ledger price a call the same way.
"""

from __future__ import annotations

from orchestrator.pipeline.context import ProviderSet
from orchestrator.providers.catalogue import quote_clip, quote_image, quote_speech, quote_tokens

__all__ = [
    "STORYBOARD_TOKENS",
    "clip_cost",
    "estimate_task",
    "keyframe_cost",
    "narration_cost",
    "storyboard_cost",
]

# A storyboard call as we make it: ~1.5k prompt tokens (system instruction, brief,
# schema) and up to ~4k output tokens with thinking. The ledger records the real
# counts from usage_metadata; this only sizes the estimate before the call.
STORYBOARD_TOKENS = {"prompt": 1_500, "output": 1_500, "thinking": 2_500}


def storyboard_cost(providers: ProviderSet) -> float:
    model = providers.models.get("storyboard")
    if not model:
        return 0.0
    return quote_tokens(
        model,
        prompt_tokens=STORYBOARD_TOKENS["prompt"],
        output_tokens=STORYBOARD_TOKENS["output"],
        thinking_tokens=STORYBOARD_TOKENS["thinking"],
    ).usd


def keyframe_cost(providers: ProviderSet, count: int = 1) -> float:
    model = providers.models.get("image")
    return quote_image(model, count).usd if model else 0.0


def clip_cost(providers: ProviderSet, seconds: int, count: int = 1) -> float:
    model = providers.models.get("video")
    if not model:
        return 0.0
    one = quote_clip(
        model, seconds, resolution=providers.video_resolution, with_audio=providers.video_audio
    )
    return one.usd * count


def narration_cost(providers: ProviderSet, seconds: float, count: int = 1) -> float:
    model = providers.models.get("tts")
    return quote_speech(model, seconds=seconds).usd * count if model else 0.0


def estimate_task(providers: ProviderSet, clip_count: int, clip_seconds: int) -> float:
    """Everything one clean pass costs: storyboard, N+1 keyframes, N clips, narration."""
    return round(
        storyboard_cost(providers)
        + keyframe_cost(providers, clip_count + 1)
        + clip_cost(providers, clip_seconds, clip_count)
        + narration_cost(providers, clip_seconds, clip_count),
        4,
    )
