"""The one price table: what each model costs, and a call turned into a `Charge`.

Prices are list prices in USD (Vertex AI, checked late 2025); they feed the cost
ledger and budgets, not invoices. Keys are model-name prefixes: the longest
matching prefix wins, so a new dated version (`veo-3.1-generate-002`) inherits
its family's price. A model with no entry is a configuration error, raised when
a provider is built, so the ledger never silently records $0 for a paid call.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from orchestrator.errors import ConfigError
from orchestrator.providers.base import Charge

__all__ = [
    "PRICES",
    "Price",
    "Unit",
    "charge_for",
    "price_for",
]

Unit = Literal["second", "image", "minute", "request"]


@dataclass(frozen=True)
class Price:
    unit: Unit
    usd: float  # per unit
    usd_with_audio: float | None = None  # video models that also render a soundtrack


PRICES: dict[str, Price] = {
    # Veo: per second of generated video; audio roughly doubles the price.
    "veo-3.1-generate": Price("second", 0.20, usd_with_audio=0.40),
    "veo-3.1-fast-generate": Price("second", 0.10, usd_with_audio=0.15),
    "veo-3.0-generate": Price("second", 0.20, usd_with_audio=0.40),
    "veo-3.0-fast-generate": Price("second", 0.10, usd_with_audio=0.15),
    "veo-2.0-generate": Price("second", 0.50),
    # Images: per image.
    "gemini-2.5-flash-image": Price("image", 0.039),
    "gemini-3-pro-image": Price("image", 0.134),
    "imagen-4.0-generate": Price("image", 0.04),
    "imagen-4.0-fast-generate": Price("image", 0.02),
    "imagen-4.0-ultra-generate": Price("image", 0.06),
    # Speech: per minute of audio (audio tokens: 25/s at $10 or $20 per 1M).
    "gemini-2.5-flash-tts": Price("minute", 0.015),
    "gemini-2.5-flash-preview-tts": Price("minute", 0.015),
    "gemini-2.5-pro-tts": Price("minute", 0.03),
    "gemini-2.5-pro-preview-tts": Price("minute", 0.03),
    # Text: a flat per-request estimate for a storyboard-sized call.
    "gemini-2.5-flash": Price("request", 0.003),
    "gemini-2.5-flash-lite": Price("request", 0.001),
    "gemini-2.5-pro": Price("request", 0.02),
    "gemini-3-pro": Price("request", 0.03),
    # Made on this machine (the `local` provider): free.
    "local-storyboard": Price("request", 0.0),
    "local-keyframe": Price("image", 0.0),
    "local-clip": Price("second", 0.0),
    "local-narration": Price("minute", 0.0),
    "local-tts": Price("minute", 0.0),
}


def price_for(model: str) -> Price:
    """The price entry of `model` (longest matching prefix); ConfigError if none."""
    matches = [key for key in PRICES if model == key or model.startswith(key)]
    if not matches:
        raise ConfigError(
            f"no price for model {model!r}: add it to orchestrator/providers/pricing.py"
        )
    return PRICES[max(matches, key=len)]


def charge_for(
    provider: str,
    model: str,
    units: float,
    *,
    with_audio: bool = False,
    billed: bool = True,
) -> Charge:
    """Turn one call into a `Charge`.

    `units` is in the model's unit (seconds of video, images, minutes of speech,
    requests). `billed=False` (e.g. a safety-filtered clip) records the call at $0.
    """
    if units < 0:
        raise ValueError(f"units must be >= 0, got {units}")
    price = price_for(model)
    rate = price.usd_with_audio if with_audio and price.usd_with_audio is not None else price.usd
    usd = round(units * rate, 6) if billed else 0.0
    return Charge(provider=provider, model=model, units=units, unit=price.unit, usd=usd)
