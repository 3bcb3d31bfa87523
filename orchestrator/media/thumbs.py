"""Still images from clips: a first-frame thumbnail and a labelled contact sheet."""

from __future__ import annotations

import asyncio
import math
import os
from collections.abc import Sequence
from pathlib import Path

import av
import structlog
from PIL import Image, ImageDraw, ImageFont, ImageOps

from orchestrator.errors import MediaError
from orchestrator.media._atomic import atomic_target

__all__ = ["contact_sheet", "contact_sheet_size", "first_frame", "thumbnail"]

log = structlog.get_logger(__name__)

_BACKGROUND = (24, 24, 27)
_JPEG_QUALITY = 85


def first_frame(path: str | os.PathLike[str]) -> Image.Image:
    """Decode the first video frame of `path` as an RGB Pillow image (blocking)."""
    p = Path(path)
    if not p.is_file():
        raise MediaError(f"cannot read first frame of {p}: no such file")
    try:
        with av.open(str(p), mode="r") as container:
            if not container.streams.video:
                raise MediaError(f"cannot read first frame of {p.name}: no video stream")
            for frame in container.decode(video=0):
                image: Image.Image = frame.to_image()  # type: ignore[no-untyped-call]
                return image.convert("RGB")
    except av.FFmpegError as exc:
        raise MediaError(f"cannot read first frame of {p.name}: {exc}") from exc
    raise MediaError(f"cannot read first frame of {p.name}: video stream has no frames")


def _save(image: Image.Image, out: Path) -> None:
    fmt = "JPEG" if out.suffix.lower() in {".jpg", ".jpeg"} else None
    with atomic_target(out) as tmp:
        try:
            if fmt == "JPEG":
                image.save(tmp, format="JPEG", quality=_JPEG_QUALITY, optimize=True)
            else:
                image.save(tmp, format=Image.registered_extensions().get(out.suffix.lower()))
        except (OSError, ValueError, KeyError) as exc:
            raise MediaError(f"cannot write image {out.name}: {exc}") from exc


def _scaled(image: Image.Image, width: int | None) -> Image.Image:
    if width is None or width == image.width:
        return image
    if width <= 0:
        raise MediaError(f"thumbnail width must be positive, got {width}")
    height = max(1, round(image.height * width / image.width))
    return image.resize((width, height), Image.Resampling.LANCZOS)


def _thumbnail_sync(path: Path, out_jpg: Path, width: int | None) -> Path:
    _save(_scaled(first_frame(path), width), out_jpg)
    return out_jpg


async def thumbnail(
    path: str | os.PathLike[str], out_jpg: str | os.PathLike[str], width: int | None = None
) -> Path:
    """Write the first frame of `path` as a JPEG (scaled to `width`, aspect kept)."""
    out = await asyncio.to_thread(_thumbnail_sync, Path(path), Path(out_jpg), width)
    log.debug("thumbnail_written", source=str(path), out=str(out))
    return out


def contact_sheet_size(
    count: int, tile_width: int, tile_height: int, columns: int, gap: int
) -> tuple[int, int]:
    """Pixel size of a sheet of `count` tiles (exposed so callers/tests need no copy)."""
    cols = max(1, min(columns, count))
    rows = max(1, math.ceil(count / cols))
    return cols * tile_width + (cols + 1) * gap, rows * tile_height + (rows + 1) * gap


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    try:
        return ImageFont.load_default(size=size)
    except (OSError, TypeError):  # Pillow built without FreeType: fixed bitmap font
        return ImageFont.load_default()


def _label(tile: Image.Image, text: str) -> None:
    """Draw `text` in a dark box with a light outline at the tile's top-left corner.

    A solid box (rather than bare text) keeps the number readable on any frame.
    """
    draw = ImageDraw.Draw(tile)
    font = _font(max(12, tile.height // 6))
    pad = max(3, tile.height // 40)
    left, top, right, bottom = draw.textbbox((0, 0), text, font=font)
    box = (pad, pad, pad + (right - left) + 2 * pad, pad + (bottom - top) + 2 * pad)
    draw.rectangle(box, fill=(0, 0, 0), outline=(255, 255, 255), width=max(1, pad // 3))
    draw.text((box[0] + pad - left, box[1] + pad - top), text, font=font, fill=(255, 255, 255))


def _contact_sheet_sync(
    clips: Sequence[tuple[int, Path]], out: Path, columns: int, tile_width: int, gap: int
) -> Path:
    if not clips:
        raise MediaError("contact sheet needs at least one clip")
    if columns < 1 or tile_width < 16:
        raise MediaError(f"bad contact sheet layout: columns={columns}, tile_width={tile_width}")
    frames: list[tuple[int, Image.Image]] = []
    for number, path in clips:
        try:
            frames.append((number, first_frame(path)))
        except MediaError as exc:
            raise MediaError(f"contact sheet: clip {number}: {exc}") from exc
    # Tile shape follows the first clip: all clips of a task share one aspect ratio,
    # and any odd one out is letterboxed rather than stretched.
    first = frames[0][1]
    tile_height = max(1, round(tile_width * first.height / first.width))
    size = contact_sheet_size(len(frames), tile_width, tile_height, columns, gap)
    cols = max(1, min(columns, len(frames)))
    sheet = Image.new("RGB", size, _BACKGROUND)
    for index, (number, frame) in enumerate(frames):
        tile = ImageOps.pad(
            frame, (tile_width, tile_height), Image.Resampling.LANCZOS, color=_BACKGROUND
        )
        _label(tile, f"#{number}")
        row, col = divmod(index, cols)
        sheet.paste(tile, (gap + col * (tile_width + gap), gap + row * (tile_height + gap)))
    _save(sheet, out)
    return out


async def contact_sheet(
    clips: Sequence[tuple[int, Path]],
    out_path: str | os.PathLike[str],
    columns: int = 6,
    tile_width: int = 320,
    *,
    gap: int = 6,
) -> Path:
    """One image: the first frame of each clip in a grid, each labelled `#<clip number>`.

    Clips are placed in the given order, `columns` per row. The sheet size is
    `contact_sheet_size(len(clips), tile_width, tile_height, columns, gap)` where
    `tile_height` follows the first clip's aspect ratio. Format follows the suffix
    (JPEG for .jpg/.jpeg).
    """
    out = await asyncio.to_thread(
        _contact_sheet_sync, list(clips), Path(out_path), columns, tile_width, gap
    )
    log.info("contact_sheet_written", out=str(out), clips=len(clips))
    return out
