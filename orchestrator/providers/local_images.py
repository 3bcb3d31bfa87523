"""Keyframe cards for the local provider: a look seeded by the prompt, plus its text.

Everything is derived from SHA-256 of the prompt (never Python's salted `hash()`),
so the same prompt gives the same PNG bytes in every process. A task's reference
images are composited into the card as framed insets along its top edge (the first
one largest), so a demo shows which product or character each keyframe was made with;
the same inputs still give the same bytes.
"""

from __future__ import annotations

import colorsys
import hashlib
import io
import random
from collections.abc import Sequence

from PIL import Image as PILImage
from PIL import ImageDraw, ImageFont, ImageOps, UnidentifiedImageError

from orchestrator.errors import ProviderPermanentError

__all__ = ["composite_references", "decode_image", "encode_png", "render_card"]

# How much of the reference keyframe shows through: enough to carry the palette
# from shot to shot, little enough that each card stays recognisably its own.
REFERENCE_WEIGHT = 0.25
_MAX_TEXT_LINES = 4
# Reference insets: the first takes this share of the card's height, the others half
# of that; at most this many are drawn (the rest are still sent to real models).
INSET_SHARE = 0.42
MAX_INSETS = 4

FontT = ImageFont.FreeTypeFont | ImageFont.ImageFont


def decode_image(data: bytes, size: tuple[int, int] | None = None) -> PILImage.Image:
    """Decode image bytes to RGB, optionally cover-fitted (scaled + centre-cropped) to size."""
    try:
        with PILImage.open(io.BytesIO(data)) as im:
            rgb = im.convert("RGB")
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise ProviderPermanentError("image bytes could not be decoded", detail=str(exc)) from exc
    if size is not None and rgb.size != size:
        rgb = ImageOps.fit(rgb, size, PILImage.Resampling.BILINEAR)
    return rgb


def encode_png(image: PILImage.Image) -> bytes:
    buf = io.BytesIO()
    # No metadata, fixed compression: byte-identical output for identical pixels.
    image.save(buf, format="PNG", compress_level=6)
    return buf.getvalue()


def _colour(rng: random.Random, hue: float | None = None) -> tuple[int, int, int]:
    h = rng.random() if hue is None else hue
    r, g, b = colorsys.hsv_to_rgb(h % 1.0, 0.45 + 0.4 * rng.random(), 0.35 + 0.5 * rng.random())
    return round(r * 255), round(g * 255), round(b * 255)


def _font(size: int) -> FontT:
    try:
        return ImageFont.load_default(size=size)
    except ImportError:  # Pillow built without FreeType: the fixed bitmap font
        return ImageFont.load_default()


def _wrap(draw: ImageDraw.ImageDraw, text: str, font: FontT, max_width: float) -> list[str]:
    lines: list[str] = []
    current = ""
    for word in text.split():
        candidate = f"{current} {word}" if current else word
        if current and draw.textlength(candidate, font=font) > max_width:
            lines.append(current)
            current = word
        else:
            current = candidate
    if current:
        lines.append(current)
    if len(lines) > _MAX_TEXT_LINES:
        lines = lines[:_MAX_TEXT_LINES]
        lines[-1] = lines[-1].rstrip(" .,;") + " …"
    return lines


def _background(rng: random.Random, size: tuple[int, int]) -> PILImage.Image:
    w, h = size
    hue = rng.random()
    c1 = PILImage.new("RGB", size, _colour(rng, hue))
    c2 = PILImage.new("RGB", size, _colour(rng, hue + 0.2 + 0.4 * rng.random()))
    mask = PILImage.linear_gradient("L").rotate(rng.uniform(0, 360), expand=False, fillcolor=128)
    mask = mask.resize(size, PILImage.Resampling.BILINEAR)
    img = PILImage.composite(c2, c1, mask)

    overlay = PILImage.new("RGBA", size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(overlay)
    unit = min(w, h)
    for _ in range(3 + rng.randrange(5)):
        cx, cy = rng.uniform(0, w), rng.uniform(0, h)
        r = rng.uniform(0.08, 0.35) * unit
        fill = (*_colour(rng), rng.randrange(60, 150))
        box = (cx - r, cy - r, cx + r, cy + r)
        kind = rng.randrange(3)
        if kind == 0:
            draw.ellipse(box, fill=fill)
        elif kind == 1:
            draw.rectangle(box, fill=fill)
        else:
            draw.polygon([(cx, cy - r), (cx + r, cy + r), (cx - r, cy + r)], fill=fill)
    return PILImage.alpha_composite(img.convert("RGBA"), overlay).convert("RGB")


def _contain(image: PILImage.Image, box: int) -> PILImage.Image:
    """`image` scaled to fit a `box` x `box` square, keeping its aspect ratio."""
    scale = min(box / image.width, box / image.height)
    size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    return image.resize(size, PILImage.Resampling.BILINEAR)


def composite_references(img: PILImage.Image, references: Sequence[bytes]) -> PILImage.Image:
    """Paste the references as white-framed insets along the top edge, right to left.

    The first (the creator's main reference, e.g. the product) is the largest, in the
    top-right corner; the rest follow to its left at half its size while they fit.
    """
    if not references:
        return img
    w, h = img.size
    margin = max(2, min(w, h) // 40)
    border = max(1, min(w, h) // 200)
    out = img.copy()
    right = w - margin
    for n, data in enumerate(references[:MAX_INSETS]):
        box = round(h * INSET_SHARE * (1.0 if n == 0 else 0.5))
        inset = _contain(decode_image(data), max(4, box - 2 * border))
        framed = ImageOps.expand(inset, border=border, fill=(255, 255, 255))
        left = right - framed.width
        if left < margin:
            break
        out.paste(framed, (left, margin))
        right = left - margin
    return out


def render_card(
    prompt: str,
    size: tuple[int, int],
    reference: bytes | None = None,
    references: Sequence[bytes] = (),
) -> bytes:
    """Render a keyframe card for `prompt` at `size`; blend a little of `reference` in
    (the previous keyframe), and composite the task's `references` as insets."""
    seed = int.from_bytes(hashlib.sha256(prompt.encode()).digest()[:16], "big")
    rng = random.Random(seed)
    img = _background(rng, size)
    if reference is not None:
        img = PILImage.blend(img, decode_image(reference, size), REFERENCE_WEIGHT)
    img = composite_references(img, references)

    w, h = size
    margin = max(4, w // 32)
    font = _font(max(8, min(w, h) // 16))
    canvas = img.convert("RGBA")
    panel = PILImage.new("RGBA", size, (0, 0, 0, 0))
    pdraw = ImageDraw.Draw(panel)
    lines = _wrap(pdraw, prompt, font, w - 4 * margin)
    if lines:
        line_h = font.getbbox("Ag")[3] + max(2, margin // 3)
        top = h - margin - line_h * len(lines) - margin
        pdraw.rectangle((margin, top, w - margin, h - margin), fill=(0, 0, 0, 140))
        for n, line in enumerate(lines):
            pdraw.text(
                (2 * margin, top + margin // 2 + n * line_h),
                line,
                font=font,
                fill=(255, 255, 255, 255),
            )
    return encode_png(PILImage.alpha_composite(canvas, panel).convert("RGB"))
