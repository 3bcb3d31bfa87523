"""Unit tests of the local provider: storyboard, keyframes, narration, operation names."""

from __future__ import annotations

import io
import shutil
import wave
from pathlib import Path

import pytest
from PIL import Image as PILImage

from orchestrator.errors import ProviderPermanentError
from orchestrator.providers.base import (
    ClipFailed,
    ClipProvider,
    Image,
    KeyframeProvider,
    NarrationProvider,
    StoryboardProvider,
)
from orchestrator.providers.catalogue import model_entry
from orchestrator.providers.local import LocalProvider
from orchestrator.providers.local_clips import CLIP_MODEL, clip_filtergraph, motion_for
from orchestrator.providers.local_settings import LocalProviderSettings
from orchestrator.providers.local_storyboard import MOTIONS

BRIEF = (
    "A lighthouse keeper wakes before dawn. She climbs the spiral stairs. "
    "The lamp flickers in the storm. A ship appears on the horizon. "
    "She signals with the lantern. The ship turns safely home."
)


@pytest.fixture
def settings(tmp_path: Path) -> LocalProviderSettings:
    return LocalProviderSettings(
        work_dir=tmp_path / "local",
        width_16_9=160,
        height_16_9=90,
        width_9_16=90,
        height_9_16=160,
        fps=12,
        use_espeak=False,
    )


@pytest.fixture
def provider(settings: LocalProviderSettings) -> LocalProvider:
    return LocalProvider(settings)


def test_implements_all_four_protocols(provider: LocalProvider) -> None:
    assert provider.name == "local"
    assert isinstance(provider, StoryboardProvider)
    assert isinstance(provider, KeyframeProvider)
    assert isinstance(provider, ClipProvider)
    assert isinstance(provider, NarrationProvider)


# -- storyboard ---------------------------------------------------------------


async def test_storyboard_groups_sentences_when_there_are_more_than_shots(
    provider: LocalProvider,
) -> None:
    board = await provider.plan_storyboard(BRIEF, 3, 8, "16:9")

    assert [s.number for s in board.shots] == [1, 2, 3]
    assert all(s.seconds == 8 for s in board.shots)
    assert board.shots[0].narration == (
        "A lighthouse keeper wakes before dawn. She climbs the spiral stairs."
    )
    assert " ".join(s.narration for s in board.shots) == BRIEF
    assert board.title == "A lighthouse keeper wakes before dawn"
    assert board.charge is not None
    assert board.charge.provider == "local"
    assert board.charge.usd == 0.0


async def test_storyboard_varies_shots_that_share_a_sentence(provider: LocalProvider) -> None:
    brief = "A red kite soars above the green valley. Rain begins to fall."
    board = await provider.plan_storyboard(brief, 5, 4, "9:16")

    assert len(board.shots) == 5
    assert len({s.visual_prompt for s in board.shots}) == 5
    # the narration lines still read the brief, in order
    assert " ".join(s.narration for s in board.shots if s.narration) == brief
    assert "red kite" in board.shots[0].visual_prompt
    assert "Rain begins" in board.shots[4].visual_prompt


async def test_storyboard_motions_follow_the_cycle(provider: LocalProvider) -> None:
    board = await provider.plan_storyboard(BRIEF, 8, 8, "16:9")

    for i, shot in enumerate(board.shots):
        assert shot.motion_prompt.startswith(MOTIONS[i % len(MOTIONS)])
        # the clip renderer understands every planned motion
        assert motion_for(shot.motion_prompt).name != "drift"


async def test_storyboard_is_deterministic(settings: LocalProviderSettings) -> None:
    a = await LocalProvider(settings).plan_storyboard(BRIEF, 4, 8, "16:9")
    b = await LocalProvider(settings).plan_storyboard(BRIEF, 4, 8, "16:9")
    assert a == b


async def test_storyboard_folds_notes_into_the_named_shots(provider: LocalProvider) -> None:
    plain = await provider.plan_storyboard(BRIEF, 4, 8, "16:9")
    replanned = await provider.plan_storyboard(
        BRIEF, 4, 8, "16:9", notes={2: "make it darker", 9: "out of range"}
    )

    assert "make it darker" in replanned.shots[1].visual_prompt
    assert "make it darker" in replanned.shots[1].motion_prompt
    for i in (0, 2, 3):
        assert replanned.shots[i] == plain.shots[i]


