"""google provider: Veo clips (create once, poll, filter, errors) against the fake server."""

from __future__ import annotations

import hashlib
import time

import pytest

from orchestrator.errors import (
    ConfigError,
    ProviderPermanentError,
    ProviderTransientError,
    SubmitOutcomeUnknown,
)
from orchestrator.providers import (
    ClipDone,
    ClipFailed,
    ClipFiltered,
    ClipPending,
    ClipPoll,
    ClipRequest,
    GoogleProvider,
    Image,
    rephrase_for_safety,
    should_rephrase,
)
from tests.fakes.vertex import FakeVertex, b64decode_any, tiny_jpeg, tiny_mp4, tiny_png
from tests.fixtures.vertex import MakeGoogleSettings, static_credentials
from tests.helpers.clips import poll_until_finished

START = Image(tiny_png("start"))
END = Image(tiny_png("end"))


async def _start(provider: GoogleProvider, prompt: str = "a calm sea", seconds: int = 8) -> str:
    return await provider.start_clip(
        ClipRequest(
            start_frame=START,
            end_frame=END,
            prompt=prompt,
            seconds=seconds,
            aspect="16:9",
            negative_prompt="text, watermark",
        )
    )


async def _wait(provider: GoogleProvider, name: str, deadline_s: float = 5.0) -> ClipPoll:
    return await poll_until_finished(provider, name, deadline_s=deadline_s)


async def test_create_request_carries_frames_and_config(
    google_provider: GoogleProvider, fake_vertex: FakeVertex
) -> None:
    name = await _start(google_provider, "waves roll in", seconds=6)

    assert name.startswith(
        "projects/test-project/locations/us-central1/publishers/google/models/"
        "veo-3.1-generate-001/operations/"
    )
    (req,) = fake_vertex.requests_for("create")
    assert req.path == (
        "v1beta1/projects/test-project/locations/us-central1/publishers/google/models/"
        "veo-3.1-generate-001:predictLongRunning"
    )
    instance = req.body["instances"][0]
    assert instance["prompt"] == "waves roll in"
    assert b64decode_any(instance["image"]["bytesBase64Encoded"]) == START.data
    assert instance["image"]["mimeType"] == "image/png"
    assert b64decode_any(instance["lastFrame"]["bytesBase64Encoded"]) == END.data
    assert instance["lastFrame"]["mimeType"] == "image/png"
    params = req.body["parameters"]
    assert params["durationSeconds"] == 6
    assert params["aspectRatio"] == "16:9"
    assert params["negativePrompt"] == "text, watermark"
    assert params["sampleCount"] == 1
    assert params["generateAudio"] is False
    assert fake_vertex.create_calls == {"waves roll in": 1}


async def test_poll_pending_then_done_with_bytes(
    google_provider: GoogleProvider, fake_vertex: FakeVertex
) -> None:
    fake_vertex.polls_until_done = 2
    name = await _start(google_provider)

    assert isinstance(await google_provider.poll_clip(name), ClipPending)
    assert isinstance(await google_provider.poll_clip(name), ClipPending)
    done = await google_provider.poll_clip(name)

    assert isinstance(done, ClipDone)
    assert done.video is not None
    assert hashlib.sha256(done.video).digest() == hashlib.sha256(tiny_mp4()).digest()
    assert done.video[4:8] == b"ftyp"
    assert done.uri is None
    assert done.mime_type == "video/mp4"
    assert done.charge is not None
    assert done.charge.units == 8
    assert done.charge.unit == "second"
    assert done.charge.usd == pytest.approx(8 * 0.20)
    body = fake_vertex.requests_for("poll")[0].body
    assert body == {"operationName": name}


async def test_gcs_delivery_is_downloaded_with_the_project_credentials(
    fake_vertex: FakeVertex, google_settings: MakeGoogleSettings
) -> None:
    settings = google_settings(
        output_gcs_uri="gs://reelgate-clips/veo", gcs_base_url=fake_vertex.url
    )
    provider = GoogleProvider(settings, credentials=static_credentials("gcs-token"))
    try:
        name = await _start(provider, seconds=4)
        result = await _wait(provider, name)
    finally:
        await provider.aclose()

    # Vertex was asked to write to the bucket, and answered with a gs:// URI ...
    (create,) = fake_vertex.requests_for("create")
    assert create.body["parameters"]["storageUri"] == "gs://reelgate-clips/veo/"
    (uri,) = fake_vertex.gcs_objects
    assert uri.startswith("gs://reelgate-clips/veo/")
    # ... which the provider read through the Cloud Storage API with the same token.
    (read,) = fake_vertex.requests_for("gcs_read")
    assert read.headers["authorization"] == "Bearer gcs-token"
    assert isinstance(result, ClipDone)
    assert result.video == tiny_mp4()
    assert result.uri is None  # nothing left for the pipeline to fetch
    assert result.charge is not None
    assert result.charge.units == 4


