"""google provider: the failures Vertex really returns, against the strict fake.

Safety blocks on input and output, 404 for a model Vertex no longer serves, and
operations that finish with neither a video nor a reason.
"""

from __future__ import annotations

import pytest

from orchestrator.errors import ConfigError, ContentFiltered, ProviderPermanentError
from orchestrator.providers import (
    ClipFiltered,
    ClipOutcomeUnknown,
    ClipRequest,
    GoogleProvider,
    Image,
)
from tests.fakes.vertex import INPUT_BLOCK_MESSAGE, FakeVertex, tiny_png
from tests.fixtures.vertex import MakeGoogleSettings, static_credentials
from tests.helpers.clips import poll_until_finished


def _request(prompt: str = "a calm sea", seconds: int = 8) -> ClipRequest:
    return ClipRequest(
        start_frame=Image(tiny_png("s")),
        end_frame=Image(tiny_png("e")),
        prompt=prompt,
        seconds=seconds,
        aspect="16:9",
    )


async def test_storyboard_prompt_feedback_block_is_content_filtered(
    google_provider: GoogleProvider, fake_vertex: FakeVertex
) -> None:
    fake_vertex.block_generate("massacre", kind="prompt_feedback")

    with pytest.raises(ContentFiltered) as info:
        await google_provider.plan_storyboard("a massacre", 2, 8, "16:9")

    assert info.value.reasons == (
        "prompt blocked: PROHIBITED_CONTENT (The prompt was blocked (prohibited content).)",
    )
    assert info.value.model == "gemini-3.5-flash"
    assert not info.value.transient
    assert len(fake_vertex.requests_for("generate")) == 1  # a paid call, sent once


async def test_storyboard_400_in_safety_wording_is_content_filtered(
    google_provider: GoogleProvider, fake_vertex: FakeVertex
) -> None:
    fake_vertex.block_generate("massacre", kind="invalid_argument")

    with pytest.raises(ContentFiltered) as info:
        await google_provider.plan_storyboard("a massacre", 2, 8, "16:9")

    assert info.value.reasons == (INPUT_BLOCK_MESSAGE,)
    assert len(fake_vertex.requests_for("generate")) == 1


async def test_keyframe_image_safety_is_content_filtered(
    google_provider: GoogleProvider, fake_vertex: FakeVertex
) -> None:
    fake_vertex.block_generate("duel", kind="image_safety")

    with pytest.raises(ContentFiltered) as info:
        await google_provider.render_keyframe("a bloody duel", "16:9")

    (reason,) = info.value.reasons
    assert reason.startswith("output blocked: IMAGE_SAFETY (Unable to show the generated image")
    assert "Support codes: 17301594" in reason
    assert info.value.model == "gemini-3.1-flash-image"


async def test_keyframe_prompt_feedback_is_content_filtered(
    google_provider: GoogleProvider, fake_vertex: FakeVertex
) -> None:
    fake_vertex.block_generate("duel", kind="prompt_feedback")

    with pytest.raises(ContentFiltered, match="PROHIBITED_CONTENT"):
        await google_provider.render_keyframe("a bloody duel", "16:9")


async def test_narration_block_is_content_filtered(
    google_provider: GoogleProvider, fake_vertex: FakeVertex
) -> None:
    fake_vertex.block_generate("curse", kind="prompt_feedback")

    with pytest.raises(ContentFiltered):
        await google_provider.narrate("a curse upon you", "Kore")


async def test_create_refused_by_the_input_filter_is_content_filtered_and_sent_once(
    google_provider: GoogleProvider, fake_vertex: FakeVertex
) -> None:
    fake_vertex.block_prompts("storm")

    with pytest.raises(ContentFiltered) as info:
        await google_provider.start_clip(_request("a storm"))

    assert info.value.reasons == (INPUT_BLOCK_MESSAGE,)
    assert info.value.model == "veo-3.1-generate-001"
    assert fake_vertex.create_calls == {"a storm": 1}
    assert fake_vertex.accepted_creates == {}


async def test_operation_whose_prompt_could_not_be_submitted_is_filtered_at_zero(
    google_provider: GoogleProvider, fake_vertex: FakeVertex
) -> None:
    fake_vertex.block_prompts("storm", at="operation")
    name = await google_provider.start_clip(_request("a storm"))

    result = await poll_until_finished(google_provider, name, deadline_s=5)

    assert isinstance(result, ClipFiltered)
    assert result.reasons == (INPUT_BLOCK_MESSAGE,)
    assert result.charge is not None
    assert result.charge.usd == 0.0


async def test_operation_with_neither_video_nor_reason_is_outcome_unknown(
    google_provider: GoogleProvider, fake_vertex: FakeVertex
) -> None:
    fake_vertex.finish_empty("void")
    name = await google_provider.start_clip(_request("the void"))

    result = await poll_until_finished(google_provider, name, deadline_s=5)

    assert isinstance(result, ClipOutcomeUnknown)
    assert "may have been generated and billed" in result.message
    assert fake_vertex.create_calls == {"the void": 1}


async def test_model_gone_from_vertex_is_a_permanent_404(
    google_provider: GoogleProvider, fake_vertex: FakeVertex
) -> None:
    # Retired on the server earlier than the catalogue says: a clear, permanent error.
    fake_vertex.retire("gemini-3.1-flash-image")

    with pytest.raises(ProviderPermanentError, match=r"404 NOT_FOUND.*was not found") as info:
        await google_provider.render_keyframe("a boat", "16:9")
    assert not isinstance(info.value, ContentFiltered)


async def test_retired_model_fails_when_the_provider_is_built(
    google_settings: MakeGoogleSettings, fake_vertex: FakeVertex
) -> None:
    with pytest.raises(ConfigError, match=r"REELGATE_GOOGLE_STORYBOARD_MODEL=gemini-3\.5-flash"):
        GoogleProvider(
            google_settings(storyboard_model="gemini-2.5-flash"), credentials=static_credentials()
        )
    with pytest.raises(ConfigError, match="REELGATE_GOOGLE_TTS_MODEL"):
        GoogleProvider(
            google_settings(tts_model="gemini-2.5-flash"), credentials=static_credentials()
        )
    assert fake_vertex.requests == []  # refused before any request
