"""Top-level box walking on hand-built byte layouts (no ffmpeg needed)."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from orchestrator.errors import MediaError
from orchestrator.media import Box, is_faststart, iter_top_level_boxes


def box(kind: bytes, payload: bytes = b"") -> bytes:
    return struct.pack(">I4s", 8 + len(payload), kind) + payload


def large_box(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I4sQ", 1, kind, 16 + len(payload)) + payload


def write(tmp_path: Path, data: bytes) -> Path:
    out = tmp_path / "f.mp4"
    out.write_bytes(data)
    return out


FTYP = box(b"ftyp", b"isom\x00\x00\x02\x00isomiso2")


def test_moov_first_is_faststart(tmp_path: Path) -> None:
    path = write(tmp_path, FTYP + box(b"moov", b"x" * 20) + box(b"mdat", b"y" * 100))
    assert is_faststart(path)
    kinds = [b.type for b in iter_top_level_boxes(path)]
    assert kinds == ["ftyp", "moov", "mdat"]


def test_mdat_first_is_not_faststart(tmp_path: Path) -> None:
    path = write(tmp_path, FTYP + box(b"free") + box(b"mdat", b"y" * 100) + box(b"moov", b"x"))
    assert not is_faststart(path)


def test_largesize_box_is_walked(tmp_path: Path) -> None:
    data = FTYP + large_box(b"mdat", b"z" * 50) + box(b"moov", b"m" * 4)
    path = write(tmp_path, data)
    boxes = list(iter_top_level_boxes(path))
    assert boxes[1] == Box("mdat", len(FTYP), 66, 16)
    assert boxes[2].type == "moov"
    assert not is_faststart(path)


def test_size_zero_extends_to_eof(tmp_path: Path) -> None:
    data = FTYP + box(b"moov", b"m") + struct.pack(">I4s", 0, b"mdat") + b"q" * 1000
    path = write(tmp_path, data)
    boxes = list(iter_top_level_boxes(path))
    assert boxes[-1] == Box("mdat", len(FTYP) + 9, 1008, 8)
    assert is_faststart(path)


def test_garbage_raises_clear_error(tmp_path: Path) -> None:
    path = write(tmp_path, b"\x00\x01\xff\xfe not a video at all" * 10)
    with pytest.raises(MediaError, match="not an MP4"):
        is_faststart(path)


def test_truncated_box_raises(tmp_path: Path) -> None:
    path = write(tmp_path, FTYP + struct.pack(">I4s", 5000, b"mdat") + b"short")
    with pytest.raises(MediaError, match="truncated"):
        list(iter_top_level_boxes(path))


def test_missing_moov_raises(tmp_path: Path) -> None:
    path = write(tmp_path, FTYP + box(b"mdat", b"y" * 10))
    with pytest.raises(MediaError, match="no 'moov'"):
        is_faststart(path)


def test_missing_file_raises(tmp_path: Path) -> None:
    with pytest.raises(MediaError, match="cannot open"):
        is_faststart(tmp_path / "nope.mp4")


def test_headers_only_are_read(tmp_path: Path) -> None:
    # A 64 MiB mdat must not be read: walking stays instant and memory-flat.
    path = tmp_path / "big.mp4"
    with path.open("wb") as fh:
        fh.write(FTYP + box(b"moov", b"m"))
        fh.write(struct.pack(">I4s", 8 + 64 * 2**20, b"mdat"))
        fh.truncate(fh.tell() + 64 * 2**20)  # sparse file
    assert is_faststart(path)
    assert [b.type for b in iter_top_level_boxes(path)] == ["ftyp", "moov", "mdat"]
