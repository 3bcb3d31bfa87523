"""The pipeline on the strict fake Vertex: safety blocks, JPEG keyframes, ambiguous creates.

A block is a filtered result (reason in the Error Log, $0 in the ledger, a softened
retry within the channel's rephrase bound), never a hard failure on the first try; a
create whose outcome is unknown is flagged like a lost submission, never resubmitted.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from notion_sync.local_api.server import LocalNotionServer
from orchestrator.db.models import CostEntry
from tests.fakes.vertex import INPUT_BLOCK_MESSAGE, FakeVertex
from tests.fixtures.pipeline import PipelineEnv
from tests.helpers.google_env import EnvFactory, google_env_factory

pytestmark = pytest.mark.timeout(120)

API_KEY = "AIzaFakeFailuresKey-0123456789abcdef"
SHOTS = [
    ("a lighthouse on black rocks at dusk", "slow push in", "The last night."),
    ("waves climbing the rocks", "pan left", "The sea climbs."),
]
BOTH_GATES = frozenset({"storyboard", "keyframes"})


@pytest.fixture
def google_env(
    tmp_path: Path, local_notion: LocalNotionServer, fake_vertex: FakeVertex
) -> EnvFactory:
    return google_env_factory(
        tmp_path,
        local_notion,
        fake_vertex,
        api_key=API_KEY,
        title="The last lighthouse keeper",
        shots=SHOTS,
    )


async def ledger(env: PipelineEnv, kind: str) -> list[CostEntry]:
    async with env.sessions() as session:
        rows = await session.execute(
            select(CostEntry).where(CostEntry.kind == kind).order_by(CostEntry.id)
        )
        return list(rows.scalars().all())


async def test_blocked_storyboard_is_rephrased_recorded_at_zero_and_logged(
    google_env: EnvFactory, fake_vertex: FakeVertex
) -> None:
    # The brief trips the prompt filter once; the softened brief passes.
    fake_vertex.block_generate("Brief: A bloody", kind="prompt_feedback", first_n=1)
    async with google_env(rai_rephrase_retries=1) as env:
        page = env.create_task(clips=2, channel="x", brief="A bloody night at the lighthouse")
        await env.drive_to(page, "Storyboard Ready")

        entries = await ledger(env, "storyboard")
        assert entries[0].usd == 0.0  # the blocked call
        assert entries[1].usd > 0  # the one that worked, token-true
        assert entries[1].unit == "token"
        log = env.daemon_log(page)
        assert "the storyboard was blocked by the model's safety filter" in log
        assert "PROHIBITED_CONTENT" in log
        prompts = [r.body["contents"][0]["parts"][0]["text"] for r in fake_vertex.requests]
        assert "bloody" not in prompts[-1]


async def test_storyboard_blocked_past_the_bound_fails_with_the_reason(
    google_env: EnvFactory, fake_vertex: FakeVertex
) -> None:
    fake_vertex.block_generate("Brief:", kind="invalid_argument")
    async with google_env(rai_rephrase_retries=1) as env:
        page = env.create_task(clips=2, channel="x")
        await env.settle()

        assert env.status(page) == "Failed"
        assert "Reword the Brief" in env.comments(page)[-1]
        assert [e.usd for e in await ledger(env, "storyboard")] == [0.0, 0.0]
        assert env.daemon_log(page).count("Support codes: 29310472") == 2
        assert len(fake_vertex.requests_for("generate")) == 2  # first try + one rephrase


async def test_blocked_keyframe_is_rephrased_within_the_bound(
    google_env: EnvFactory, fake_vertex: FakeVertex
) -> None:
    # Only the original wording of keyframe 1 is blocked; its softened prompt passes.
    fake_vertex.block_generate(r"^a lighthouse on black rocks at dusk$", kind="image_safety")
    async with google_env(rai_rephrase_retries=1) as env:
        page = env.create_task(clips=2, channel="x")
        await env.drive_to(page, "Keyframes Ready", approve=("Storyboard Ready",))

        keyframes = await env.keyframes(page)
        assert [k.status for k in keyframes] == ["complete"] * 3
        entries = await ledger(env, "keyframe")
        assert [e.usd for e in entries] == [0.0, 0.067, 0.067, 0.067]
        log = env.daemon_log(page)
        assert "keyframe 1 was blocked by the image model's safety filter" in log
        assert "IMAGE_SAFETY" in log
        assert "Support codes: 17301594" in log


async def test_keyframe_blocked_past_the_bound_fails_the_task(
    google_env: EnvFactory, fake_vertex: FakeVertex
) -> None:
    fake_vertex.block_generate("waves climbing", kind="prompt_feedback")
    async with google_env(rai_rephrase_retries=0) as env:
        page = env.create_task(clips=2, channel="x")
        await env.drive_to(page, "Failed", approve=("Storyboard Ready",))

        comment = env.comments(page)[-1]
        assert "keyframe 2 was blocked" in comment
        assert "PROHIBITED_CONTENT" in comment
        assert 0.0 in [e.usd for e in await ledger(env, "keyframe")]


async def test_jpeg_keyframes_are_named_stored_and_sent_to_veo_as_jpeg(
    google_env: EnvFactory, fake_vertex: FakeVertex
) -> None:
    fake_vertex.image_format = "jpeg"
    fake_vertex.image_mime_label = "image/png"  # even when mislabelled by the model
    async with google_env(auto_approve=BOTH_GATES) as env:
        page = env.create_task(clips=2, channel="x")
        await env.drive_to(page, "Video Ready")

        keyframes = await env.keyframes(page)
        assert {k.mime_type for k in keyframes} == {"image/jpeg"}
        assert all((k.storage_key or "").endswith(f"kf_0{k.number}_a1.jpg") for k in keyframes)
        # The fake refuses a frame whose label contradicts its bytes: both creates passed.
        creates = fake_vertex.requests_for("create")
        assert len(creates) == 2
        for create in creates:
            instance = create.body["instances"][0]
            assert instance["image"]["mimeType"] == "image/jpeg"
            assert instance["lastFrame"]["mimeType"] == "image/jpeg"
        assert [c.status for c in await env.clips(page)] == ["complete", "complete"]


async def test_create_refused_by_the_input_filter_is_a_filtered_clip(
    google_env: EnvFactory, fake_vertex: FakeVertex
) -> None:
    fake_vertex.block_prompts(r"^a lighthouse on black rocks at dusk\. Camera", first_n=1)
    async with google_env(auto_approve=BOTH_GATES, rai_rephrase_retries=1) as env:
        page = env.create_task(clips=2, channel="x")
        await env.drive_to(page, "Video Ready")

        clips = await env.clips(page)
        assert [(c.number, c.status, c.attempt) for c in clips] == [
            (1, "complete", 1),  # the refused create made nothing: its attempt was given back
            (2, "complete", 1),
        ]
        assert clips[0].rai_retries == 1
        # Each distinct prompt was accepted once; the refused one never made an operation.
        assert set(fake_vertex.accepted_creates.values()) == {1}
        assert len(fake_vertex.accepted_creates) == 2
        assert (await ledger(env, "clip"))[0].usd == 0.0
        log = env.daemon_log(page)
        assert "refused by the provider's safety filter before generation" in log
        assert INPUT_BLOCK_MESSAGE in log


async def test_input_block_past_the_bound_leaves_the_clip_filtered(
    google_env: EnvFactory, fake_vertex: FakeVertex
) -> None:
    fake_vertex.block_prompts("waves climbing")
    async with google_env(auto_approve=BOTH_GATES, rai_rephrase_retries=1) as env:
        page = env.create_task(clips=2, channel="x")
        await env.drive_to(page, "Video Ready")

        clips = await env.clips(page)
        assert [c.status for c in clips] == ["complete", "rai_filtered"]
        assert (clips[1].error or "").startswith("filtered: The prompt could not be submitted")
        assert fake_vertex.accepted_creates[next(iter(fake_vertex.accepted_creates))] == 1
        blocked = [p for p in fake_vertex.create_calls if p.startswith("waves climbing")]
        assert len(blocked) == 2  # the original and one softened prompt, each sent once


async def test_operation_saying_the_prompt_could_not_be_submitted_is_filtered(
    google_env: EnvFactory, fake_vertex: FakeVertex
) -> None:
    # Only the original wording; the softened prompt passes.
    fake_vertex.block_prompts(r"^waves climbing the rocks\. Camera: pan left\.$", at="operation")
    async with google_env(auto_approve=BOTH_GATES, rai_rephrase_retries=1) as env:
        page = env.create_task(clips=2, channel="x")
        await env.drive_to(page, "Video Ready")

        clips = await env.clips(page)
        assert [(c.status, c.attempt) for c in clips] == [("complete", 1), ("complete", 2)]
        assert sorted(e.usd for e in await ledger(env, "clip"))[0] == 0.0
        assert "was filtered by the provider's safety filter" in env.daemon_log(page)


@pytest.mark.parametrize("status", [500, 504])
async def test_ambiguous_create_is_flagged_like_a_lost_submission(
    google_env: EnvFactory, fake_vertex: FakeVertex, status: int
) -> None:
    fake_vertex.fail_next("create", status, times=1)
    async with google_env(auto_approve=BOTH_GATES) as env:
        page = env.create_task(clips=2, channel="x")
        await env.drive_to(page, "Video Ready")

        clips = await env.clips(page)
        assert sorted(c.status for c in clips) == ["complete", "lost"]
        lost = next(c for c in clips if c.status == "lost")
        assert f"HTTP {status}" in (lost.error or "")
        assert "not resubmitted" in (lost.error or "")
        # Never sent again: one create per clip in all.
        assert fake_vertex.total_creates == 2
        assert f"clip {lost.number} attempt 1" in env.daemon_log(page)
        assert env.runtime.metrics.lost_submissions._value.get() == 1


async def test_operation_with_neither_video_nor_reason_is_flagged_lost(
    google_env: EnvFactory, fake_vertex: FakeVertex
) -> None:
    fake_vertex.finish_empty("waves climbing")
    async with google_env(auto_approve=BOTH_GATES) as env:
        page = env.create_task(clips=2, channel="x")
        await env.drive_to(page, "Video Ready")

        clips = await env.clips(page)
        assert [c.status for c in clips] == ["complete", "lost"]
        assert "may have been generated and billed" in (clips[1].error or "")
        assert fake_vertex.total_creates == 2  # not resubmitted
        assert "clip 2 lost" in env.daemon_log(page)
