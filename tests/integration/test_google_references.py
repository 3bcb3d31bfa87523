"""google provider: reference images go inline to Gemini, checked by the strict fake."""

from __future__ import annotations

import pytest
from google.genai import errors as genai_errors
from google.genai import types

from orchestrator.errors import ProviderPermanentError
from orchestrator.providers import GoogleProvider, Image
from tests.fakes.vertex import FakeVertex, inline_images
from tests.helpers.references import image_bytes

BOTTLE = Image(image_bytes((200, 30, 30)), "image/png")
LABEL = Image(image_bytes((30, 30, 200), fmt="JPEG"), "image/jpeg")


def text_of(body: dict[str, object]) -> str:
    parts = body["contents"][0]["parts"]  # type: ignore[index]
    return " ".join(p["text"] for p in parts if p.get("text"))


async def test_keyframe_sends_references_then_the_previous_frame_then_the_prompt(
    google_provider: GoogleProvider, fake_vertex: FakeVertex
) -> None:
    previous = await google_provider.render_keyframe("a beach", "16:9", references=[BOTTLE])
    await google_provider.render_keyframe(
        "the bottle in a hand", "16:9", reference=previous, references=[BOTTLE, LABEL]
    )

    first, second = (r.body for r in fake_vertex.requests_for("generate"))
    assert inline_images(first) == [("image/png", BOTTLE.data)]
    assert text_of(first) == (
        "The image is the creator's reference image (a product, a character or a style): "
        "keep what they show recognisable and faithful in this frame. New frame: a beach"
    )
    assert inline_images(second) == [
        ("image/png", BOTTLE.data),
        ("image/jpeg", LABEL.data),
        (previous.mime_type, previous.data),
    ]
    text = text_of(second)
    assert text.startswith("The first 2 images are the creator's reference images")
    assert "Keep the characters, palette, lighting and style of the last image" in text
    assert text.endswith("New frame: the bottle in a hand")
    assert second["contents"][0]["parts"][-1]["text"] == text  # type: ignore[index]


async def test_storyboard_reads_the_references_with_the_brief(
    google_provider: GoogleProvider, fake_vertex: FakeVertex
) -> None:
    board = await google_provider.plan_storyboard(
        "Glow, a sun lotion", 2, 8, "16:9", references=[BOTTLE, LABEL]
    )
    assert len(board.shots) == 2
    (request,) = fake_vertex.requests_for("generate")
    assert inline_images(request.body) == [("image/png", BOTTLE.data), ("image/jpeg", LABEL.data)]
    assert "The 2 attached images are the creator's reference images" in text_of(request.body)
    # Without references the request is as before: text only.
    await google_provider.plan_storyboard("Glow", 2, 8, "16:9")
    assert inline_images(fake_vertex.requests_for("generate")[1].body) == []


async def test_more_images_than_the_model_reads_are_refused_before_sending(
    google_provider: GoogleProvider, fake_vertex: FakeVertex
) -> None:
    # gemini-3.1-flash-image reads 14: 14 references plus the previous frame is 15.
    with pytest.raises(ProviderPermanentError, match="takes at most 14 input images"):
        await google_provider.render_keyframe(
            "x", "16:9", reference=BOTTLE, references=[LABEL] * 14
        )
    assert fake_vertex.requests_for("generate") == []
    await google_provider.render_keyframe("x", "16:9", references=[LABEL] * 14)
    assert len(inline_images(fake_vertex.requests_for("generate")[0].body)) == 14


@pytest.mark.parametrize(
    ("images", "message"),
    [
        ([LABEL] * 15, "accepts at most 14 images per prompt"),
        ([Image(LABEL.data, "image/png")], "does not match its bytes (image/jpeg)"),
        ([Image(b"GIF89a" + bytes(20), "image/gif")], "Unsupported MIME type: image/gif"),
        ([Image(b"\x89PNG\r\n\x1a\n" + bytes(8 * 1024 * 1024), "image/png")], "7 MB limit"),
    ],
)
async def test_the_fake_checks_input_images_like_vertex(
    google_provider: GoogleProvider,
    fake_vertex: FakeVertex,
    images: list[Image],
    message: str,
) -> None:
    parts = [types.Part.from_bytes(data=i.data, mime_type=i.mime_type) for i in images]
    parts.append(types.Part.from_text(text="a frame"))
    with pytest.raises(genai_errors.ClientError) as caught:
        await google_provider._client.aio.models.generate_content(
            model="gemini-3.1-flash-image",
            contents=[types.Content(role="user", parts=parts)],
            config=types.GenerateContentConfig(response_modalities=["IMAGE"]),
        )
    assert caught.value.code == 400
    assert message in str(caught.value)
