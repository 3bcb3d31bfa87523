"""transition_clip / _keyframe / _narration: guarded updates, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, inspect, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from orchestrator.db import Clip, Keyframe, session_factory
from orchestrator.errors import IllegalTransition, StaleState
from orchestrator.state import (
    CLIP_TRANSITIONS,
    KEYFRAME_TRANSITIONS,
    NARRATION_TRANSITIONS,
    ClipStatus,
    KeyframeStatus,
    NarrationStatus,
    transition_clip,
    transition_keyframe,
    transition_narration,
)
from tests.factories import make_task

Sessions = async_sessionmaker[AsyncSession]


async def _clip(
    sessions: Sessions,
    status: ClipStatus = ClipStatus.PLANNED,
    attempt: int = 0,
    narration: NarrationStatus = NarrationStatus.PLANNED,
) -> int:
    task = await make_task(sessions)
    async with sessions() as session, session.begin():
        clip = Clip(
            task_id=task.id,
            number=1,
            status=status.value,
            attempt=attempt,
            narration_status=narration.value,
        )
        session.add(clip)
        await session.flush()
        return clip.id


async def _keyframe(sessions: Sessions, status: KeyframeStatus, attempt: int = 0) -> int:
    task = await make_task(sessions)
    async with sessions() as session, session.begin():
        kf = Keyframe(task_id=task.id, number=1, status=status.value, attempt=attempt)
        session.add(kf)
        await session.flush()
        return kf.id


async def test_every_clip_edge_is_taken_with_its_values(sessions: Sessions) -> None:
    for source, target in CLIP_TRANSITIONS:
        clip_id = await _clip(sessions, source, attempt=3)
        async with sessions() as session, session.begin():
            clip = await session.get(Clip, clip_id)
            assert clip is not None
            await transition_clip(session, clip, target, attempt=4, error="why")
            # The object shows what was written, with nothing left to flush.
            assert (clip.status, clip.attempt, clip.error) == (target.value, 4, "why")
            attrs = inspect(clip).attrs
            assert not any(attrs[name].history.has_changes() for name in ("status", "attempt"))
        async with sessions() as session:
            row = await session.get(Clip, clip_id)
            assert row is not None
            assert (row.status, row.attempt, row.error) == (target.value, 4, "why")


async def test_every_keyframe_and_narration_edge_is_taken(sessions: Sessions) -> None:
    for kf_source, kf_target in KEYFRAME_TRANSITIONS:
        kf_id = await _keyframe(sessions, kf_source, attempt=1)
        async with sessions() as session, session.begin():
            kf = await session.get(Keyframe, kf_id)
            assert kf is not None
            await transition_keyframe(session, kf, kf_target, attempt=2)
        async with sessions() as session:
            kf = await session.get(Keyframe, kf_id)
            assert kf is not None
            assert (kf.status, kf.attempt) == (kf_target.value, 2)
    for line_source, line_target in NARRATION_TRANSITIONS:
        clip_id = await _clip(sessions, ClipStatus.APPROVED, attempt=1, narration=line_source)
        async with sessions() as session, session.begin():
            clip = await session.get(Clip, clip_id)
            assert clip is not None
            await transition_narration(session, clip, line_target, narration_attempt=5)
        async with sessions() as session:
            clip = await session.get(Clip, clip_id)
            assert clip is not None
            # The narration machine leaves the clip's own status alone.
            assert (clip.narration_status, clip.narration_attempt, clip.status) == (
                line_target.value,
                5,
                ClipStatus.APPROVED.value,
            )


async def test_a_move_not_in_the_table_is_refused_and_nothing_changes(sessions: Sessions) -> None:
    clip_id = await _clip(sessions, ClipStatus.POLLING, attempt=1)
    async with sessions() as session, session.begin():
        clip = await session.get(Clip, clip_id)
        assert clip is not None
        # A review must never pull an operation out from under the poller.
        with pytest.raises(IllegalTransition) as info:
            await transition_clip(session, clip, ClipStatus.REJECTED)
        assert set(info.value.allowed) == {
            "complete",
            "planned",
            "rai_filtered",
            "timed_out",
            "failed",
            "lost",  # finished with neither a video nor a reason
        }
        assert "polling" in str(info.value)
        with pytest.raises(IllegalTransition):
            await transition_clip(session, clip, ClipStatus.POLLING)
    kf_id = await _keyframe(sessions, KeyframeStatus.PLANNED)
    async with sessions() as session, session.begin():
        kf = await session.get(Keyframe, kf_id)
        assert kf is not None
        with pytest.raises(IllegalTransition):
            await transition_keyframe(session, kf, KeyframeStatus.REJECTED)
    async with sessions() as session:
        clip = await session.get(Clip, clip_id)
        kf = await session.get(Keyframe, kf_id)
        assert clip is not None
        assert kf is not None
        assert (clip.status, kf.status) == ("polling", "planned")


async def test_a_stale_status_loses(sessions: Sessions) -> None:
    clip_id = await _clip(sessions, ClipStatus.POLLING, attempt=1)
    async with sessions() as first:
        mine = await first.get(Clip, clip_id)
        assert mine is not None
        # Another poller records the result first.
        async with sessions() as other, other.begin():
            theirs = await other.get(Clip, clip_id)
            assert theirs is not None
            await transition_clip(other, theirs, ClipStatus.COMPLETE)
        with pytest.raises(StaleState, match="no longer polling"):
            await transition_clip(first, mine, ClipStatus.TIMED_OUT)
        await first.rollback()
    async with sessions() as session:
        row = await session.get(Clip, clip_id)
        assert row is not None
        assert row.status == "complete"


async def test_a_stale_attempt_loses_even_when_the_status_matches(sessions: Sessions) -> None:
    clip_id = await _clip(sessions, ClipStatus.PLANNED, attempt=1)
    async with sessions() as first:
        mine = await first.get(Clip, clip_id)
        assert mine is not None
        # Meanwhile the clip was submitted and sent back to planned (a retry):
        # same status, newer attempt. Submitting attempt 2 again would pay twice.
        async with sessions() as other, other.begin():
            theirs = await other.get(Clip, clip_id)
            assert theirs is not None
            await transition_clip(other, theirs, ClipStatus.SUBMITTING, attempt=2)
            await transition_clip(other, theirs, ClipStatus.POLLING, operation_name="op-2")
            await transition_clip(other, theirs, ClipStatus.PLANNED)
        with pytest.raises(StaleState, match="attempt 1"):
            await transition_clip(first, mine, ClipStatus.SUBMITTING, attempt=2)
        await first.rollback()
    async with sessions() as session:
        row = await session.get(Clip, clip_id)
        assert row is not None
        assert (row.status, row.attempt, row.operation_name) == ("planned", 2, "op-2")


async def test_stale_keyframe_and_narration_moves_lose(sessions: Sessions) -> None:
    kf_id = await _keyframe(sessions, KeyframeStatus.PLANNED)
    async with sessions() as first:
        mine = await first.get(Keyframe, kf_id)
        assert mine is not None
        async with sessions() as other, other.begin():
            theirs = await other.get(Keyframe, kf_id)
            assert theirs is not None
            await transition_keyframe(other, theirs, KeyframeStatus.COMPLETE, attempt=1)
            await transition_keyframe(other, theirs, KeyframeStatus.PLANNED)
        # Same status again, but rendered meanwhile: attempt 1 is taken.
        with pytest.raises(StaleState):
            await transition_keyframe(first, mine, KeyframeStatus.COMPLETE, attempt=1)
        await first.rollback()

    clip_id = await _clip(sessions, ClipStatus.APPROVED, attempt=1)
    async with sessions() as first:
        my_clip = await first.get(Clip, clip_id)
        assert my_clip is not None
        async with sessions() as other, other.begin():
            their_clip = await other.get(Clip, clip_id)
            assert their_clip is not None
            await transition_narration(
                other, their_clip, NarrationStatus.COMPLETE, narration_attempt=1
            )
        with pytest.raises(StaleState, match="narration line 1"):
            await transition_narration(
                first, my_clip, NarrationStatus.COMPLETE, narration_attempt=1
            )
        await first.rollback()


@pytest.mark.postgres
async def test_racing_submissions_on_postgres_exactly_one_wins(pg_engine: AsyncEngine) -> None:
    sessions = session_factory(pg_engine)
    clip_id = await _clip(sessions, ClipStatus.PLANNED, attempt=0)
    start = asyncio.Event()

    async def racer() -> bool:
        async with sessions() as session:
            clip = await session.get(Clip, clip_id)
            assert clip is not None
            await start.wait()
            try:
                await transition_clip(
                    session, clip, ClipStatus.SUBMITTING, attempt=clip.attempt + 1
                )
            except StaleState:
                await session.rollback()
                return False
            await session.commit()
            return True

    racers = [asyncio.create_task(racer()) for _ in range(8)]
    await asyncio.sleep(0.2)
    start.set()
    assert sum(await asyncio.gather(*racers)) == 1
    async with sessions() as session:
        row = await session.get(Clip, clip_id)
        assert row is not None
        assert (row.status, row.attempt) == ("submitting", 1)
        total = (await session.execute(select(func.count(Clip.id)))).scalar_one()
        assert total == 1
