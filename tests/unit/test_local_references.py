"""The local provider draws a task's reference images into its keyframes (for demos)."""

from __future__ import annotations

import io

from PIL import Image as PILImage

from orchestrator.providers.base import Image
from orchestrator.providers.local import LocalProvider, LocalProviderSettings
from orchestrator.providers.local_images import INSET_SHARE, composite_references


def solid(colour: tuple[int, int, int], size: tuple[int, int], fmt: str = "PNG") -> Image:
    buf = io.BytesIO()
    PILImage.new("RGB", size, colour).save(buf, format=fmt)
    return Image(buf.getvalue(), "image/png" if fmt == "PNG" else "image/jpeg")


RED = solid((220, 20, 20), (80, 80))
BLUE = solid((20, 40, 220), (60, 120), "JPEG")  # tall, and a JPEG


def pixels(image: Image) -> PILImage.Image:
    return PILImage.open(io.BytesIO(image.data)).convert("RGB")


def close(a: tuple[int, ...], b: tuple[int, ...], tolerance: int = 12) -> bool:
    return all(abs(x - y) <= tolerance for x, y in zip(a, b, strict=True))


async def test_references_appear_as_insets_and_the_scene_stays() -> None:
    provider = LocalProvider(LocalProviderSettings(_env_file=None))  # type: ignore[call-arg]
    plain = await provider.render_keyframe("a bottle on a rock", "16:9")
    with_refs = await provider.render_keyframe("a bottle on a rock", "16:9", references=[RED, BLUE])
    card, base = pixels(with_refs), pixels(plain)
    w, h = card.size
    assert with_refs.data != plain.data
    # The first reference, largest, in the top-right corner ...
    big = round(h * INSET_SHARE)
    margin = max(2, min(w, h) // 40)
    first_centre = (w - margin - big // 2, margin + big // 2)
    assert close(card.getpixel(first_centre), (220, 20, 20))
    # ... framed in white ...
    assert close(card.getpixel((w - margin - 1, margin + big // 2)), (255, 255, 255), 30)
    # ... and the second to its left at half the size (a tall image, fitted whole).
    second_centre = (w - margin - big - margin - big // 4, margin + big // 4)
    assert close(card.getpixel(second_centre), (20, 40, 220), 20)
    # The rest of the card is the same scene.
    assert card.getpixel((w // 4, h * 3 // 4)) == base.getpixel((w // 4, h * 3 // 4))


async def test_compositing_is_deterministic_and_order_matters() -> None:
    provider = LocalProvider(LocalProviderSettings(_env_file=None))  # type: ignore[call-arg]
    a = await provider.render_keyframe("a bottle", "9:16", references=[RED, BLUE])
    b = await provider.render_keyframe("a bottle", "9:16", references=[RED, BLUE])
    swapped = await provider.render_keyframe("a bottle", "9:16", references=[BLUE, RED])
    assert a.data == b.data
    assert swapped.data != a.data
    assert a.mime_type == "image/png"


def test_insets_that_do_not_fit_are_left_out() -> None:
    card = PILImage.new("RGB", (100, 100), (0, 0, 0))
    many = [RED.data] * 10
    out = composite_references(card, many)
    # Never past the left margin: the far-left column stays untouched.
    assert all(out.getpixel((0, y)) == (0, 0, 0) for y in range(100))
    assert composite_references(card, []) is card
