"""export(): each delivery format at the requested height (480 only, to stay fast)."""

from __future__ import annotations

from pathlib import Path

import pytest

from orchestrator.errors import MediaError
from orchestrator.media import assemble, export, is_faststart, probe
from tests.fixtures.media import MakeClip


@pytest.mark.parametrize(
    ("fmt", "codec", "audio_codec"),
    [("mp4", "h264", "aac"), ("mov", "h264", "aac"), ("webm", "vp9", "opus")],
)
async def test_export_formats_at_480(
    make_clip: MakeClip, tmp_path: Path, fmt: str, codec: str, audio_codec: str
) -> None:
    final = make_clip(1, 320, 180, audio=True, name="final.mp4")
    out = await export(final, fmt, 480, tmp_path / "exports")  # type: ignore[arg-type]
    assert out == tmp_path / "exports" / f"final_480p.{fmt}"
    info = await probe(out)
    assert info.height == 480
    assert info.width == 854  # 16:9 at 480 rows, rounded to even
    assert info.codec == codec
    assert info.audio_codec == audio_codec
    assert info.duration_s == pytest.approx(1.0, abs=0.05)
    if fmt != "webm":
        assert is_faststart(out)


async def test_export_keeps_portrait_aspect_and_subtitles(
    make_clip: MakeClip, tmp_path: Path
) -> None:
    srt = tmp_path / "s.srt"
    srt.write_text("1\n00:00:00,000 --> 00:00:00,900\nHi\n", encoding="utf-8")
    final = await assemble([make_clip(1, 90, 160)], None, tmp_path / "portrait.mp4", subtitles=srt)
    out = await export(final, "mp4", 480, tmp_path)
    info = await probe(out)
    assert (info.width, info.height) == (270, 480)
    assert info.has_subtitles


async def test_export_rejects_bad_arguments(make_clip: MakeClip, tmp_path: Path) -> None:
    final = make_clip(1)
    with pytest.raises(MediaError, match="format"):
        await export(final, "avi", 480, tmp_path)  # type: ignore[arg-type]
    with pytest.raises(MediaError, match="height"):
        await export(final, "mp4", 481, tmp_path)  # type: ignore[arg-type]
