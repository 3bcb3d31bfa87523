"""Issue classes route a review from Video Error: `narrative:` re-plans the shot (and
what is made from it), `audio:` redoes that clip's narration only. And every verdict
leaves one line in the page's Review history toggle."""

from __future__ import annotations

from collections import Counter

import pytest

from tests.fixtures.pipeline import PipelineEnv

pytestmark = pytest.mark.timeout(240)


def _calls(env: PipelineEnv) -> Counter[str]:
    """Provider calls so far, by kind (storyboard, keyframe, clip_create, narration)."""
    calls: Counter[str] = Counter()
    for metric in env.runtime.metrics.provider_calls.collect():
        for sample in metric.samples:
            if sample.name.endswith("_total"):
                calls[sample.labels["kind"]] += int(sample.value)
    return calls


def _delta(after: Counter[str], before: Counter[str]) -> dict[str, int]:
    kinds = ("storyboard", "keyframe", "clip_create", "narration")
    return {k: after[k] - before[k] for k in kinds}


async def test_narrative_and_audio_lines_from_video_error_take_their_routes(
    pipeline_env: PipelineEnv,
) -> None:
    env = pipeline_env
    # Storyboard and keyframes gates pass by themselves: a re-plan comes back to
    # Video Ready without anyone approving in between.
    page = env.create_task(clips=3, channel="autopilot")
    await env.settle()
    assert env.status(page) == "Video Ready"
    before = _calls(env)
    assert _delta(before, Counter()) == {
        "storyboard": 1,
        "keyframe": 4,
        "clip_create": 3,
        "narration": 0,
    }
    old_prompt = (await env.clips(page))[1].prompt

    # narrative: re-plan shot 2, then its keyframe and the clips on both sides of it.
    env.review(page, "Video Error", "narrative: shot 2 doesn't follow")
    await env.settle()
    assert env.status(page) == "Video Ready"
    after = _calls(env)
    assert _delta(after, before) == {
        "storyboard": 1,
        "keyframe": 1,  # keyframe 2 starts shot 2
        "clip_create": 2,  # clip 1 ends on keyframe 2, clip 2 starts on it
        "narration": 0,
    }
    clips = await env.clips(page)
    assert [c.attempt for c in clips] == [2, 2, 1]
    assert clips[1].prompt != old_prompt
    assert [k.attempt for k in await env.keyframes(page)] == [1, 2, 1, 1]
    moves = [(e.from_status, e.to_status) for e in await env.events(page) if e.actor == "daemon"]
    assert ("video_error", "planning") in moves
    understood = next(c for c in reversed(env.comments(page)) if "What I read" in c)
    assert (
        "“narrative: shot 2 doesn't follow”: shot 2 → re-plan storyboard, then keyframe 2 "
        "and clips 1–2 (note: doesn't follow)"
    ) in understood

    # audio: that clip's narration only; no clip, keyframe or storyboard call.
    before = after
    env.review(page, "Video Error", "audio: clip 3 mumbles")
    await env.settle()
    assert env.status(page) == "Video Ready"
    assert _delta(_calls(env), before) == {
        "storyboard": 0,
        "keyframe": 0,
        "clip_create": 0,
        "narration": 0,
    }
    clips = await env.clips(page)
    assert [c.attempt for c in clips] == [2, 2, 1]
    assert [c.narration_status for c in clips] == ["planned", "planned", "rejected"]
    assert clips[2].narration_note == "mumbles"
    understood = env.comments(page)[-1]
    assert "“audio: clip 3 mumbles”: clip 3 → redo narration only (note: mumbles)" in understood
    assert "kept for Generating Audio" in understood

    # The audio stage makes every line once, clip 3's included; no clip is made again.
    env.review(page, "Video Approved")
    await env.settle()
    assert env.status(page) == "Audio Ready"
    assert _delta(_calls(env), before) == {
        "storyboard": 0,
        "keyframe": 0,
        "clip_create": 0,
        "narration": 3,
    }
    assert [c.narration_attempt for c in await env.clips(page)] == [1, 1, 1]