async def test_gcs_delivery_needs_project_credentials(google_settings: MakeGoogleSettings) -> None:
    # An express-mode API key cannot read Cloud Storage: refused at start, not at poll.
    with pytest.raises(ConfigError, match="express-mode API key cannot read Cloud Storage"):
        GoogleProvider(
            google_settings(project="", api_key="AIzaKey0123", output_gcs_uri="gs://b/p/")
        )


async def test_a_gcs_object_that_cannot_be_read_is_a_clear_error(
    fake_vertex: FakeVertex, google_settings: MakeGoogleSettings
) -> None:
    fake_vertex.polls_until_done = 0
    settings = google_settings(output_gcs_uri="gs://reelgate-clips/", gcs_base_url=fake_vertex.url)
    provider = GoogleProvider(settings, credentials=static_credentials("gcs-token"))
    try:
        name = await _start(provider)
        assert isinstance(await provider.poll_clip(name), ClipDone)
        # The object vanished (a lifecycle rule, another bucket): a permanent, named error.
        fake_vertex.gcs_objects.clear()
        with pytest.raises(ProviderPermanentError, match=r"gs://reelgate-clips/.*HTTP 404"):
            await provider.poll_clip(name)
    finally:
        await provider.aclose()


async def test_rai_filtered_is_free_with_reasons(
    google_provider: GoogleProvider, fake_vertex: FakeVertex
) -> None:
    fake_vertex.filter_prompts(r"battle", reasons=("Support codes: 29310472",))
    result = await _wait(google_provider, await _start(google_provider, "a bloody battle"))

    assert isinstance(result, ClipFiltered)
    assert result.reasons == ("Support codes: 29310472",)
    assert result.charge is not None
    assert result.charge.usd == 0.0


async def test_rephrase_after_filter_is_bounded_and_succeeds(
    google_provider: GoogleProvider, fake_vertex: FakeVertex
) -> None:
    # The filter objects to gore and weapons; the rephrase removes both words.
    fake_vertex.filter_prompts(r"(?i)bloody|swords")
    prompt = "two knights fight a bloody battle with swords"
    retries = google_provider.settings.rai_rephrase_retries
    assert retries == 1
    result = await _wait(google_provider, await _start(google_provider, prompt))
    rephrases = 0
    while isinstance(result, ClipFiltered) and should_rephrase(rephrases, retries):
        rephrases += 1
        prompt = rephrase_for_safety(prompt, result.reasons, rephrases)
        result = await _wait(google_provider, await _start(google_provider, prompt))

    assert isinstance(result, ClipDone)
    assert rephrases == 1
    assert "bloody" not in prompt
    assert "swords" not in prompt
    # One create per distinct prompt: the original and its rephrase.
    assert fake_vertex.total_creates == 2
    assert set(fake_vertex.create_calls.values()) == {1}


@pytest.mark.parametrize(
    ("code", "name", "transient"),
    [
        (8, "RESOURCE_EXHAUSTED", True),
        (14, "UNAVAILABLE", True),
        (13, "INTERNAL", True),
        (4, "DEADLINE_EXCEEDED", True),
        (3, "INVALID_ARGUMENT", False),
        (7, "PERMISSION_DENIED", False),
        (5, "NOT_FOUND", False),
    ],
)
async def test_operation_error_maps_rpc_code(
    google_provider: GoogleProvider,
    fake_vertex: FakeVertex,
    code: int,
    name: str,
    transient: bool,
) -> None:
    fake_vertex.fail_operations(r".", code=code, message=f"boom {code}")
    result = await _wait(google_provider, await _start(google_provider))

    assert result == ClipFailed(code=name, message=f"boom {code}", transient=transient)


@pytest.mark.parametrize("status", [429, 503, 500])
async def test_http_errors_on_poll_are_transient(
    google_provider: GoogleProvider, fake_vertex: FakeVertex, status: int
) -> None:
    name = await _start(google_provider)
    attempts = google_provider.settings.read_retry_attempts
    fake_vertex.fail_next("poll", status, times=attempts)

    with pytest.raises(ProviderTransientError, match=str(status)):
        await google_provider.poll_clip(name)
    # The SDK retried the read `attempts` times, then the next poll succeeds.
    assert fake_vertex.poll_calls[name] == 0
    assert len(fake_vertex.requests_for("poll")) == attempts
    assert isinstance(await _wait(google_provider, name), ClipDone)


