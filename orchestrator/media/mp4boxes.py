"""Top-level MP4/MOV box walking: enough to tell whether `moov` precedes `mdat`.

Only box headers are read (seek past each payload), so a multi-gigabyte file costs a
handful of small reads. Pure Python and synchronous: no ffmpeg involved.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from orchestrator.errors import MediaError

__all__ = ["Box", "is_faststart", "iter_top_level_boxes"]

_HEADER = struct.Struct(">I4s")
# What an ISO-BMFF / QuickTime file may start with; anything else is not one of ours.
_FIRST_BOX_TYPES = frozenset(
    {"ftyp", "styp", "moov", "mdat", "free", "skip", "wide", "pnot", "junk", "uuid", "pdin"}
)
_LARGESIZE = struct.Struct(">Q")


@dataclass(frozen=True, slots=True)
class Box:
    """One top-level box: its four-character type, file offset, total size, header size."""

    type: str
    offset: int
    size: int
    header_size: int


def _valid_type(raw: bytes) -> bool:
    # Real box types are printable ASCII, plus the QuickTime '©' (0xA9) prefix;
    # anything else means we are reading garbage, not an ISO-BMFF file.
    return all(0x20 <= b <= 0x7E or b == 0xA9 for b in raw)


def iter_top_level_boxes(path: str | os.PathLike[str]) -> Iterator[Box]:
    """Yield the top-level boxes of `path` in file order.

    Handles 32-bit sizes, `size == 1` (64-bit largesize after the type) and
    `size == 0` (box extends to end of file). Raises MediaError when the structure
    is not a valid box sequence (garbage, truncated file).
    """
    p = Path(path)
    try:
        fh = p.open("rb")
    except OSError as exc:
        raise MediaError(f"cannot open {p}: {exc.strerror or exc}") from exc
    with fh:
        file_size = os.fstat(fh.fileno()).st_size
        offset = 0
        while offset < file_size:
            fh.seek(offset)
            header = fh.read(_HEADER.size)
            if len(header) < _HEADER.size:
                raise MediaError(
                    f"{p.name}: truncated box header at offset {offset} "
                    f"(file is {file_size} bytes); not a valid MP4"
                )
            size, raw_type = _HEADER.unpack(header)
            if not _valid_type(raw_type):
                raise MediaError(
                    f"{p.name}: invalid box type {raw_type!r} at offset {offset}; "
                    "not an MP4/MOV file"
                )
            box_type = raw_type.decode("latin-1")
            if offset == 0 and box_type not in _FIRST_BOX_TYPES:
                raise MediaError(
                    f"{p.name}: starts with {raw_type!r}, not an MP4/MOV box; not an MP4/MOV file"
                )
            header_size = _HEADER.size
            if size == 1:
                large = fh.read(_LARGESIZE.size)
                if len(large) < _LARGESIZE.size:
                    raise MediaError(f"{p.name}: truncated 64-bit box size at offset {offset}")
                (size,) = _LARGESIZE.unpack(large)
                header_size += _LARGESIZE.size
            elif size == 0:
                size = file_size - offset
            if size < header_size:
                raise MediaError(
                    f"{p.name}: box {box_type!r} at offset {offset} has impossible size {size}"
                )
            if offset + size > file_size:
                raise MediaError(
                    f"{p.name}: box {box_type!r} at offset {offset} runs past end of file "
                    f"({offset + size} > {file_size}); file is truncated or not an MP4"
                )
            yield Box(box_type, offset, size, header_size)
            offset += size


def is_faststart(path: str | os.PathLike[str]) -> bool:
    """True when the `moov` box comes before the first `mdat` box.

    Players and browsers streaming over HTTP need `moov` first to start playback
    before the whole file has downloaded. A file without `mdat` (empty or fragmented
    init segment) counts as faststart when it has `moov`. No `moov` at all raises
    MediaError: that file is not playable, whatever the box order.
    """
    seen_mdat = False
    for box in iter_top_level_boxes(path):
        if box.type == "moov":
            return not seen_mdat
        if box.type == "mdat":
            seen_mdat = True
    raise MediaError(f"{Path(path).name}: no 'moov' box; not a playable MP4/MOV file")
