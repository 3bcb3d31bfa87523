"""Thumbnail and contact sheet from real clips."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from orchestrator.errors import MediaError
from orchestrator.media import contact_sheet, contact_sheet_size, thumbnail
from tests.fixtures.media import MakeClip


async def test_thumbnail_is_jpeg_of_requested_width(make_clip: MakeClip, tmp_path: Path) -> None:
    out = await thumbnail(make_clip(1, 320, 180), tmp_path / "thumb.jpg", width=128)
    with Image.open(out) as img:
        assert img.format == "JPEG"
        assert img.size == (128, 72)


async def test_thumbnail_native_size(make_clip: MakeClip, tmp_path: Path) -> None:
    out = await thumbnail(make_clip(1, 160, 90), tmp_path / "t.jpg")
    with Image.open(out) as img:
        assert img.size == (160, 90)


async def test_thumbnail_is_first_frame(make_clip: MakeClip, tmp_path: Path) -> None:
    out = await thumbnail(make_clip(1, 64, 64, source="color=red"), tmp_path / "red.jpg")
    with Image.open(out) as img:
        r, g, b = img.convert("RGB").getpixel((32, 32))  # type: ignore[misc]
    assert r > 200
    assert max(g, b) < 60


async def test_contact_sheet_of_18_clips(make_clip: MakeClip, tmp_path: Path) -> None:
    blue = make_clip(1, 160, 90, source="color=blue")
    clips = [(n, blue) for n in range(1, 19)]
    out = await contact_sheet(clips, tmp_path / "sheet.jpg", columns=6, tile_width=160)
    assert list(tmp_path.glob("*.jpg")) == [out]
    with Image.open(out) as img:
        assert img.format == "JPEG"
        # 6 columns x 3 rows of 160x90 tiles with a 6 px gap.
        assert img.size == contact_sheet_size(18, 160, 90, 6, 6) == (1002, 294)
        rgb = img.convert("RGB")
        # Tile body is the clip's colour, the label box corner is dark with white text.
        for row in range(3):
            for col in range(6):
                x, y = 6 + col * 166, 6 + row * 96
                r, _, b = rgb.getpixel((x + 140, y + 80))  # type: ignore[misc]
                assert b > 150, (row, col)
                assert r < 80, (row, col)
        extrema = rgb.crop((6, 6, 6 + 40, 6 + 22)).convert("L").getextrema()
        assert isinstance(extrema[0], int | float)
        assert isinstance(extrema[1], int | float)
        darkest, brightest = extrema
        assert darkest < 40  # label box
        assert brightest > 200  # its text


async def test_contact_sheet_letterboxes_other_aspect(make_clip: MakeClip, tmp_path: Path) -> None:
    clips = [(1, make_clip(1, 160, 90)), (2, make_clip(1, 90, 160))]
    out = await contact_sheet(clips, tmp_path / "sheet.png", columns=6, tile_width=160)
    with Image.open(out) as img:
        assert img.format == "PNG"
        assert img.size == contact_sheet_size(2, 160, 90, 6, 6)


async def test_contact_sheet_names_bad_clip(make_clip: MakeClip, tmp_path: Path) -> None:
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"nope" * 100)
    with pytest.raises(MediaError, match="clip 7"):
        await contact_sheet([(1, make_clip(1)), (7, bad)], tmp_path / "s.jpg")
    with pytest.raises(MediaError, match="at least one clip"):
        await contact_sheet([], tmp_path / "s.jpg")
