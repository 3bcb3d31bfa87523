"""No daemon write can erase what a reviewer types in Error Log.

The daemon's own lines go to the "reelgate log" toggle in the page body, appended
as blocks: it never reads-then-writes the Error Log property. Here a reviewer
types in Error Log through notion-client, edit after edit, while the outbox
drainer sends a stream of daemon log lines for the same page, with server latency
so that the two interleave.
"""

from __future__ import annotations

import asyncio

import pytest

from orchestrator.daemon.drainer import OutboxDrainer
from orchestrator.pipeline.notion_out import log_daemon_line
from tests.fixtures.notion import make_notion_client
from tests.fixtures.pipeline import PipelineEnv

pytestmark = pytest.mark.timeout(120)

EDITS = 12
DAEMON_LINES = 24


async def test_reviewer_typing_while_the_daemon_logs_loses_nothing(
    pipeline_env: PipelineEnv,
) -> None:
    env = pipeline_env
    server = env.server
    page = env.create_task(status="Draft")
    await env.settle()  # adopted; Draft: nothing runs
    task = await env.task(page)
    async with env.sessions() as session, session.begin():
        for i in range(DAEMON_LINES):
            log_daemon_line(session, task, f"daemon line {i}", env.runtime.ctx.clock())

    # Every request takes a little while: reads and writes of both sides interleave.
    server.knobs.add_latency(0.02)
    server.request_log.clear()
    reviewer = make_notion_client(server, user="Rita Reviewer")
    typed: list[str] = []

    async def type_notes() -> None:
        for i in range(EDITS):
            # As the Notion app does: the property's whole new value on each save.
            page_now = await reviewer.pages.retrieve(page_id=page)
            old = "".join(t["plain_text"] for t in page_now["properties"]["Error Log"]["rich_text"])
            line = f"clip {i % 3 + 1}: note {i}"
            typed.append(line)
            text = f"{old}\n{line}" if old else line
            await reviewer.pages.update(
                page_id=page,
                properties={"Error Log": {"rich_text": [{"text": {"content": text}}]}},
            )
            await asyncio.sleep(0.01)

    async def drain() -> None:
        drainer = OutboxDrainer(env.sessions, env.runtime.writer, env.runtime.metrics, batch=1)
        # One op per round: the reviewer's requests get in between.
        for _ in range(DAEMON_LINES + 5):
            if not await drainer.drain_once():
                break

    try:
        await asyncio.gather(type_notes(), drain())
    finally:
        await reviewer.aclose()
        server.knobs.clear_faults()

    assert env.error_log(page) == "\n".join(typed)
    assert [line.split(" · ", 1)[1] for line in env.daemon_log(page).splitlines()] == [
        f"daemon line {i}" for i in range(DAEMON_LINES)
    ]
    # The daemon never wrote (or even read) the task page's properties meanwhile.
    bot_page_requests = [
        e
        for e in server.request_log.entries(path_prefix=f"/v1/pages/{page}")
        if e.user_id == server.state.bot_user_id
    ]
    assert bot_page_requests == []