async def test_the_review_history_holds_one_line_per_verdict(pipeline_env: PipelineEnv) -> None:
    env = pipeline_env
    page = env.create_task(clips=2)
    await env.drive_to(page, "Video Ready", approve=("Storyboard Ready", "Keyframes Ready"))
    env.review(page, "Video Error", "Bad motion: 2")
    await env.settle()
    assert env.status(page) == "Video Ready"
    env.review(page, "Video Approved")
    await env.settle()
    assert env.status(page) == "Audio Ready"

    history = env.review_history(page)
    assert len(history) == 4
    assert history[0].startswith("Storyboard review, round 1: Approved by @Rita Reviewer at ")
    assert history[1].startswith("Keyframes review, round 1: Approved by @Rita Reviewer at ")
    assert history[2].startswith("Video review, round 1: Error by @Rita Reviewer at ")
    assert history[2].endswith(": clip 2 (Bad motion)")
    assert " UTC after " in history[2]
    assert history[3].startswith("Video review, round 2: Approved by @Rita Reviewer")
    # The toggle sits in the page body, above the stages' sections.
    blocks = env.server.admin.blocks(page)
    assert blocks[0]["type"] == "toggle"

    # Every gate visit is in the database too, with who, when and how long.
    from sqlalchemy import select

    from orchestrator.db.models import ReviewVisit

    task = await env.task(page)
    async with env.sessions() as session:
        visits = (
            (
                await session.execute(
                    select(ReviewVisit)
                    .where(ReviewVisit.task_id == task.id)
                    .order_by(ReviewVisit.id)
                )
            )
            .scalars()
            .all()
        )
    assert [(v.gate, v.round, v.verdict) for v in visits] == [
        ("storyboard", 1, "storyboard_approved"),
        ("keyframes", 1, "keyframes_approved"),
        ("video", 1, "video_error"),
        ("video", 2, "video_approved"),
        ("audio", 1, None),  # open: waiting for the reviewer
    ]
    assert visits[2].named == {"clips": [2]}
    assert visits[2].verdict_by == env.server.state.reviewer_id
    assert all(v.duration_s is not None and v.duration_s >= 0 for v in visits[:4])
    text = env.runtime.metrics.render_text()
    assert 'reelgate_review_duration_seconds_count{gate="video"} 2.0' in text
    assert 'reelgate_review_duration_seconds_count{gate="storyboard"} 1.0' in text


async def test_an_auto_approved_gate_is_in_the_history_too(pipeline_env: PipelineEnv) -> None:
    env = pipeline_env
    page = env.create_task(clips=2, channel="autopilot")
    await env.settle()
    assert env.status(page) == "Video Ready"
    assert env.review_history(page) == [
        "Storyboard review, round 1: approved automatically (channel autopilot)",
        "Keyframes review, round 1: approved automatically (channel autopilot)",
    ]
    # No person decided: nothing for the review-time histogram.
    assert "reelgate_review_duration_seconds_count" not in env.runtime.metrics.render_text()


async def test_video_error_then_queued_means_go_ahead_with_my_notes(
    pipeline_env: PipelineEnv,
) -> None:
    env = pipeline_env
    page = env.create_task(clips=2, channel="autopilot")
    await env.settle()
    # Status first, then notes, then "Queued": the habit of the system reelgate replaces.
    env.review(page, "Video Error")
    await env.settle()
    assert env.status(page) == "Video Error"
    env.write_error_log(page, "clip 1: too dark")
    env.review(page, "Queued")
    await env.settle()
    assert env.status(page) == "Video Ready"
    assert [c.attempt for c in await env.clips(page)] == [2, 1]
    moves = [(e.actor, e.from_status, e.to_status) for e in await env.events(page)]
    assert ("human", "video_error", "queued") in moves
    assert ("daemon", "queued", "video_error") in moves
    assert ("daemon", "video_error", "generating_video") in moves
    assert not any(to == "video_ready" and src == "video_error" for _, src, to in moves)


async def test_a_reviewer_may_withdraw_an_error(pipeline_env: PipelineEnv) -> None:
    env = pipeline_env
    page = env.create_task(clips=2, channel="autopilot")
    await env.settle()
    env.review(page, "Video Error")
    await env.settle()
    assert env.status(page) == "Video Error"
    waiting = [c for c in env.comments(page) if "Waiting for your notes" in c]
    assert len(waiting) == 1
    assert "set their rows to Regenerate" in waiting[0]
    env.review(page, "Video Ready")
    await env.settle()
    assert (await env.task(page)).status == "video_ready"
    env.review(page, "Video Approved")
    await env.settle()
    assert env.status(page) == "Audio Ready"
    assert env.review_history(page)[-2].endswith(": withdrawn, nothing regenerated")
    assert [c.attempt for c in await env.clips(page)] == [1, 1]


async def test_videos_rows_say_when_each_clip_was_generated(pipeline_env: PipelineEnv) -> None:
    env = pipeline_env
    page = env.create_task(clips=2, channel="autopilot")
    await env.settle()

    def generated() -> dict[int, str]:
        out = {}
        for row in env.server.admin.pages(env.videos_ds):
            props = row["properties"]
            if page.replace("-", "") in str(props["Task"]["relation"]).replace("-", ""):
                out[int(props["Clip"]["number"])] = (props["Generated"]["date"] or {})["start"]
        return out

    first = generated()
    clips = await env.clips(page)
    assert first == {c.number: c.generated_at.isoformat() for c in clips if c.generated_at}
    assert set(first) == {1, 2}
    env.review(page, "Video Error", "clip 2: warmer")
    await env.settle()
    second = generated()
    assert second[1] == first[1]
    assert second[2] > first[2]