@pytest.mark.parametrize(
    ("brief", "n_shots", "seconds"), [("   ", 3, 8), (BRIEF, 0, 8), (BRIEF, 3, 0)]
)
async def test_storyboard_rejects_impossible_requests(
    provider: LocalProvider, brief: str, n_shots: int, seconds: int
) -> None:
    with pytest.raises(ProviderPermanentError):
        await provider.plan_storyboard(brief, n_shots, seconds, "16:9")


# -- keyframes ----------------------------------------------------------------


async def test_keyframe_has_the_configured_size_and_is_deterministic(
    settings: LocalProviderSettings,
) -> None:
    a = await LocalProvider(settings).render_keyframe("a fox in the snow", "16:9")
    b = await LocalProvider(settings).render_keyframe("a fox in the snow", "16:9")
    tall = await LocalProvider(settings).render_keyframe("a fox in the snow", "9:16")

    assert a.data == b.data
    assert a.mime_type == "image/png"
    assert a.charge is not None
    assert a.charge.unit == "image"
    assert a.charge.usd == 0.0
    assert PILImage.open(io.BytesIO(a.data)).size == (160, 90)
    assert PILImage.open(io.BytesIO(tall.data)).size == (90, 160)


async def test_keyframes_differ_per_prompt(provider: LocalProvider) -> None:
    prompts = ["a fox in the snow", "a fox in the snow.", "a ship at sea", "a city at night"]
    images = [await provider.render_keyframe(p, "16:9") for p in prompts]
    assert len({img.data for img in images}) == len(prompts)
    # not only the caption: the picture itself differs (compare the top half)
    tops = [PILImage.open(io.BytesIO(img.data)).crop((0, 0, 160, 30)).tobytes() for img in images]
    assert len(set(tops)) == len(prompts)


async def test_keyframe_reference_pulls_the_look_towards_it(provider: LocalProvider) -> None:
    white = io.BytesIO()
    PILImage.new("RGB", (320, 180), (255, 255, 255)).save(white, format="PNG")
    reference = Image(data=white.getvalue())

    plain = await provider.render_keyframe("a ship at sea", "16:9")
    blended = await provider.render_keyframe("a ship at sea", "16:9", reference=reference)
    again = await provider.render_keyframe("a ship at sea", "16:9", reference=reference)

    assert blended.data == again.data
    assert blended.data != plain.data

    def brightness(data: bytes) -> float:
        gray = PILImage.open(io.BytesIO(data)).convert("L").crop((0, 0, 160, 30))
        return sum(gray.tobytes()) / (160 * 30)

    assert brightness(blended.data) > brightness(plain.data)


async def test_keyframe_rejects_an_unknown_aspect(provider: LocalProvider) -> None:
    with pytest.raises(ProviderPermanentError):
        await provider.render_keyframe("x", "4:3")  # type: ignore[arg-type]


# -- narration ----------------------------------------------------------------


async def test_silent_narration_lasts_as_long_as_speech_and_has_subtitles(
    provider: LocalProvider,
) -> None:
    text = "The lamp flickers in the storm. " + " ".join(["word"] * 20) + "."
    words = len(text.split())
    narration = await provider.narrate(text, "Kore")

    with wave.open(io.BytesIO(narration.wav), "rb") as w:
        assert w.getnchannels() == 1
        assert w.getsampwidth() == 2
        assert w.getframerate() == 24_000
        seconds = w.getnframes() / w.getframerate()
        assert set(w.readframes(w.getnframes())) == {0}
    assert seconds == pytest.approx(words / 2.6, abs=0.01)
    assert narration.seconds == pytest.approx(seconds, abs=0.001)
    assert narration.extra["engine"] == "silent"

    assert narration.srt is not None
    cues = [block.splitlines() for block in narration.srt.strip().split("\n\n")]
    assert [c[0] for c in cues] == [str(i) for i in range(1, len(cues) + 1)]
    assert cues[0][1].startswith("00:00:00,000 --> ")
    assert cues[-1][1].endswith(f"--> 00:00:{int(seconds):02d},{round(seconds % 1 * 1000):03d}")
    assert " ".join(" ".join(c[2:]) for c in cues) == text.strip()
    assert narration.charge is not None
    assert narration.charge.unit == "minute"
    assert narration.charge.usd == 0.0
    assert narration.charge.model == "local-narration"


