"""probe / is_faststart / faststart on real generated clips."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import av
import pytest

from orchestrator.errors import MediaError
from orchestrator.media import faststart, is_faststart, probe, probe_sync
from tests.fixtures.media import MakeClip


def packets(path: Path) -> list[tuple[int, int | None, int | None, bool, str]]:
    """(stream index, pts, dts, keyframe, sha256 of payload) of every packet."""
    out = []
    with av.open(str(path)) as container:
        for packet in container.demux():
            if packet.size == 0:  # flush packets carry no payload
                continue
            digest = hashlib.sha256(bytes(packet)).hexdigest()
            out.append((packet.stream.index, packet.pts, packet.dts, packet.is_keyframe, digest))
    return out


def stream_params(path: Path) -> list[tuple[str, str, bytes]]:
    with av.open(str(path)) as container:
        return [
            (s.type, s.codec_context.name, bytes(s.codec_context.extradata or b""))
            for s in container.streams
        ]


async def test_probe_video_only(make_clip: MakeClip) -> None:
    info = await probe(make_clip(2, 160, 90))
    assert info.has_video
    assert (info.width, info.height, info.codec) == (160, 90, "h264")
    assert info.fps == pytest.approx(24)
    assert info.duration_s == pytest.approx(2.0, abs=1 / 24)
    assert info.frames == 48
    assert not info.has_audio
    assert info.audio_codec is None


async def test_probe_with_audio(make_clip: MakeClip) -> None:
    info = await probe(make_clip(2, 160, 90, audio=True))
    assert info.has_audio
    assert info.audio_codec == "aac"
    assert info.audio_sample_rate == 48000
    assert info.duration_s == pytest.approx(2.0, abs=1 / 24)


async def test_probe_garbage_raises_media_error(tmp_path: Path) -> None:
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(os.urandom(4096))
    with pytest.raises(MediaError, match=r"cannot probe junk\.mp4: not a readable media file"):
        await probe(junk)


def test_probe_missing_file(tmp_path: Path) -> None:
    with pytest.raises(MediaError, match="no such file"):
        probe_sync(tmp_path / "missing.mp4")


async def test_faststart_remuxes_without_reencode_and_is_idempotent(make_clip: MakeClip) -> None:
    clip = make_clip(2, 160, 90, audio=True)
    assert not is_faststart(clip), "ffmpeg's default mp4 mux writes moov at the end"
    before_packets = packets(clip)
    before_params = stream_params(clip)

    assert await faststart(clip) is True
    assert is_faststart(clip)
    # Stream copy: every packet's bytes, timestamps and key flags are unchanged.
    assert packets(clip) == before_packets
    assert stream_params(clip) == before_params
    assert not list(clip.parent.glob(".*")), "temp file left behind"

    stat = clip.stat()
    data = clip.read_bytes()
    assert await faststart(clip) is False
    assert clip.stat().st_mtime_ns == stat.st_mtime_ns
    assert clip.read_bytes() == data


async def test_faststart_on_already_faststart_clip_is_noop(make_clip: MakeClip) -> None:
    clip = make_clip(1, 160, 90, faststart=True)
    mtime = clip.stat().st_mtime_ns
    assert is_faststart(clip)
    assert await faststart(clip) is False
    assert clip.stat().st_mtime_ns == mtime


async def test_faststart_keeps_file_mode(make_clip: MakeClip) -> None:
    clip = make_clip(1, 160, 90)
    clip.chmod(0o640)
    await faststart(clip)
    assert clip.stat().st_mode & 0o777 == 0o640


async def test_faststart_garbage_raises(tmp_path: Path) -> None:
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"GIF89a" + os.urandom(500))
    with pytest.raises(MediaError, match="not an MP4"):
        await faststart(junk)
    assert junk.exists()


async def test_run_ffmpeg_timeout_kills_and_raises() -> None:
    from orchestrator.media import run_ffmpeg

    with pytest.raises(MediaError, match="timed out"):
        await run_ffmpeg(
            "-re", "-f", "lavfi", "-i", "testsrc=duration=30", "-f", "null", "-", timeout_s=0.5
        )


async def test_run_ffmpeg_failure_carries_stderr(tmp_path: Path) -> None:
    from orchestrator.media import run_ffmpeg

    with pytest.raises(MediaError, match=r"(?s)ffmpeg exited with .*missing\.mp4"):
        await run_ffmpeg("-i", tmp_path / "missing.mp4", tmp_path / "out.mp4")
