"""Issue 14, recovery: after a SIGKILL during the submit step, the restarted daemon does
not wait out the dead worker's lease (120 s by default) before the remaining creates go
out, and it never creates a clip twice.

The "dead daemon" is a real process, SIGKILLed: its token (host, boot id, pid, start
time) is what a worker of it would have written into the lease.
"""

from __future__ import annotations

import signal
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update

from orchestrator.daemon.worker import Worker
from orchestrator.db.models import Clip, Task
from orchestrator.pipeline.context import PipelineContext
from orchestrator.state.claims import readopt_dead
from orchestrator.state.clips import ClipStatus
from orchestrator.state.owners import ProcessToken, is_dead, this_process, token_for
from tests.fakes.vertex import FakeVertex
from tests.helpers.replicas import FakeClock, migrate, replica, seed_video_task

pytestmark = [
    pytest.mark.timeout(120),
    pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux /proc"),
]


def sigkilled_process() -> ProcessToken:
    """The token of a process that ran on this host and was SIGKILLed."""
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        token = token_for(child.pid)
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
    return token


def test_tokens_tell_a_dead_process_from_a_live_one() -> None:
    dead = sigkilled_process()
    me = this_process()
    assert is_dead(dead)
    assert not is_dead(me)
    assert ProcessToken.parse(str(dead)) == dead
    # A pid reused by a process started later is not the one that held the lease.
    assert is_dead(ProcessToken(me.host, me.boot, me.ns, me.pid, "1"))
    assert is_dead(ProcessToken(me.host, "0000beef", dead.ns, dead.pid, dead.start))  # rebooted
    # Another host's processes, or another container's, are never judged from here.
    assert not is_dead(ProcessToken("elsewhere", dead.boot, dead.ns, dead.pid, dead.start))
    assert not is_dead(ProcessToken(me.host, me.boot, "1", dead.pid, dead.start))


async def _lease(
    ctx: PipelineContext, task_id: int, owner: str, process: str, clock: FakeClock
) -> None:
    async with ctx.sessions() as session, session.begin():
        await session.execute(
            update(Task)
            .where(Task.id == task_id)
            .values(
                lease_owner=owner,
                lease_process=process,
                lease_expires_at=clock.now + timedelta(seconds=120),
            )
        )


async def test_restart_after_a_kill_mid_submit_creates_the_rest_at_once_and_never_twice(
    db_url: str, tmp_path: Path, fake_vertex: FakeVertex
) -> None:
    await migrate(db_url)
    clock = FakeClock()
    async with replica(db_url, tmp_path, "new", vertex_url=fake_vertex.url, clock=clock) as ctx:
        task_id = await seed_video_task(ctx, clips=3)
        # The dead daemon had marked clip 1 "submitting" (its create may have gone out)
        # and still held the task's lease when it was killed.
        async with ctx.sessions() as session, session.begin():
            await session.execute(
                update(Clip)
                .where(Clip.task_id == task_id, Clip.number == 1)
                .values(status=ClipStatus.SUBMITTING.value, attempt=1)
            )
        await _lease(ctx, task_id, "old-host-0", str(sigkilled_process()), clock)
        worker = Worker(ctx, "new-0")
        assert not await worker.run_once()  # held: before the fix, for 120 s

        assert await readopt_dead(ctx.sessions, now=clock.now) == (1, 0)
        assert await worker.run_once()

        async with ctx.sessions() as session:
            clips = (
                (
                    await session.execute(
                        select(Clip).where(Clip.task_id == task_id).order_by(Clip.number)
                    )
                )
                .scalars()
                .all()
            )
        # Clip 1 is flagged as a lost submission (the policy decides, not a blind
        # resubmit); clips 2 and 3 went out once each.
        assert [c.status for c in clips] == ["lost", "polling", "polling"]
        assert sum(fake_vertex.accepted_creates.values()) == 2
        assert sorted(fake_vertex.create_calls.values()) == [1, 1]
        assert not any("shot 1" in prompt for prompt in fake_vertex.create_calls)


async def test_live_and_foreign_leases_are_left_alone_and_a_replica_id_is_readopted(
    sqlite_url: str, tmp_path: Path, fake_vertex: FakeVertex
) -> None:
    await migrate(sqlite_url)
    clock = FakeClock()
    async with replica(sqlite_url, tmp_path, "x", vertex_url=fake_vertex.url, clock=clock) as ctx:
        me = this_process()
        elsewhere = ProcessToken("other-host", "12345678", "4026531836", 4242, "99")
        ids = [await seed_video_task(ctx, clips=1) for _ in range(3)]
        await _lease(ctx, ids[0], "me-0", str(me), clock)  # this very process: alive
        await _lease(ctx, ids[1], "pod-a-0", str(elsewhere), clock)  # another host
        await _lease(ctx, ids[2], "pod-b-0", str(elsewhere), clock)  # our replica id
        # A dead process's claim on an operation's poll is freed (due at once) too.
        async with ctx.sessions() as session, session.begin():
            await session.execute(
                update(Clip)
                .where(Clip.task_id == ids[0])
                .values(
                    status=ClipStatus.POLLING.value,
                    operation_name="op-x",
                    poll_owner=str(sigkilled_process()),
                    next_poll_at=clock.now + timedelta(minutes=5),
                )
            )

        freed = await readopt_dead(ctx.sessions, me=me, replica_prefix="pod-b-", now=clock.now)

        assert freed == (1, 1)
        async with ctx.sessions() as session:
            owners = dict(
                (
                    await session.execute(select(Task.id, Task.lease_owner).where(Task.id.in_(ids)))
                ).all()
            )
            clip = (await session.execute(select(Clip).where(Clip.task_id == ids[0]))).scalar_one()
        assert owners == {ids[0]: "me-0", ids[1]: "pod-a-0", ids[2]: None}
        assert clip.poll_owner is None
        assert clip.next_poll_at == clock.now