async def test_short_narration_lasts_at_least_a_second_and_is_deterministic(
    provider: LocalProvider,
) -> None:
    a = await provider.narrate("Hi.", "Kore")
    b = await provider.narrate("Hi.", "Kore")
    assert a.seconds == 1.0
    assert a.wav == b.wav
    assert a.srt == "1\n00:00:00,000 --> 00:00:01,000\nHi.\n"


# -- clip operations (no rendering) ---------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "local-ops/0123456789abcdef-01234567",
        "operations/123",
        "local-ops/../../etc/passwd",
        "",
    ],
)
async def test_poll_of_an_unknown_operation_is_not_found(
    provider: LocalProvider, name: str
) -> None:
    result = await provider.poll_clip(name)
    assert isinstance(result, ClipFailed)
    assert result.code == "NOT_FOUND"
    assert result.transient is False


def test_motion_is_read_from_the_prompt_and_the_last_named_wins() -> None:
    assert motion_for("slow push in, smooth").name == "push in"
    assert motion_for("pan left; reviewer note: pan right instead").name == "pan right"
    assert motion_for("slow pull out").on_end
    drift = motion_for("a quiet harbour")
    assert drift.name == "drift"
    assert drift == motion_for("a quiet harbour")


def test_filtergraph_segments_add_up_to_the_requested_frames() -> None:
    graph = clip_filtergraph(motion_for("pan left"), 192, (640, 360), 24)
    # 45 % fade start, 40 % fade, each segment with one spare frame
    assert "d=164:" in graph  # 86 + 77 + 1 frames of the start keyframe
    assert "d=107:" in graph  # 192 - 86 + 1 frames of the end keyframe
    assert "offset=3.583333:duration=3.208333" in graph
    # a pull out settles on the end keyframe at the clip's very last frame (index 105)
    assert "on/105" in clip_filtergraph(motion_for("slow pull out"), 192, (640, 360), 24)


@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng is not installed")
async def test_espeak_narration_speaks_even_with_a_cloud_voice_name(
    settings: LocalProviderSettings,
) -> None:
    provider = LocalProvider(settings.model_copy(update={"use_espeak": True}))
    narration = await provider.narrate("The ship turns safely home.", "Kore")
    with wave.open(io.BytesIO(narration.wav), "rb") as w:
        assert w.getnframes() > 0
        assert narration.seconds == pytest.approx(w.getnframes() / w.getframerate())
    assert narration.extra["engine"] == "espeak-ng"
    assert narration.srt is not None
    assert narration.srt.startswith("1\n00:00:00,000 --> ")


def test_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REELGATE_LOCAL_BLOCKED_WORDS", '["gore", "weapon"]')
    monkeypatch.setenv("REELGATE_LOCAL_WIDTH_16_9", "320")
    monkeypatch.setenv("REELGATE_LOCAL_X264_PRESET", "ultrafast")
    s = LocalProviderSettings()
    assert s.blocked_words == ("gore", "weapon")
    assert s.size_for("16:9") == (320, 360)
    assert s.size_for("9:16") == (360, 640)
    assert s.fps == 24
    assert s.max_concurrent_renders == 2


async def test_every_charge_names_a_priced_model(provider: LocalProvider) -> None:
    board = await provider.plan_storyboard(BRIEF, 2, 8, "16:9")
    image = await provider.render_keyframe("x", "16:9")
    narration = await provider.narrate("Hello.", "Kore")
    for charge in (board.charge, image.charge, narration.charge):
        assert charge is not None
        assert charge.usd == 0.0
        assert model_entry(charge.model).provider == "local"
    assert model_entry(CLIP_MODEL).unit == "second"
