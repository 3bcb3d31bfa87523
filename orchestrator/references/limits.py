"""How many reference images a task may have, how big, and of which types.

Every keyframe request carries the task's reference images *and* the previous
keyframe (for continuity), so the count a channel allows is its image model's
"maximum images per prompt" less one. Vertex facts (checked 2026-12-01 on
docs.cloud.google.com/vertex-ai/generative-ai/docs/models/gemini/3-1-flash-image and
.../docs/multimodal/image-understanding): Gemini 3.1 Flash Image and Gemini 3 Pro
Image take at most 14 images per prompt, at most 7 MB per inline image, of types
image/png, image/jpeg, image/webp, image/heic or image/heif. Text models (the
storyboard) take hundreds or thousands, so the image model is the bound.

reelgate accepts PNG, JPEG and WebP only: those it can sniff, name, store and
composite (Pillow reads no HEIC without a plugin). The local provider has no limit of
its own; it gets the default image model's, so a board tried locally behaves like
production.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from orchestrator.providers.catalogue import CATALOGUE

__all__ = [
    "ACCEPTED_TYPES",
    "DEFAULT_MAX_REFERENCES",
    "MAX_REFERENCE_BYTES",
    "MAX_REFERENCE_PIXELS",
    "ReferenceLimits",
    "limits_for",
]

# Vertex's "7 MB" per inline image, read as the stricter decimal megabytes.
MAX_REFERENCE_BYTES: Final = 7_000_000
# Above this a photo is no better a reference (models downscale to ~1 MP) and only
# costs memory to decode; Pillow itself warns at ~89 MP (decompression bombs).
MAX_REFERENCE_PIXELS: Final = 50_000_000
ACCEPTED_TYPES: Final = ("image/png", "image/jpeg", "image/webp")
# gemini-3.1-flash-image (the default image model) takes 14; one is the previous keyframe.
DEFAULT_MAX_REFERENCES: Final = 13


@dataclass(frozen=True)
class ReferenceLimits:
    max_count: int = DEFAULT_MAX_REFERENCES
    max_bytes: int = MAX_REFERENCE_BYTES
    max_pixels: int = MAX_REFERENCE_PIXELS
    # The model whose limit set max_count (named in "too many" messages).
    model: str | None = None


def limits_for(models: Mapping[str, str]) -> ReferenceLimits:
    """The limits of a channel whose providers use `models` (capability -> model id)."""
    model = models.get("image")
    entry = CATALOGUE.get(model) if model else None
    if entry is None or entry.max_input_images is None:
        return ReferenceLimits(model=model)
    # One image of every keyframe request is the previous keyframe.
    return ReferenceLimits(max_count=max(0, entry.max_input_images - 1), model=entry.id)
