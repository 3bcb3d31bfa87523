"""Generation providers: one protocol per capability, one registry, one price table.

- `base`: the protocols the pipeline calls (`start_clip(ClipRequest)` / `poll_clip`, ...)
  and the values they return; `ProviderSet` is what one channel uses.
- `registry`: `ProviderRegistry` builds each channel's `ProviderSet` from the settings.
- `google` (Vertex AI via google-genai) and `local` (ffmpeg/Pillow on this machine).
- `safety`: the provider-neutral prompt rephrase after a safety filter.
- `backoff`: the poll cadence of long-running operations.
- `pricing`: what each model costs.

Provider errors (including `SubmitOutcomeUnknown`) live in `orchestrator.errors`.
"""

from __future__ import annotations

from orchestrator.providers.backoff import backoff_delay
from orchestrator.providers.base import (
    Aspect,
    Charge,
    ClipDone,
    ClipFailed,
    ClipFiltered,
    ClipPending,
    ClipPoll,
    ClipProvider,
    ClipRequest,
    Image,
    KeyframeProvider,
    Narration,
    NarrationProvider,
    ProviderSet,
    Shot,
    Storyboard,
    StoryboardProvider,
)
from orchestrator.providers.google import CLIP_SECONDS, GoogleProvider
from orchestrator.providers.local import LocalProvider
from orchestrator.providers.local_settings import LocalProviderSettings
from orchestrator.providers.pricing import PRICES, Price, charge_for, price_for
from orchestrator.providers.registry import ProviderRegistry
from orchestrator.providers.safety import rephrase_for_safety, should_rephrase
from orchestrator.providers.settings import GoogleSettings

__all__ = [
    "CLIP_SECONDS",
    "PRICES",
    "Aspect",
    "Charge",
    "ClipDone",
    "ClipFailed",
    "ClipFiltered",
    "ClipPending",
    "ClipPoll",
    "ClipProvider",
    "ClipRequest",
    "GoogleProvider",
    "GoogleSettings",
    "Image",
    "KeyframeProvider",
    "LocalProvider",
    "LocalProviderSettings",
    "Narration",
    "NarrationProvider",
    "Price",
    "ProviderRegistry",
    "ProviderSet",
    "Shot",
    "Storyboard",
    "StoryboardProvider",
    "backoff_delay",
    "charge_for",
    "price_for",
    "rephrase_for_safety",
    "should_rephrase",
]
