"""Reference images through the whole pipeline: the google provider on the strict fake
Vertex server, the References property on the local Notion API, links served over
loopback. Bad references stop a task before anything is spent."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from notion_sync.local_api.server import LocalNotionServer
from orchestrator.db.models import CostEntry
from tests.fakes.vertex import FakeVertex, inline_images
from tests.fixtures.pipeline import PipelineEnv
from tests.helpers.google_env import EnvFactory, google_env_factory
from tests.helpers.notion_inspect import blocks_of
from tests.helpers.references import (
    ImageServer,
    external,
    image_bytes,
    set_references,
    upload_to_notion,
)

pytestmark = pytest.mark.timeout(180)

API_KEY = "AIzaFakeReferencesKey-0123456789abcdef"
SHOTS = [
    ("a bottle of Glow on a rock by the sea", "slow push in", "Meet Glow."),
    ("the bottle in a hand at sunset", "pan left", "Take it anywhere."),
]
BOTTLE = image_bytes((200, 40, 40), (64, 48))  # the uploaded product shot (PNG)
LABEL = image_bytes((40, 60, 200), (40, 40), fmt="JPEG")  # a linked label (JPEG)


@pytest.fixture
def images() -> Iterator[ImageServer]:
    with ImageServer() as server:
        yield server


@pytest.fixture
def google_env(
    tmp_path: Path, local_notion: LocalNotionServer, fake_vertex: FakeVertex
) -> EnvFactory:
    return google_env_factory(
        tmp_path, local_notion, fake_vertex, api_key=API_KEY, title="Glow", shots=SHOTS
    )


@pytest.fixture
async def env(google_env: EnvFactory) -> AsyncIterator[PipelineEnv]:
    async with google_env() as made:
        yield made


async def ledger(env: PipelineEnv) -> list[CostEntry]:
    async with env.sessions() as session:
        return list((await session.execute(select(CostEntry))).scalars().all())


def generate_requests(fake: FakeVertex, modality: str | None) -> list[dict[str, object]]:
    """Bodies of generateContent calls asking for `modality` (None: the JSON storyboard)."""
    out = []
    for request in fake.requests_for("generate"):
        config = request.body.get("generationConfig") or {}
        modalities = config.get("responseModalities") or []
        if (modality is None and not modalities) or modality in modalities:
            out.append(request.body)
    return out


async def test_two_references_reach_the_storyboard_and_every_keyframe_on_vertex(
    env: PipelineEnv, fake_vertex: FakeVertex, images: ImageServer
) -> None:
    page = env.create_task(clips=2, channel="x", status="Draft", brief="Glow, a sun lotion")
    uploaded = await upload_to_notion(env.server, BOTTLE, "bottle.png")
    label_url = images.add("label.jpg", LABEL, "image/jpeg")
    set_references(env.server, page, [uploaded, external("label.jpg", label_url)])
    env.review(page, "Queued")

    await env.drive_to(page, "Storyboard Ready")
    # The storyboard section shows both, as stored under the task's prefix.
    blocks = blocks_of(env.server, page)
    captions = [
        "".join(t["plain_text"] for t in b["image"].get("caption", []))
        for b in blocks
        if b["type"] == "image"
    ]
    assert captions == ["Reference 1: bottle.png", "Reference 2: label.jpg"]
    headings = [
        "".join(t["plain_text"] for t in b["heading_3"]["rich_text"])
        for b in blocks
        if b["type"] == "heading_3"
    ]
    assert "Reference images" in headings
    task = await env.task(page)
    keys = [entry["storage_key"] for entry in task.reference_images]
    assert all(f"/{key.split('/')[1]}/references/ref_0" in f"/{key}" for key in keys)
    assert [k.rsplit(".", 1)[1] for k in keys] == ["png", "jpg"]

    await env.drive_to(page, "Video Ready", approve=("Storyboard Ready", "Keyframes Ready"))
    await env.drive_to(page, "Final Ready", approve=("Video Ready", "Audio Ready"))

    expected = [("image/png", BOTTLE), ("image/jpeg", LABEL)]
    storyboards = generate_requests(fake_vertex, None)
    assert len(storyboards) == 1
    assert inline_images(storyboards[0]) == expected
    keyframes = generate_requests(fake_vertex, "IMAGE")
    assert len(keyframes) == 3  # keyframes 1..N+1
    for n, body in enumerate(keyframes, 1):
        sent = inline_images(body)
        # Both references first, in the page's order; then the previous keyframe.
        assert sent[:2] == expected, f"keyframe {n}"
        assert len(sent) == (2 if n == 1 else 3), f"keyframe {n}"
        text = body["contents"][0]["parts"][-1]["text"]  # type: ignore[index]
        assert "reference images" in text
    # Narration reads text only; clips start from keyframes, not the references.
    for body in generate_requests(fake_vertex, "AUDIO"):
        assert inline_images(body) == []
    # Downloaded once, for the whole run.
    assert images.hits["label.jpg"] == 1
    assert env.status(page) == "Final Ready"


async def test_bad_references_send_the_task_back_to_draft_and_nothing_is_spent(
    env: PipelineEnv, fake_vertex: FakeVertex, images: ImageServer
) -> None:
    good = images.add("good.png", image_bytes((10, 150, 10)))
    cases = {
        "missing": [external("gone.png", images.url("gone.png"))],
        "not an image": [
            # A PDF behind an image name and an image content type: the bytes decide.
            external("brochure.png", images.add("brochure.png", b"%PDF-1.7\n" + bytes(300)))
        ],
        "too large": [
            external(
                "huge.png",
                images.add("huge.png", b"\x89PNG\r\n\x1a\n" + bytes(8_400_000)),
            )
        ],
        "too many": [external(f"shot{n}.png", f"{good}?n={n}") for n in range(1, 15)],
    }
    pages = {}
    for case, items in cases.items():
        page = env.create_task(clips=2, channel="x", status="Draft", title=case)
        set_references(env.server, page, items)
        env.review(page, "Queued")
        pages[case] = page
    await env.settle()

    for case, page in pages.items():
        assert env.status(page) == "Draft", case
    # The owner is mentioned first ("@Cory Creator "), then the message.
    comments = {case: env.comments(page)[-1].split(" ", 2)[2] for case, page in pages.items()}
    assert comments["missing"] == (
        "Not started: 1 reference image cannot be used:\n"
        '- "gone.png": unreachable (HTTP 404 Not Found)\n'
        "Fix References, then set Status to Queued again."
    )
    assert (
        '- "brochure.png": not an image reelgate can use (it is a PDF document; use PNG, '
        "JPEG or WebP)" in comments["not an image"]
    )
    assert '- "huge.png": too large (8.4 MB; at most 7 MB)' in comments["too large"]
    assert comments["too many"] == (
        "Not started: 1 reference image cannot be used:\n"
        '- "shot14.png": too many references: the channel takes at most 13 '
        "(gemini-3.1-flash-image reads 14 images a request, one of them the previous "
        "keyframe), and this is number 14 of 14. Remove 1\n"
        "Fix References, then set Status to Queued again."
    )
    # Nothing was asked of Vertex, and nothing was recorded as spent.
    assert fake_vertex.requests_for("generate") == []
    assert await ledger(env) == []
    # The good files of the "too many" task were each fetched once, and are kept.
    assert images.hits["good.png"] == 13
    # Fixed: the task starts, and fetches nothing it already has.
    set_references(env.server, pages["too many"], cases["too many"][:13])
    env.review(pages["too many"], "Queued")
    await env.drive_to(pages["too many"], "Storyboard Ready")
    assert images.hits["good.png"] == 13
    storyboard = generate_requests(fake_vertex, None)[0]
    assert len(inline_images(storyboard)) == 13


async def test_references_changed_for_a_replan_are_checked_and_a_bad_one_waits(
    env: PipelineEnv, fake_vertex: FakeVertex, images: ImageServer
) -> None:
    first = images.add("bottle.png", BOTTLE)
    page = env.create_task(clips=2, channel="x", status="Draft")
    set_references(env.server, page, [external("bottle.png", first)])
    env.review(page, "Queued")
    await env.drive_to(page, "Storyboard Ready")
    assert len(generate_requests(fake_vertex, None)) == 1

    # The reviewer swaps the product shot for a file that is not an image, and asks
    # for a re-plan with it.
    bad = images.add("new-bottle.png", b"<!DOCTYPE html><html>a preview page</html>", "text/html")
    set_references(env.server, page, [external("new-bottle.png", bad)])
    env.review(page, "Storyboard Error", "Regenerate: shots 1, 2 - use the new bottle")
    await env.settle()

    assert env.status(page) == "Storyboard Error"
    assert env.comments(page)[-1].split(" ", 2)[2] == (
        "The References changed, and 1 reference image cannot be used:\n"
        '- "new-bottle.png": not an image reelgate can use (it is a web page (the link may '
        "point at a page showing the image, not the image); use PNG, JPEG or WebP)\n"
        "Nothing was regenerated or spent; the task waits at Storyboard Error. Fix "
        "References (reelgate looks again when the page changes)."
    )
    assert len(generate_requests(fake_vertex, None)) == 1  # nothing re-planned

    # Fixed: the waiting review is applied at once, with the new image.
    fixed = images.add("new-bottle.png", LABEL, "image/jpeg")
    set_references(env.server, page, [external("new-bottle.png", fixed + "?v=2")])
    await env.settle()

    assert env.status(page) == "Storyboard Ready"
    replans = generate_requests(fake_vertex, None)
    assert len(replans) == 2
    assert inline_images(replans[1]) == [("image/jpeg", LABEL)]
    assert "Reviewer note for shot 1: use the new bottle" in str(replans[1])
    task = await env.task(page)
    assert [e["name"] for e in task.reference_images] == ["new-bottle.png"]
