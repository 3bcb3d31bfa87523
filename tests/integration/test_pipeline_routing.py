"""Where a review sends a task: back to keyframes, back to the storyboard, or only
the clips named (in the Error Log or in the Videos table), round after round."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from notion_sync.local_api.admin import rich_text
from orchestrator.db.models import Clip
from orchestrator.pipeline.stages import keyframes as keyframes_stage
from orchestrator.pipeline.stages import storyboard, video
from orchestrator.pipeline.stages.keyframes import keyframe_prompt
from orchestrator.state.labels import render_labels
from tests.fixtures.pipeline import PipelineEnv

pytestmark = pytest.mark.timeout(240)

APPROVE_EARLY = ("Storyboard Ready", "Keyframes Ready")


def _op_request(env: PipelineEnv, clip: Clip) -> dict[str, Any]:
    """What the local provider was asked for this clip's latest attempt."""
    assert clip.operation_name
    path = Path(env.runtime.config.local.work_dir) / "ops" / clip.operation_name / "request.json"
    return dict(json.loads(path.read_text()))


def _video_rows(env: PipelineEnv, page: str) -> dict[int, dict[str, Any]]:
    rows: dict[int, dict[str, Any]] = {}
    for row in env.server.admin.pages(env.videos_ds):
        props = row["properties"]
        related = [r["id"].replace("-", "") for r in props["Task"]["relation"]]
        if page.replace("-", "") in related:
            number = int(props["Clip"]["number"])
            assert number not in rows, f"two Videos rows for clip {number}"
            rows[number] = row
    return rows


async def test_keyframes_error_from_video_ready_redoes_the_keyframe_and_both_clips_using_it(
    pipeline_env: PipelineEnv,
) -> None:
    env = pipeline_env
    page = env.create_task(clips=3)
    await env.drive_to(page, "Video Ready", approve=APPROVE_EARLY)
    assert [k.attempt for k in await env.keyframes(page)] == [1, 1, 1, 1]

    env.review(page, "Keyframes Error", "keyframe 2: warmer light")
    await env.settle()

    assert env.status(page) == "Keyframes Ready"
    keyframes = await env.keyframes(page)
    assert [k.attempt for k in keyframes] == [1, 2, 1, 1]
    assert keyframes[1].reviewer_note == "warmer light"
    assert keyframe_prompt(keyframes[1]).endswith("Reviewer note: warmer light")
    assert all(k.reviewer_note == "" for k in (keyframes[0], keyframes[2], keyframes[3]))
    # Nothing is paid for before the reviewer has seen the new keyframe.
    assert [c.attempt for c in await env.clips(page)] == [1, 1, 1]

    env.review(page, "Keyframes Approved")
    await env.settle()

    assert env.status(page) == "Video Ready"
    clips = await env.clips(page)
    # Keyframe 2 ends clip 1 and starts clip 2; clip 3 (keyframes 3 -> 4) is untouched.
    assert [c.attempt for c in clips] == [2, 2, 1]
    assert [(c.start_keyframe_attempt, c.end_keyframe_attempt) for c in clips] == [
        (1, 2),
        (2, 1),
        (1, 1),
    ]
    assert all(c.status == "complete" for c in clips)
    assert [k.attempt for k in await env.keyframes(page)] == [1, 2, 1, 1]


async def test_storyboard_error_from_video_ready_replans_only_the_named_shot(
    pipeline_env: PipelineEnv,
) -> None:
    env = pipeline_env
    page = env.create_task(clips=3)
    await env.drive_to(page, "Video Ready", approve=APPROVE_EARLY)
    before_clips = await env.clips(page)
    before_kfs = await env.keyframes(page)
    ops_before = {c.number: c.operation_name for c in before_clips}

    env.review(page, "Storyboard Error", "shot 2: more suspense")
    await env.settle()

    assert env.status(page) == "Storyboard Ready"
    clips = await env.clips(page)
    assert clips[0].prompt == before_clips[0].prompt
    assert clips[2].prompt == before_clips[2].prompt
    assert clips[1].prompt != before_clips[1].prompt
    assert "more suspense" in clips[1].prompt
    assert clips[1].reviewer_note == "more suspense"
    storyboard = (await env.task(page)).storyboard
    assert storyboard is not None
    shots = {int(s["number"]): s for s in storyboard["shots"]}
    assert "more suspense" in str(shots[2]["visual_prompt"])
    assert "more suspense" not in str(shots[1]["visual_prompt"]) + str(shots[3]["visual_prompt"])
    # Shot 2 starts on keyframe 2: only that keyframe's picture is re-planned.
    kfs = await env.keyframes(page)
    assert [k.prompt == b.prompt for k, b in zip(kfs, before_kfs, strict=True)] == [
        True,
        False,
        True,
        True,
    ]
    assert [c.attempt for c in clips] == [1, 1, 1]  # nothing rendered before approval

    env.review(page, "Storyboard Approved")
    await env.settle()
    assert env.status(page) == "Keyframes Ready"
    assert [k.attempt for k in await env.keyframes(page)] == [1, 2, 1, 1]

    env.review(page, "Keyframes Approved")
    await env.settle()
    assert env.status(page) == "Video Ready"
    clips = await env.clips(page)
    # Clip 2: its shot and start keyframe changed; clip 1: its end keyframe changed.
    assert [c.attempt for c in clips] == [2, 2, 1]
    assert clips[2].operation_name == ops_before[3]
    assert "more suspense" in _op_request(env, clips[1])["prompt"]
    assert "more suspense" not in _op_request(env, clips[0])["prompt"]


