"""Is this a reference image reelgate can use? Decided from the bytes, never the name.

Pure functions: the download is `fetch.py`'s, the storage and the comment the
pipeline's (orchestrator.pipeline.references).
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

from PIL import Image as PILImage
from PIL import UnidentifiedImageError

from orchestrator.media.imagetype import sniff_image_type
from orchestrator.references.limits import ACCEPTED_TYPES, ReferenceLimits

__all__ = [
    "CheckedImage",
    "ReferenceProblem",
    "check_image",
    "describe_bytes",
    "human_bytes",
    "too_many",
]

_TYPE_WORDS = {"image/png": "PNG", "image/jpeg": "JPEG", "image/webp": "WebP"}
_ACCEPTED_WORDS = ", ".join(_TYPE_WORDS[t] for t in ACCEPTED_TYPES[:-1]) + (
    f" or {_TYPE_WORDS[ACCEPTED_TYPES[-1]]}"
)


@dataclass(frozen=True)
class ReferenceProblem:
    """Why one reference cannot be used: shown to the creator as `"name": reason`."""

    name: str
    reason: str

    def line(self) -> str:
        return f'- "{self.name}": {self.reason}'


@dataclass(frozen=True)
class CheckedImage:
    mime_type: str
    width: int
    height: int


def human_bytes(n: int) -> str:
    """`7 MB`, `8.4 MB`, `12 KB`: a whole number where exact (limits read cleanly)."""
    for unit, size in (("MB", 1_000_000), ("KB", 1_000)):
        if n >= size:
            return f"{n // size} {unit}" if n % size == 0 else f"{n / size:.1f} {unit}"
    return f"{n} bytes"


def describe_bytes(data: bytes) -> str:
    """What some non-image (or unsupported image) bytes look like, for the message."""
    head = data[:64]
    if not data:
        return "the file is empty"
    if head.startswith(b"%PDF"):
        return "it is a PDF document"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "it is a GIF image"
    if head[4:12] in (b"ftypheic", b"ftypheix", b"ftypmif1", b"ftypmsf1", b"ftypheif"):
        return "it is a HEIC/HEIF image"
    if head[4:8] == b"ftyp":
        return "it is a video or other media file"
    if head.startswith((b"PK\x03\x04",)):
        return "it is a ZIP archive or an Office document"
    lowered = head.lstrip().lower()
    if lowered.startswith((b"<!doctype html", b"<html")):
        return "it is a web page (the link may point at a page showing the image, not the image)"
    if lowered.startswith((b"<?xml", b"<svg")):
        return "it is an SVG or other XML document"
    return "its bytes are not an image"


def check_image(data: bytes, limits: ReferenceLimits) -> CheckedImage | str:
    """The image's real type and size, or why it cannot be used (the reason text)."""
    if len(data) > limits.max_bytes:
        return f"too large ({human_bytes(len(data))}; at most {human_bytes(limits.max_bytes)})"
    mime = sniff_image_type(data)
    if mime is None or mime not in ACCEPTED_TYPES:
        return f"not an image reelgate can use ({describe_bytes(data)}; use {_ACCEPTED_WORDS})"
    try:
        with warnings.catch_warnings():
            # Pillow warns (then refuses) on huge pixel counts; either is "too large".
            warnings.simplefilter("error", PILImage.DecompressionBombWarning)
            with PILImage.open(io.BytesIO(data)) as im:
                width, height = im.size
                if width * height > limits.max_pixels:
                    return _too_many_pixels(width, height, limits)
                im.verify()  # walks the data: a truncated or damaged file fails here
    except (PILImage.DecompressionBombWarning, PILImage.DecompressionBombError):
        return f"too large (more than {limits.max_pixels / 1e6:g} megapixels)"
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        kind = _TYPE_WORDS[mime]
        return f"not an image reelgate can use (a damaged {kind} file: {exc})"
    return CheckedImage(mime_type=mime, width=width, height=height)


def _too_many_pixels(width: int, height: int, limits: ReferenceLimits) -> str:
    return f"too large ({width}x{height} pixels; at most {limits.max_pixels / 1e6:g} megapixels)"


def too_many(position: int, total: int, limits: ReferenceLimits) -> str:
    """The reason given to each reference past the limit."""
    why = (
        f" ({limits.model} reads {limits.max_count + 1} images a request, one of them the "
        "previous keyframe)"
        if limits.model
        else ""
    )
    return (
        f"too many references: the channel takes at most {limits.max_count}{why}, and this "
        f"is number {position} of {total}. Remove {total - limits.max_count}"
    )
