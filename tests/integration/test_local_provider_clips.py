"""The local provider's clips, rendered for real with ffmpeg and checked with PyAV."""

from __future__ import annotations

import asyncio
import io
import struct
from collections.abc import AsyncIterator
from pathlib import Path

import av
import pytest
from PIL import Image as PILImage
from PIL import ImageChops, ImageStat

from orchestrator.errors import ProviderPermanentError
from orchestrator.providers.base import (
    ClipDone,
    ClipFailed,
    ClipFiltered,
    ClipPending,
    ClipPoll,
    ClipRequest,
    Image,
)
from orchestrator.providers.local import LocalProvider
from orchestrator.providers.local_settings import LocalProviderSettings

FPS = 12


@pytest.fixture
def settings(tmp_path: Path) -> LocalProviderSettings:
    return LocalProviderSettings(
        work_dir=tmp_path / "local",
        width_16_9=160,
        height_16_9=90,
        width_9_16=90,
        height_9_16=160,
        fps=FPS,
        x264_preset="ultrafast",
        use_espeak=False,
    )


@pytest.fixture
async def provider(settings: LocalProviderSettings) -> AsyncIterator[LocalProvider]:
    p = LocalProvider(settings)
    yield p
    await p.aclose()


async def _frames(provider: LocalProvider, aspect: str = "16:9") -> tuple[Image, Image]:
    start = await provider.render_keyframe("a lighthouse at dawn", aspect)  # type: ignore[arg-type]
    end = await provider.render_keyframe("a ship in a storm", aspect)  # type: ignore[arg-type]
    return start, end


def _request(
    start: Image, end: Image, prompt: str, seconds: int = 1, aspect: str = "16:9"
) -> ClipRequest:
    return ClipRequest(
        start_frame=start,
        end_frame=end,
        prompt=prompt,
        seconds=seconds,
        aspect=aspect,  # type: ignore[arg-type]
    )


async def _finish(provider: LocalProvider, name: str, timeout_s: float = 60.0) -> ClipPoll:
    async with asyncio.timeout(timeout_s):
        while True:
            result = await provider.poll_clip(name)
            if not isinstance(result, ClipPending):
                return result
            await provider.wait_clip(name)


def _top_level_boxes(data: bytes) -> list[str]:
    """Top-level MP4 box types in file order (handles 64-bit and to-end sizes)."""
    boxes: list[str] = []
    pos = 0
    while pos + 8 <= len(data):
        size, kind = struct.unpack(">I4s", data[pos : pos + 8])
        header = 8
        if size == 1:
            (size,) = struct.unpack(">Q", data[pos + 8 : pos + 16])
            header = 16
        elif size == 0:
            size = len(data) - pos
        assert size >= header, f"corrupt box {kind!r} at {pos}"
        boxes.append(kind.decode("latin-1"))
        pos += size
    assert pos == len(data), "boxes do not tile the file"
    return boxes


def _decode(video: bytes) -> tuple[av.container.InputContainer, list[PILImage.Image]]:
    container = av.open(io.BytesIO(video), mode="r")
    # PyAV's stub leaves to_image untyped; it returns a PIL image.
    frames = [f.to_image() for f in container.decode(video=0)]  # type: ignore[no-untyped-call]
    return container, frames


def _diff(a: PILImage.Image, b: PILImage.Image) -> float:
    """Mean absolute difference per channel value, 0..255."""
    return sum(ImageStat.Stat(ImageChops.difference(a, b)).mean) / 3