async def test_one_poll_error_is_absorbed_by_read_retry(
    google_provider: GoogleProvider, fake_vertex: FakeVertex
) -> None:
    fake_vertex.polls_until_done = 0
    name = await _start(google_provider)
    fake_vertex.fail_next("poll", 503, times=1)

    assert isinstance(await google_provider.poll_clip(name), ClipDone)
    assert len(fake_vertex.requests_for("poll")) == 2


@pytest.mark.parametrize("status", [400, 403, 404])
async def test_permanent_http_errors_on_poll(
    google_provider: GoogleProvider, fake_vertex: FakeVertex, status: int
) -> None:
    name = await _start(google_provider)
    fake_vertex.fail_next("poll", status)

    with pytest.raises(ProviderPermanentError, match=str(status)):
        await google_provider.poll_clip(name)
    assert len(fake_vertex.requests_for("poll")) == 1  # not retried


async def test_unknown_operation_is_permanent(google_provider: GoogleProvider) -> None:
    bogus = (
        "projects/test-project/locations/us-central1/publishers/google/models/"
        "veo-3.1-generate-001/operations/00000000-0000-0000-0000-000000000000"
    )
    with pytest.raises(ProviderPermanentError, match="404"):
        await google_provider.poll_clip(bogus)


async def test_400_on_create_is_permanent_and_sent_once(
    google_provider: GoogleProvider, fake_vertex: FakeVertex
) -> None:
    fake_vertex.fail_next("create", 400, message="Image is not a supported format.")

    with pytest.raises(ProviderPermanentError, match="not a supported format"):
        await _start(google_provider, "rejected")
    assert fake_vertex.create_calls == {"rejected": 1}


async def test_503_on_create_is_not_retried(
    google_provider: GoogleProvider, fake_vertex: FakeVertex
) -> None:
    fake_vertex.fail_next("create", 503, times=5)

    with pytest.raises(ProviderTransientError) as info:
        await _start(google_provider, "busy")
    assert not isinstance(info.value, SubmitOutcomeUnknown)  # Vertex said no: nothing exists
    assert fake_vertex.create_calls == {"busy": 1}


async def test_429_on_create_backs_off_and_creates_once(
    google_provider: GoogleProvider, fake_vertex: FakeVertex
) -> None:
    # 429 means Vertex took nothing: trying again cannot pay twice.
    fake_vertex.fail_next("create", 429, times=2)

    name = await _start(google_provider, "crowded")

    assert name.endswith(tuple("0123456789abcdef"))
    assert fake_vertex.create_calls == {"crowded": 3}  # two refused, one accepted
    assert fake_vertex.accepted_creates == {"crowded": 1}


async def test_429_until_the_retries_run_out_is_transient_not_unknown(
    google_provider: GoogleProvider, fake_vertex: FakeVertex
) -> None:
    retries = google_provider.settings.rate_limit_retries
    fake_vertex.fail_next("create", 429, times=retries + 1)

    with pytest.raises(ProviderTransientError, match="429") as info:
        await _start(google_provider, "still busy")
    assert not isinstance(info.value, SubmitOutcomeUnknown)
    assert fake_vertex.create_calls == {"still busy": retries + 1}
    assert fake_vertex.accepted_creates == {}


async def test_per_model_rpm_quota_is_ridden_out_and_each_clip_created_once(
    google_provider: GoogleProvider, fake_vertex: FakeVertex
) -> None:
    # Two creates per 0.3 s for Veo: the third and fourth get 429 with a RetryInfo delay.
    fake_vertex.limit_rpm("veo-3.1-generate-001", 2, window_s=0.3)

    names = [await _start(google_provider, f"wave {i}") for i in range(4)]

    assert len(set(names)) == 4
    assert fake_vertex.accepted_creates == {f"wave {i}": 1 for i in range(4)}
    assert fake_vertex.total_creates > 4  # some were refused with 429 first


@pytest.mark.parametrize("status", [500, 504])
async def test_500_or_504_on_create_is_outcome_unknown(
    google_provider: GoogleProvider, fake_vertex: FakeVertex, status: int
) -> None:
    fake_vertex.fail_next("create", status, times=3)

    with pytest.raises(SubmitOutcomeUnknown, match="do not resubmit"):
        await _start(google_provider, "maybe made")
    assert fake_vertex.create_calls == {"maybe made": 1}  # never sent again


