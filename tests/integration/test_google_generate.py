"""google provider: storyboard, keyframes and narration against the fake Vertex server."""

from __future__ import annotations

import io
import wave

import pytest
from PIL import Image as PILImage

from orchestrator.errors import ProviderPermanentError, ProviderTransientError
from orchestrator.providers import GoogleProvider, Image
from tests.fakes.vertex import FakeVertex, b64decode_any
from tests.fixtures.vertex import MakeGoogleSettings


async def test_storyboard_json_becomes_shots(
    google_provider: GoogleProvider, fake_vertex: FakeVertex
) -> None:
    board = await google_provider.plan_storyboard(
        "a lighthouse keeper's day", n_shots=4, seconds=8, aspect="16:9", notes={2: "warmer light"}
    )

    assert len(board.shots) == 4
    assert [s.number for s in board.shots] == [1, 2, 3, 4]
    assert all(s.seconds == 8 and s.visual_prompt and s.narration for s in board.shots)
    (req,) = fake_vertex.requests_for("generate")
    assert req.path.startswith("v1beta1/projects/test-project/locations/us-central1/")
    assert req.model == "gemini-3.5-flash"
    config = req.body["generationConfig"]
    assert config["responseMimeType"] == "application/json"
    schema = config["responseSchema"]
    assert schema["type"] == "OBJECT"
    assert schema["properties"]["shots"]["min_items"] == 4
    prompt = req.body["contents"][0]["parts"][0]["text"]
    assert "Reviewer note for shot 2: warmer light" in prompt
    assert req.headers["authorization"] == "Bearer fake-vertex-token"


async def test_storyboard_invalid_json_is_permanent_with_text(
    google_provider: GoogleProvider, fake_vertex: FakeVertex
) -> None:
    fake_vertex.json_text = '{"title": "oops", "shots": [ {"visual_prompt": '

    with pytest.raises(ProviderPermanentError) as info:
        await google_provider.plan_storyboard("brief", n_shots=2, seconds=8, aspect="16:9")

    assert info.value.detail == fake_vertex.json_text
    assert not info.value.transient


async def test_storyboard_wrong_shot_count_is_permanent(
    google_provider: GoogleProvider, fake_vertex: FakeVertex
) -> None:
    fake_vertex.json_text = '{"title": "t", "shots": []}'

    with pytest.raises(ProviderPermanentError, match="invalid JSON"):
        await google_provider.plan_storyboard("brief", n_shots=2, seconds=8, aspect="16:9")


async def test_keyframes_pass_previous_frame_as_reference(
    google_provider: GoogleProvider, fake_vertex: FakeVertex
) -> None:
    first = await google_provider.render_keyframe("a red lighthouse at dawn", "16:9")
    second = await google_provider.render_keyframe(
        "the lighthouse at noon", "16:9", reference=first
    )
    third = await google_provider.render_keyframe(
        "the lighthouse at dusk", "16:9", reference=second
    )

    for img in (first, second, third):
        assert img.mime_type == "image/png"
        assert PILImage.open(io.BytesIO(img.data)).size == (64, 36)
        assert img.charge is not None
        assert img.charge.unit == "image"
        assert img.charge.usd > 0
    requests = fake_vertex.requests_for("generate")
    assert len(requests) == 3
    image_parts = [
        [p for p in r.body["contents"][0]["parts"] if "inlineData" in p] for r in requests
    ]
    # Two references in all: frame 1 had none, frames 2 and 3 one each.
    assert [len(p) for p in image_parts] == [0, 1, 1]
    assert b64decode_any(image_parts[1][0]["inlineData"]["data"]) == first.data
    assert b64decode_any(image_parts[2][0]["inlineData"]["data"]) == second.data
    for r in requests:
        assert r.body["generationConfig"]["responseModalities"] == ["IMAGE"]
        assert r.body["generationConfig"]["imageConfig"]["aspectRatio"] == "16:9"


async def test_keyframe_portrait_aspect(google_provider: GoogleProvider) -> None:
    img = await google_provider.render_keyframe("a tall tower", "9:16")
    assert PILImage.open(io.BytesIO(img.data)).size == (36, 64)


