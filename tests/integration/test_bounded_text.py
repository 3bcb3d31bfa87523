"""Issue 10, cases 7 and 9: what people write is bounded where it goes, and said so.

- A 100 KB Error Log note and a 20 KB Brief: google-genai against the fake Vertex
  server shows what Veo and Gemini were actually sent; the Videos row and the
  comments in the local Notion API show what people see.
- 5,000 clip numbers on one Error Log line: one short comment, not 83,000 characters.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from notion_sync.local_api.server import LocalNotionServer
from notion_sync.richtext import MAX_RICH_TEXT_ITEMS, MAX_TEXT_CONTENT, text_items
from orchestrator.limits import (
    BRIEF_MAX_CHARS,
    COMMENT_MAX_CHARS,
    NOTE_MAX_CHARS,
    NOTION_FIELD_MAX_CHARS,
    VEO_PROMPT_MAX_CHARS,
)
from tests.fakes.vertex import FakeVertex
from tests.fixtures.pipeline import PipelineEnv
from tests.helpers.google_env import google_env_factory

pytestmark = pytest.mark.timeout(240)

API_KEY = "AIzaFakeBoundsKey-0123456789abcdef"
SHOTS = [
    ("a lighthouse on black rocks at dusk", "slow push in", "The last night."),
    ("waves climbing the rocks", "pan left", "The sea climbs."),
]
# 100 KB of a reviewer's note: distinct words, so a cut is visible anywhere.
NOTE = "darker sky " + " ".join(f"w{i:05d}" for i in range(16_700))
BRIEF = "A lighthouse keeper's last night. " + " ".join(f"b{i:05d}" for i in range(3_400))


def _write_error_log(env: PipelineEnv, page: str, text: str, status: str) -> None:
    """What the Notion editor sends: rich text in items of at most 2,000 characters."""
    items = text_items(text)
    assert len(items) <= MAX_RICH_TEXT_ITEMS
    env.server.admin.update_page(
        page,
        {"Error Log": {"rich_text": items}, "Status": {"status": {"name": status}}},
        as_user="Rita Reviewer",
    )


async def test_a_huge_note_and_brief_are_cut_for_the_models_and_the_cut_is_said(
    tmp_path: Path, local_notion: LocalNotionServer, fake_vertex: FakeVertex
) -> None:
    assert len(NOTE) > 100_000
    assert len(BRIEF) > 20_000
    make_env = google_env_factory(
        tmp_path,
        local_notion,
        fake_vertex,
        api_key=API_KEY,
        title="The last lighthouse keeper",
        shots=SHOTS,
    )
    async with make_env(auto_approve=frozenset({"storyboard", "keyframes"})) as env:
        page = env.create_task(clips=2, channel="x", brief="placeholder")
        env.server.admin.update_page(page, {"Brief": {"rich_text": text_items(BRIEF)}})
        await env.drive_to(page, "Video Ready")

        # The storyboard model got the first 8,000 characters of the Brief, not 20 KB.
        plans = [
            r.body["contents"][0]["parts"][0]["text"]
            for r in fake_vertex.requests
            if "Brief: " in json.dumps(r.body)
        ]
        assert plans, "the storyboard request carries the Brief"
        assert all("b03399" not in p for p in plans)
        assert all(len(p) < BRIEF_MAX_CHARS + 4000 for p in plans)
        said = "\n".join(env.comments(page))
        assert f"The Brief was {len(BRIEF):,} characters; the first" in said

        # The reviewer pastes 100 KB under clip 1 and asks for it again.
        first_creates = set(fake_vertex.create_calls)
        _write_error_log(env, page, f"clip 1: {NOTE}", "Video Error")
        await env.settle()
        assert env.status(page) == "Video Ready"

        redone = [p for p in fake_vertex.create_calls if p not in first_creates]
        assert len(redone) == 1, redone
        assert len(redone[0]) <= VEO_PROMPT_MAX_CHARS
        assert "Reviewer note: darker sky w00000" in redone[0]
        assert "w16699" not in redone[0]

        clip = (await env.clips(page))[0]
        assert len(clip.reviewer_note) <= NOTE_MAX_CHARS
        rows = env.server.admin.pages(env.videos_ds)
        row = next(r for r in rows if r["properties"]["Clip"]["number"] == 1)
        shown = "".join(t["plain_text"] for t in row["properties"]["Reviewer Note"]["rich_text"])
        assert 0 < len(shown) <= NOTION_FIELD_MAX_CHARS
        assert "w16699" not in shown

        understood = [c for c in env.comments(page) if "Too long for the model" in c]
        assert len(understood) == 1, env.comments(page)[-3:]
        assert f"the note for clip 1 has {len(NOTE):,} characters" in understood[0]
        assert f"only the first {NOTE_MAX_CHARS:,} are used" in understood[0]
        assert all(len(c) <= COMMENT_MAX_CHARS for c in env.comments(page))


async def test_five_thousand_clip_numbers_make_one_short_comment(
    pipeline_env: PipelineEnv,
) -> None:
    env = pipeline_env
    page = env.create_task(clips=3)
    await env.drive_to(page, "Storyboard Ready")
    before = len(env.comments(page))
    # Every other number from 5 to 10,003: 5,000 numbers, 5,000 separate runs.
    numbers = ", ".join(str(n) for n in range(5, 10_004, 2))
    line = f"Regenerate: shots {numbers}"
    assert len(line) > 25_000
    _write_error_log(env, page, line, "Storyboard Error")
    await env.settle()

    new = env.comments(page)[before:]
    assert len(new) == 1, [c[:200] for c in new]
    text = new[0]
    assert len(text) <= COMMENT_MAX_CHARS
    assert len(text_items(text)) <= MAX_RICH_TEXT_ITEMS
    assert max(len(i["text"]["content"]) for i in text_items(text)) <= MAX_TEXT_CONTENT
    assert "and 4,980 more (5,000 in all) are out of range: this task has clips 1–3" in text
    assert "characters cut]" in text  # the quoted line says it was shortened