@pytest.mark.parametrize(("aspect", "size"), [("16:9", (160, 90)), ("9:16", (90, 160))])
async def test_rendered_clip_is_exact_h264_faststart_and_moves_between_the_keyframes(
    provider: LocalProvider, aspect: str, size: tuple[int, int]
) -> None:
    start, end = await _frames(provider, aspect)
    seconds = 2
    name = await provider.start_clip(_request(start, end, "slow push in", seconds, aspect))
    assert name.startswith("local-ops/")

    result = await _finish(provider, name)
    assert isinstance(result, ClipDone)
    assert result.mime_type == "video/mp4"
    assert result.uri is None
    assert result.video is not None
    assert result.charge is not None
    assert (result.charge.provider, result.charge.units, result.charge.usd) == ("local", 2.0, 0.0)

    boxes = _top_level_boxes(result.video)
    assert boxes.index("moov") < boxes.index("mdat"), boxes

    container, frames = _decode(result.video)
    with container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == "h264"
        assert stream.codec_context.pix_fmt == "yuv420p"
        assert (stream.codec_context.width, stream.codec_context.height) == size
        assert not container.streams.audio
        assert stream.duration is not None
        assert stream.time_base is not None
        duration = float(stream.duration * stream.time_base)
    assert abs(duration - seconds) <= 1 / FPS
    assert len(frames) == seconds * FPS

    # first frame is the start keyframe, last frame the end keyframe (up to coding loss)
    start_img = PILImage.open(io.BytesIO(start.data)).convert("RGB")
    end_img = PILImage.open(io.BytesIO(end.data)).convert("RGB")
    assert _diff(frames[0], start_img) < 12
    assert _diff(frames[-1], end_img) < 12
    assert _diff(frames[0], end_img) > _diff(frames[0], start_img) + 5
    # and the picture moves in between
    assert _diff(frames[0], frames[len(frames) // 3]) > 1


async def test_pull_out_settles_on_the_end_keyframe(provider: LocalProvider) -> None:
    start, end = await _frames(provider)
    name = await provider.start_clip(_request(start, end, "tilt up; reviewer note: slow pull out"))
    result = await _finish(provider, name)
    assert isinstance(result, ClipDone)
    assert result.video is not None
    container, frames = _decode(result.video)
    container.close()
    assert len(frames) == FPS
    end_img = PILImage.open(io.BytesIO(end.data)).convert("RGB")
    assert _diff(frames[-1], end_img) < 12


async def test_same_inputs_render_the_same_bytes(provider: LocalProvider) -> None:
    start, end = await _frames(provider)
    a = await provider.start_clip(_request(start, end, "pan left"))
    b = await provider.start_clip(_request(start, end, "pan left"))
    assert a != b  # two submissions are two operations...
    assert a.split("-")[1] == b.split("-")[1]  # ...of the same inputs
    done_a, done_b = await _finish(provider, a), await _finish(provider, b)
    assert isinstance(done_a, ClipDone)
    assert isinstance(done_b, ClipDone)
    assert done_a.video == done_b.video


async def test_a_new_process_resumes_an_operation_that_has_no_output(
    settings: LocalProviderSettings,
) -> None:
    first = LocalProvider(settings)
    start, end = await _frames(first)
    name = await first.start_clip(_request(start, end, "pan right"))
    # The process dies before the render ran: nothing but the saved request remains.
    await first.aclose(grace_s=0)
    op_dir = settings.work_dir / "ops" / name
    assert (op_dir / "request.json").is_file()
    assert not (op_dir / "clip.mp4").exists()

    second = LocalProvider(settings)
    try:
        assert isinstance(await second.poll_clip(name), ClipPending)
        result = await _finish(second, name)
        assert isinstance(result, ClipDone)
        assert result.video is not None
        assert (op_dir / "clip.mp4").is_file()
        # a third process finds the finished clip without rendering again
        third = LocalProvider(settings)
        again = await third.poll_clip(name)
        assert isinstance(again, ClipDone)
        assert again.video == result.video
    finally:
        await second.aclose()


async def test_a_render_killed_midway_resumes_in_the_next_process(
    settings: LocalProviderSettings,
) -> None:
    # render_delay_s keeps the first render in flight until the process "dies".
    first = LocalProvider(settings.model_copy(update={"render_delay_s": 30.0}))
    start, end = await _frames(first)
    name = await first.start_clip(_request(start, end, "tilt up"))
    await asyncio.sleep(0.3)
    assert isinstance(await first.poll_clip(name), ClipPending)
    await first.aclose(grace_s=0)
    op_dir = settings.work_dir / "ops" / name
    assert not (op_dir / "clip.mp4").exists()
    assert not list(op_dir.glob("clip.partial-*"))  # the killed attempt cleaned up

    second = LocalProvider(settings)
    try:
        result = await _finish(second, name)
        assert isinstance(result, ClipDone)
    finally:
        await second.aclose()


async def test_renders_wait_for_a_free_slot(settings: LocalProviderSettings) -> None:
    one_at_a_time = LocalProvider(
        settings.model_copy(update={"max_concurrent_renders": 1, "render_delay_s": 0.4})
    )
    try:
        start, end = await _frames(one_at_a_time)
        a = await one_at_a_time.start_clip(_request(start, end, "pan left"))
        b = await one_at_a_time.start_clip(_request(start, end, "pan right"))
        await one_at_a_time.wait_clip(a)
        assert isinstance(await one_at_a_time.poll_clip(a), ClipDone)
        # b could not start before a released the only slot, and takes >= 0.4 s
        assert isinstance(await one_at_a_time.poll_clip(b), ClipPending)
        assert isinstance(await _finish(one_at_a_time, b), ClipDone)
    finally:
        await one_at_a_time.aclose()


async def test_pending_while_rendering(tmp_path: Path, settings: LocalProviderSettings) -> None:
    slow = LocalProvider(settings.model_copy(update={"render_delay_s": 0.5}))
    try:
        start, end = await _frames(slow)
        name = await slow.start_clip(_request(start, end, "tilt down"))
        assert isinstance(await slow.poll_clip(name), ClipPending)
        assert isinstance(await _finish(slow, name), ClipDone)
    finally:
        await slow.aclose()


async def test_blocked_words_come_back_filtered(settings: LocalProviderSettings) -> None:
    by_setting = LocalProvider(settings.model_copy(update={"blocked_words": ("explosion",)}))
    by_argument = LocalProvider(settings, blocked_words=["Storm"])
    start, end = await _frames(by_setting)

    name = await by_setting.start_clip(_request(start, end, "A huge EXPLOSION at sea"))
    result = await by_setting.poll_clip(name)
    assert isinstance(result, ClipFiltered)
    assert "explosion" in result.reasons[0]
    assert result.charge is None or result.charge.usd == 0.0

    name = await by_argument.start_clip(_request(start, end, "the storm breaks"))
    assert isinstance(await by_argument.poll_clip(name), ClipFiltered)
    # whole words only: "stormy" is not "storm"
    name = await by_argument.start_clip(_request(start, end, "a stormy sky"))
    assert isinstance(await _finish(by_argument, name), ClipDone)
    await by_argument.aclose()
    await by_setting.aclose()


async def test_a_render_that_cannot_succeed_fails_permanently(
    provider: LocalProvider, settings: LocalProviderSettings
) -> None:
    start, end = await _frames(provider)
    name = await provider.start_clip(_request(start, end, "pan left"))
    # Corrupt the saved frame before the background render reads it.
    (settings.work_dir / "ops" / name / "start.png").write_bytes(b"not a png")
    result = await _finish(provider, name)
    assert isinstance(result, ClipFailed)
    assert result.code == "RENDER_FAILED"
    assert result.transient is False


async def test_bad_frames_are_rejected_at_submit(provider: LocalProvider) -> None:
    start, _ = await _frames(provider)
    with pytest.raises(ProviderPermanentError):
        await provider.start_clip(_request(start, Image(data=b"junk"), "pan left"))
