"""Generation providers: one protocol per capability, one price table, one poll loop."""

from __future__ import annotations

from orchestrator.providers.base import (
    Charge,
    ClipDone,
    ClipFailed,
    ClipFiltered,
    ClipPending,
    ClipPoll,
    ClipProvider,
    Image,
    KeyframeProvider,
    Narration,
    NarrationProvider,
    Shot,
    Storyboard,
    StoryboardProvider,
)
from orchestrator.providers.google import CLIP_SECONDS, GoogleProvider
from orchestrator.providers.google_client import SubmitOutcomeUnknown
from orchestrator.providers.google_safety import rephrase_for_safety, should_rephrase
from orchestrator.providers.polling import ClipOutcome, TimedOut, backoff_delay, wait_for_clip
from orchestrator.providers.pricing import PRICES, Price, charge_for, price_for
from orchestrator.providers.settings import GoogleSettings

__all__ = [
    "CLIP_SECONDS",
    "PRICES",
    "Charge",
    "ClipDone",
    "ClipFailed",
    "ClipFiltered",
    "ClipOutcome",
    "ClipPending",
    "ClipPoll",
    "ClipProvider",
    "GoogleProvider",
    "GoogleSettings",
    "Image",
    "KeyframeProvider",
    "Narration",
    "NarrationProvider",
    "Price",
    "Shot",
    "Storyboard",
    "StoryboardProvider",
    "SubmitOutcomeUnknown",
    "TimedOut",
    "backoff_delay",
    "charge_for",
    "price_for",
    "rephrase_for_safety",
    "should_rephrase",
    "wait_for_clip",
]
