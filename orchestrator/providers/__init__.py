"""Generation providers: one protocol per capability, one registry, one model catalogue.

- `base`: the protocols the pipeline calls (`start_clip(ClipRequest)` / `poll_clip`, ...)
  and the values they return; `ProviderSet` is what one channel uses.
- `registry`: `ProviderRegistry` builds each channel's `ProviderSet` from the settings.
- `google` (Vertex AI via google-genai) and `local` (ffmpeg/Pillow on this machine).
- `safety`: the provider-neutral prompt rephrase after a safety filter.
- `backoff`: the poll cadence of long-running operations.
- `catalogue`: every model reelgate may call: capability, prices, retirement, latency
  and quota (`model_entry`, `quote_clip`, `quote_tokens`, `quote_image`, `quote_speech`).
- `gcs`: reading gs:// results with the project's credentials.

Provider errors (including `SubmitOutcomeUnknown`) live in `orchestrator.errors`.
"""

from __future__ import annotations

from orchestrator.providers.backoff import backoff_delay, poll_delay
from orchestrator.providers.base import (
    Aspect,
    Charge,
    ClipDone,
    ClipFailed,
    ClipFiltered,
    ClipOutcomeUnknown,
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
from orchestrator.providers.catalogue import (
    CAPABILITIES,
    CATALOGUE,
    ENV_VARS,
    Capability,
    ModelEntry,
    charge_for,
    model_entry,
    quote_clip,
    quote_image,
    quote_speech,
    quote_tokens,
    retirement_problem,
    unbilled,
)
from orchestrator.providers.google import CLIP_SECONDS, GoogleProvider
from orchestrator.providers.local import LocalProvider
from orchestrator.providers.local_settings import LocalProviderSettings
from orchestrator.providers.registry import ProviderRegistry
from orchestrator.providers.safety import rephrase_for_safety, should_rephrase
from orchestrator.providers.settings import GoogleSettings

__all__ = [
    "CAPABILITIES",
    "CATALOGUE",
    "CLIP_SECONDS",
    "ENV_VARS",
    "Aspect",
    "Capability",
    "Charge",
    "ClipDone",
    "ClipFailed",
    "ClipFiltered",
    "ClipOutcomeUnknown",
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
    "ModelEntry",
    "Narration",
    "NarrationProvider",
    "ProviderRegistry",
    "ProviderSet",
    "Shot",
    "Storyboard",
    "StoryboardProvider",
    "backoff_delay",
    "charge_for",
    "model_entry",
    "poll_delay",
    "quote_clip",
    "quote_image",
    "quote_speech",
    "quote_tokens",
    "rephrase_for_safety",
    "retirement_problem",
    "should_rephrase",
    "unbilled",
]