async def test_create_timeout_is_outcome_unknown(
    fake_vertex: FakeVertex, google_settings: MakeGoogleSettings
) -> None:
    fake_vertex.latency_s = 0.5
    provider = GoogleProvider(google_settings(timeout_ms=100), credentials=static_credentials())
    try:
        with pytest.raises(SubmitOutcomeUnknown, match="do not resubmit"):
            await _start(provider, "slow")
    finally:
        await provider.aclose()
    assert len(fake_vertex.requests_for("create")) == 1


@pytest.mark.parametrize("seconds", [0, 5, 7, 10])
async def test_unsupported_duration_is_refused_before_any_request(
    google_provider: GoogleProvider, fake_vertex: FakeVertex, seconds: int
) -> None:
    with pytest.raises(ProviderPermanentError, match="4, 6 or 8"):
        await _start(google_provider, seconds=seconds)
    assert fake_vertex.requests == []


async def test_never_finishing_operation_stays_pending(
    google_provider: GoogleProvider, fake_vertex: FakeVertex
) -> None:
    fake_vertex.never_finish(r"eternal")
    name = await _start(google_provider, "an eternal sunset")

    started = time.monotonic()
    result = await _wait(google_provider, name, deadline_s=0.3)
    elapsed = time.monotonic() - started

    # Still pending after many polls: the operation never finishes on its own.
    assert isinstance(result, ClipPending)
    assert fake_vertex.poll_calls[name] >= 2
    # Polling stops at the deadline instead of going on forever (slack for a loaded CI box).
    assert 0.3 <= elapsed < 10.0
    assert fake_vertex.create_calls == {"an eternal sunset": 1}


async def test_polling_rides_out_transient_poll_errors(
    google_provider: GoogleProvider, fake_vertex: FakeVertex
) -> None:
    name = await _start(google_provider)
    fake_vertex.fail_next("poll", 429, times=4)  # two failed polls of two SDK attempts

    result = await _wait(google_provider, name)

    assert isinstance(result, ClipDone)


async def test_filter_first_n_attempts_of_a_prompt(
    google_provider: GoogleProvider, fake_vertex: FakeVertex
) -> None:
    fake_vertex.filter_prompts(r"storm", first_n=2)
    results = [
        await _wait(google_provider, await _start(google_provider, "a storm at sea"))
        for _ in range(3)
    ]

    assert [r.state for r in results] == ["filtered", "filtered", "done"]
    assert fake_vertex.create_calls == {"a storm at sea": 3}


async def test_jpeg_frames_are_sent_as_jpeg(
    google_provider: GoogleProvider, fake_vertex: FakeVertex
) -> None:
    start, end = Image(tiny_jpeg("s"), "image/jpeg"), Image(tiny_png("e"), "image/png")
    await google_provider.start_clip(
        ClipRequest(start_frame=start, end_frame=end, prompt="p", seconds=4, aspect="16:9")
    )

    (req,) = fake_vertex.requests_for("create")
    instance = req.body["instances"][0]
    assert instance["image"]["mimeType"] == "image/jpeg"
    assert b64decode_any(instance["image"]["bytesBase64Encoded"]) == start.data
    assert instance["lastFrame"]["mimeType"] == "image/png"


async def test_1080p_takes_8_second_clips_only(
    fake_vertex: FakeVertex, google_settings: MakeGoogleSettings
) -> None:
    provider = GoogleProvider(
        google_settings(video_resolution="1080p", video_generate_audio=True),
        credentials=static_credentials(),
    )
    try:
        with pytest.raises(ProviderPermanentError, match="1080p clips of 8 seconds, not 4"):
            await _start(provider, seconds=4)
        assert fake_vertex.requests == []  # refused before any request
        fake_vertex.polls_until_done = 0
        result = await _wait(provider, await _start(provider, seconds=8))
    finally:
        await provider.aclose()

    (req,) = fake_vertex.requests_for("create")
    assert req.body["parameters"]["resolution"] == "1080p"
    assert req.body["parameters"]["generateAudio"] is True
    assert isinstance(result, ClipDone)
    assert result.charge is not None
    assert result.charge.usd == pytest.approx(8 * 0.40)  # 1080p with audio


async def test_a_resolution_without_a_price_fails_at_build(
    google_settings: MakeGoogleSettings,
) -> None:
    with pytest.raises(ConfigError, match="4k without audio"):
        GoogleProvider(google_settings(video_resolution="4k"), credentials=static_credentials())
