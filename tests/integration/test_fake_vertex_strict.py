"""The fake Vertex server is strict like Vertex: the real google-genai client against it.

Unknown and retired models answer 404, out-of-range Veo parameters 400 with Vertex's
messages and `details`, a per-model RPM quota 429, and storageUri is honoured.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from google import genai
from google.genai import errors as genai_errors
from google.genai import types

from tests.fakes.vertex import FakeVertex, tiny_jpeg, tiny_mp4, tiny_png
from tests.fixtures.vertex import static_credentials


@pytest.fixture
async def client(fake_vertex: FakeVertex) -> AsyncIterator[genai.Client]:
    made = genai.Client(
        vertexai=True,
        project="test-project",
        location="us-central1",
        credentials=static_credentials(),
        http_options=types.HttpOptions(base_url=fake_vertex.url, timeout=10_000),
    )
    try:
        yield made
    finally:
        await made.aio.aclose()


def _no_retry() -> types.HttpOptions:
    return types.HttpOptions(retry_options=types.HttpRetryOptions(attempts=1))


async def _create(
    client: genai.Client,
    *,
    model: str = "veo-3.1-generate-001",
    frame: bytes | None = None,
    frame_mime: str = "image/png",
    **config: Any,
) -> types.GenerateVideosOperation:
    return await client.aio.models.generate_videos(
        model=model,
        source=types.GenerateVideosSource(
            prompt="a quiet harbour",
            image=types.Image(image_bytes=frame or tiny_png("f"), mime_type=frame_mime),
        ),
        config=types.GenerateVideosConfig(http_options=_no_retry(), **config),
    )


def _violation(exc: genai_errors.APIError) -> dict[str, Any]:
    details = exc.details["error"]["details"]
    (bad_request,) = [d for d in details if d["@type"].endswith("google.rpc.BadRequest")]
    violation: dict[str, Any] = bad_request["fieldViolations"][0]
    return violation


@pytest.mark.parametrize("model", ["gemini-9-flash", "gemini-2.5-flash"])
async def test_unknown_or_retired_models_answer_404(
    client: genai.Client, fake_vertex: FakeVertex, model: str
) -> None:
    with pytest.raises(genai_errors.ClientError) as info:
        await client.aio.models.generate_content(
            model=model, contents="hello", config=types.GenerateContentConfig()
        )

    assert info.value.code == 404
    assert info.value.status == "NOT_FOUND"
    assert f"publishers/google/models/{model}` was not found" in str(info.value.message)
    with pytest.raises(genai_errors.ClientError, match="404"):
        await client.aio.models.get(model=model)


async def test_models_get_answers_for_a_catalogued_model(
    client: genai.Client, fake_vertex: FakeVertex
) -> None:
    found = await client.aio.models.get(model="veo-3.1-generate-001")

    assert found.name == "publishers/google/models/veo-3.1-generate-001"
    assert found.version == "001"
    (req,) = fake_vertex.requests_for("get_model")
    # google-genai asks the publisher model without the project prefix.
    assert req.method == "GET"
    assert req.path == "v1beta1/publishers/google/models/veo-3.1-generate-001"


async def test_a_model_retired_on_the_server_answers_404(
    client: genai.Client, fake_vertex: FakeVertex
) -> None:
    fake_vertex.retire("gemini-3.5-flash")

    with pytest.raises(genai_errors.ClientError, match="404"):
        await client.aio.models.get(model="gemini-3.5-flash")
    with pytest.raises(genai_errors.ClientError, match="404"):
        await _create(client, model="gemini-3.5-flash")


@pytest.mark.parametrize(
    ("config", "field", "message"),
    [
        ({"aspect_ratio": "1:1"}, "parameters.aspectRatio", "Unsupported aspect ratio: 1:1"),
        ({"resolution": "2160p"}, "parameters.resolution", "Unsupported resolution: 2160p"),
        (
            {"duration_seconds": 10},
            "parameters.durationSeconds",
            "`durationSeconds` is out of bound",
        ),
        (
            {"duration_seconds": 5},
            "parameters.durationSeconds",
            "Unsupported output video duration 5 seconds",
        ),
        (
            {"duration_seconds": 4, "resolution": "1080p"},
            "parameters.durationSeconds",
            "for resolution 1080p, supported durations are [8]",
        ),
        ({"number_of_videos": 5}, "parameters.sampleCount", "`sampleCount` is out of bound"),
    ],
)
async def test_invalid_veo_parameters_answer_400_with_details(
    client: genai.Client,
    fake_vertex: FakeVertex,
    config: dict[str, Any],
    field: str,
    message: str,
) -> None:
    with pytest.raises(genai_errors.ClientError) as info:
        await _create(client, **config)

    assert info.value.code == 400
    assert info.value.status == "INVALID_ARGUMENT"
    assert message in str(info.value.message)
    assert _violation(info.value)["field"] == field
    assert fake_vertex.accepted_creates == {}


async def test_a_jpeg_labelled_png_is_refused(
    client: genai.Client, fake_vertex: FakeVertex
) -> None:
    with pytest.raises(genai_errors.ClientError, match="does not match its bytes"):
        await _create(client, frame=tiny_jpeg("f"), frame_mime="image/png")
    # Labelled as what it is, the same JPEG is accepted.
    operation = await _create(client, frame=tiny_jpeg("f"), frame_mime="image/jpeg")
    assert operation.name


async def test_rpm_quota_answers_429_with_retry_info(
    client: genai.Client, fake_vertex: FakeVertex
) -> None:
    fake_vertex.limit_rpm("veo-3.1-generate-001", 1)
    await _create(client)

    with pytest.raises(genai_errors.ClientError) as info:
        await _create(client)

    assert info.value.code == 429
    assert info.value.status == "RESOURCE_EXHAUSTED"
    assert "Quota exceeded" in str(info.value.message)
    details = info.value.details["error"]["details"]
    assert {d["@type"].rsplit(".", 1)[-1] for d in details} == {"ErrorInfo", "RetryInfo"}
    # Another model has its own quota.
    assert (await _create(client, model="veo-3.1-fast-generate-001")).name
    assert sum(fake_vertex.accepted_creates.values()) == 2


async def test_storage_uri_is_honoured(client: genai.Client, fake_vertex: FakeVertex) -> None:
    fake_vertex.polls_until_done = 0
    inline = await _create(client)
    to_bucket = await _create(client, output_gcs_uri="gs://bucket/clips/")

    done_inline = await client.aio.operations.get(inline)
    done_bucket = await client.aio.operations.get(to_bucket)

    assert done_inline.response is not None
    assert done_inline.response.generated_videos is not None
    video = done_inline.response.generated_videos[0].video
    assert video is not None
    assert video.video_bytes == tiny_mp4()
    assert done_bucket.response is not None
    assert done_bucket.response.generated_videos is not None
    stored = done_bucket.response.generated_videos[0].video
    assert stored is not None
    assert stored.video_bytes is None
    assert stored.uri is not None
    assert stored.uri.startswith("gs://bucket/clips/")
    assert fake_vertex.gcs_objects == {stored.uri: tiny_mp4()}
    # Cloud Storage wants a bearer token.
    url = (
        fake_vertex.url + "storage/v1/b/bucket/o/" + stored.uri.split("/", 3)[3].replace("/", "%2F")
    )
    async with httpx.AsyncClient() as http:
        anonymous = await http.get(url, params={"alt": "media"})
        signed = await http.get(url, params={"alt": "media"}, headers={"Authorization": "Bearer t"})
    assert anonymous.status_code == 401
    assert signed.content == tiny_mp4()


async def test_a_held_create_takes_no_operation_and_fails_when_released(
    client: genai.Client, fake_vertex: FakeVertex
) -> None:
    await _create(client)
    held = fake_vertex.hold_creates(after=1)
    second = asyncio.create_task(_create(client))
    await asyncio.to_thread(held.wait, 10)
    assert held.is_set()
    assert not second.done()

    fake_vertex.release_creates()

    with pytest.raises(genai_errors.ServerError) as info:
        await second
    assert info.value.code == 503
    # It reached Vertex (counted on arrival) but made no operation: nothing billed.
    assert fake_vertex.total_creates == 2
    assert sum(fake_vertex.accepted_creates.values()) == 1
    assert len(fake_vertex.operations) == 1
    assert (await _create(client)).name  # released: creates pass again


async def test_an_operation_records_when_it_was_first_polled_done(
    client: genai.Client, fake_vertex: FakeVertex
) -> None:
    fake_vertex.polls_until_done = 0
    fake_vertex.seconds_until_done = 0.3
    started = await _create(client)
    [op] = fake_vertex.operations.values()

    assert not (await client.aio.operations.get(started)).done
    assert op.done_polled_at is None
    await asyncio.sleep(0.35)
    assert (await client.aio.operations.get(started)).done
    assert (await client.aio.operations.get(started)).done

    assert op.latency_s == 0.3
    assert len(op.poll_times) == 3
    assert op.done_polled_at == op.poll_times[1]  # the first "done", not a later one
    assert op.done_polled_at >= op.finished_at
    name = fake_vertex.seed_pending_operation("veo-3.1-generate-001", "still going")
    assert fake_vertex.operations[name].outcome == "never"