async def test_videos_table_regenerate_verdict_redoes_only_that_clip_in_place(
    pipeline_env: PipelineEnv,
) -> None:
    env = pipeline_env
    page = env.create_task(clips=3)
    await env.drive_to(page, "Video Ready", approve=APPROVE_EARLY)
    rows_before = _video_rows(env, page)
    assert sorted(rows_before) == [1, 2, 3]

    env.set_row_status(page, 3, "Regenerate", "wrong angle")
    env.review(page, "Video Error")  # no Error Log text: the row is the request
    await env.settle()

    assert env.status(page) == "Video Ready"
    clips = await env.clips(page)
    assert [c.attempt for c in clips] == [1, 1, 2]
    assert clips[2].reviewer_note == "wrong angle"
    assert clips[2].notion_verdict is None
    assert "Reviewer note: wrong angle" in _op_request(env, clips[2])["prompt"]
    rows = _video_rows(env, page)
    assert {n: r["id"] for n, r in rows.items()} == {n: r["id"] for n, r in rows_before.items()}
    props = rows[3]["properties"]
    assert props["Attempt"]["number"] == 2
    assert props["Status"]["select"]["name"] == "Ready"
    assert rows[1]["properties"]["Attempt"]["number"] == 1


async def test_autopilot_channel_passes_storyboard_and_keyframe_gates_by_itself(
    pipeline_env: PipelineEnv,
) -> None:
    env = pipeline_env
    page = env.create_task(clips=2, channel="autopilot")
    await env.settle()

    assert env.status(page) == "Video Ready"
    events = await env.events(page)
    moves = [(e.actor, e.from_status, e.to_status) for e in events if e.kind == "transition"]
    assert ("daemon", "storyboard_ready", "storyboard_approved") in moves
    assert ("daemon", "keyframes_ready", "keyframes_approved") in moves
    assert not any(actor == "human" and to.endswith("_approved") for actor, _, to in moves if to)
    comments = env.comments(page)
    hints = {m: render_labels(m.GATE_HINT) for m in (storyboard, keyframes_stage, video)}
    assert not any(hints[storyboard] in c or hints[keyframes_stage] in c for c in comments)
    assert sum(hints[video] in c for c in comments) == 1
    task = await env.task(page)
    assert task.channel == "autopilot"


async def test_later_rounds_read_only_new_lines_and_a_line_written_again_is_new(
    pipeline_env: PipelineEnv,
) -> None:
    env = pipeline_env
    page = env.create_task(clips=3)
    await env.drive_to(page, "Video Ready", approve=APPROVE_EARLY)

    env.review(page, "Video Error", "clip 1 - too dark")
    await env.settle()
    assert env.status(page) == "Video Ready"
    clips = await env.clips(page)
    assert [c.attempt for c in clips] == [2, 1, 1]
    assert clips[0].reviewer_note == "too dark"

    # Round 2: the log still holds round 1's line; only the new line is acted on.
    env.review(page, "Video Error", "clip 2: too bright")
    await env.settle()
    assert env.status(page) == "Video Ready"
    assert "clip 1 - too dark" in env.error_log(page)
    clips = await env.clips(page)
    assert [c.attempt for c in clips] == [2, 2, 1]
    assert clips[1].reviewer_note == "too bright"

    # Round 3: the reviewer clears the log and types round 1's words again. The
    # text cannot tell that from a log kept as it was: nothing is paid on a guess,
    # the daemon says which lines it already acted on and waits.
    env.server.admin.update_page(
        page,
        {
            "Error Log": {"rich_text": rich_text("clip 1 - too dark")},
            "Status": {"status": {"name": "Video Error"}},
        },
        as_user="Rita Reviewer",
    )
    await env.settle()
    assert env.status(page) == "Video Error"
    waiting = env.comments(page)[-1]
    assert "Waiting for your notes" in waiting
    assert "“clip 1 - too dark”" in waiting
    assert "write the line again" in waiting
    assert [c.attempt for c in await env.clips(page)] == [2, 2, 1]
    # Written again (a second copy): a new request.
    env.write_error_log(page, "clip 1 - too dark\nclip 1 - too dark")
    await env.settle()
    assert env.status(page) == "Video Ready"
    assert [c.attempt for c in await env.clips(page)] == [3, 2, 1]