async def test_narration_is_a_24khz_mono_wav(
    google_provider: GoogleProvider, fake_vertex: FakeVertex
) -> None:
    text = "The keeper climbs the stairs one last time"  # 8 words
    narration = await google_provider.narrate(text, "Puck")

    with wave.open(io.BytesIO(narration.wav), "rb") as wav:
        assert wav.getframerate() == 24_000
        assert wav.getnchannels() == 1
        assert wav.getsampwidth() == 2
        seconds = wav.getnframes() / wav.getframerate()
    expected = 8 * fake_vertex.tts_seconds_per_word
    assert seconds == pytest.approx(expected, abs=0.01)
    assert narration.seconds == pytest.approx(expected, abs=0.01)
    assert narration.charge is not None
    # Priced as TTS: the response's text tokens plus its audio tokens (25 a second).
    assert narration.charge.unit == "token"
    assert narration.charge.model == "gemini-2.5-flash-tts"
    audio_tokens = round(expected * 25)
    assert narration.charge.units == 8 + audio_tokens
    assert narration.charge.usd == pytest.approx((8 * 0.50 + audio_tokens * 10.0) / 1e6)
    (req,) = fake_vertex.requests_for("generate")
    cfg = req.body["generationConfig"]
    assert cfg["responseModalities"] == ["AUDIO"]
    voice = cfg["speechConfig"]["voiceConfig"]["prebuiltVoiceConfig"]
    assert (voice.get("voiceName") or voice.get("voice_name")) == "Puck"


async def test_generate_http_errors_map_to_transient_and_permanent(
    google_provider: GoogleProvider, fake_vertex: FakeVertex
) -> None:
    fake_vertex.fail_next("generate", 503)
    with pytest.raises(ProviderTransientError):
        await google_provider.render_keyframe("x", "16:9")
    fake_vertex.fail_next("generate", 403)
    with pytest.raises(ProviderPermanentError, match="403"):
        await google_provider.render_keyframe("x", "16:9")
    # Generation calls are paid: the SDK did not retry them.
    assert len(fake_vertex.requests_for("generate")) == 2


async def test_express_mode_api_key(
    fake_vertex: FakeVertex, google_settings: MakeGoogleSettings
) -> None:
    provider = GoogleProvider(google_settings(project="", api_key="AIzaExpressKey0123456789"))
    try:
        img = await provider.render_keyframe("a boat", "16:9")
    finally:
        await provider.aclose()
    assert isinstance(img, Image)
    (req,) = fake_vertex.requests_for("generate")
    assert req.headers["x-goog-api-key"] == "AIzaExpressKey0123456789"
    assert "authorization" not in req.headers
    # Express mode has no projects/{p}/locations/{l} prefix.
    assert req.path.startswith("v1beta1/publishers/google/models/gemini-3.1-flash-image:")


async def test_storyboard_cost_is_token_true(
    google_provider: GoogleProvider, fake_vertex: FakeVertex
) -> None:
    fake_vertex.thoughts_tokens = 1_234
    board = await google_provider.plan_storyboard("a lighthouse keeper", 3, 8, "16:9")

    # The fake reports prompt words, ~4 characters per output token, and the thinking.
    (req,) = fake_vertex.requests_for("generate")
    prompt_tokens = len(req.body["contents"][0]["parts"][0]["text"].split())
    assert board.charge is not None
    output_tokens = int(board.charge.units) - prompt_tokens - 1_234
    assert output_tokens > 0
    assert board.charge.unit == "token"
    assert board.charge.model == "gemini-3.5-flash"
    # $1.50 per 1M prompt tokens; candidates and thinking at $9.00.
    expected = (prompt_tokens * 1.50 + (output_tokens + 1_234) * 9.00) / 1e6
    assert board.charge.usd == pytest.approx(expected, abs=1e-6)


@pytest.mark.parametrize("label", [None, "image/png"])
async def test_jpeg_keyframes_keep_their_type(
    google_provider: GoogleProvider, fake_vertex: FakeVertex, label: str | None
) -> None:
    # Current image models may answer JPEG, sometimes labelled PNG: the bytes decide.
    fake_vertex.image_format = "jpeg"
    fake_vertex.image_mime_label = label

    first = await google_provider.render_keyframe("a red lighthouse", "16:9")
    second = await google_provider.render_keyframe("at noon", "16:9", reference=first)

    assert first.data[:3] == b"\xff\xd8\xff"
    assert first.mime_type == "image/jpeg"
    assert PILImage.open(io.BytesIO(first.data)).format == "JPEG"
    # The reference goes back to the model labelled as what it is.
    ref = fake_vertex.requests_for("generate")[1].body["contents"][0]["parts"]
    (inline,) = [p["inlineData"] for p in ref if "inlineData" in p]
    # (google-genai 3.6 sends it as `mime_type`; Vertex's proto JSON takes either name.)
    assert (inline.get("mimeType") or inline.get("mime_type")) == "image/jpeg"
    assert second.mime_type == "image/jpeg"
    assert first.charge is not None
    assert first.charge.usd == pytest.approx(0.067)
