"""assemble(): concat, narration, silence, subtitles, faststart, duration exactness."""

from __future__ import annotations

from pathlib import Path

import av
import pytest

from orchestrator.errors import MediaError
from orchestrator.media import assemble, is_faststart, probe, write_wav_silence
from tests.fixtures.media import MakeClip, MakeSrt, MakeWav

FRAME_24 = 1 / 24


def stream_types(path: Path) -> dict[str, str]:
    with av.open(str(path)) as container:
        return {s.type: s.codec_context.name for s in container.streams}


async def test_three_clips_with_narration_stream_copy(
    make_clip: MakeClip, make_wav: MakeWav, tmp_path: Path
) -> None:
    clips = [make_clip(2, 160, 90) for _ in range(3)]
    narration = make_wav(4.0)  # shorter than the video: padded with silence
    out = await assemble(clips, narration, tmp_path / "final.mp4")

    info = await probe(out)
    assert info.duration_s == pytest.approx(6.0, abs=FRAME_24)
    assert info.container_duration_s == pytest.approx(6.0, abs=FRAME_24)
    assert info.frames == 3 * 48
    assert info.has_audio
    assert info.audio_codec == "aac"
    assert is_faststart(out)
    assert stream_types(out) == {"video": "h264", "audio": "aac"}
    assert not list(tmp_path.glob(".final*")), "temp file left behind"


async def test_long_narration_is_trimmed_to_video(
    make_clip: MakeClip, make_wav: MakeWav, tmp_path: Path
) -> None:
    clips = [make_clip(1, 160, 90), make_clip(1, 160, 90)]
    out = await assemble(clips, make_wav(5.0), tmp_path / "final.mp4")
    info = await probe(out)
    assert info.duration_s == pytest.approx(2.0, abs=FRAME_24)
    assert info.container_duration_s == pytest.approx(2.0, abs=FRAME_24)


async def test_no_narration_gives_silent_aac(make_clip: MakeClip, tmp_path: Path) -> None:
    out = await assemble([make_clip(1, 160, 90)], None, tmp_path / "final.mp4")
    info = await probe(out)
    assert info.has_audio
    assert info.audio_codec == "aac"
    assert info.duration_s == pytest.approx(1.0, abs=FRAME_24)


async def test_clips_with_longer_audio_do_not_open_gaps(
    make_clip: MakeClip, make_wav: MakeWav, tmp_path: Path
) -> None:
    # Clip audio that outlasts the picture must not shift the next clip later.
    clips = [make_clip(2, 160, 90, audio=True, audio_seconds=2.5) for _ in range(3)]
    out = await assemble(clips, make_wav(6.0), tmp_path / "final.mp4")
    info = await probe(out)
    assert info.duration_s == pytest.approx(6.0, abs=FRAME_24)
    assert info.frames == 144


async def test_mixed_clips_are_reencoded(
    make_clip: MakeClip, tmp_path: Path, make_srt: MakeSrt
) -> None:
    clips = [
        make_clip(1, 160, 90),
        make_clip(1, 128, 96, fps=30),  # other size and rate: concat filter path
        make_clip(1, 160, 90, source="color=green"),
    ]
    subs = make_srt([(0.0, 1.0, "Hello"), (1.0, 2.5, "World")])
    narration = write_wav_silence(tmp_path / "n.wav", 3.0)
    out = await assemble(clips, narration, tmp_path / "final.mp4", subtitles=subs)
    info = await probe(out)
    assert (info.width, info.height) == (160, 90)
    assert info.fps == pytest.approx(24)
    assert info.duration_s == pytest.approx(3.0, abs=FRAME_24)
    assert info.has_subtitles
    assert stream_types(out) == {"video": "h264", "audio": "aac", "subtitle": "mov_text"}
    assert is_faststart(out)


async def test_soft_subtitles_on_stream_copy(
    make_clip: MakeClip, make_srt: MakeSrt, tmp_path: Path
) -> None:
    clips = [make_clip(1, 160, 90), make_clip(1, 160, 90)]
    out = await assemble(
        clips, None, tmp_path / "final.mp4", subtitles=make_srt([(0.2, 1.8, "Narration line")])
    )
    with av.open(str(out)) as container:
        sub = container.streams.subtitles[0]
        texts = [bytes(p) for p in container.demux(sub) if p.size]
    assert any(b"Narration line" in t for t in texts)


async def test_errors_are_media_errors(make_clip: MakeClip, tmp_path: Path) -> None:
    with pytest.raises(MediaError, match="at least one clip"):
        await assemble([], None, tmp_path / "x.mp4")
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"\x00" * 300)
    with pytest.raises(MediaError, match=r"junk\.mp4"):
        await assemble([make_clip(1), junk], None, tmp_path / "x.mp4")
    with pytest.raises(MediaError, match="subtitles"):
        await assemble([make_clip(1)], None, tmp_path / "x.mp4", subtitles=tmp_path / "no.srt")
    assert not (tmp_path / "x.mp4").exists()
