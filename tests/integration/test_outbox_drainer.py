"""The outbox drainer against the local Notion API with the real NotionWriter.

Outbox rows are written directly (as a pipeline step would) for task pages the
harness created; the drainer runs with its own client (no retries inside the
client, so a 503 reaches the drainer) and a clock the test moves.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pydantic import SecretStr
from sqlalchemy import select

from notion_sync.client import NotionClient
from notion_sync.local_api.server import LocalNotionServer
from notion_sync.ops import Comment, NotionOp, SetTaskStatus, UpdateTask, UpsertVideoRow
from notion_sync.writer import NotionWriter
from orchestrator.daemon.drainer import OutboxDrainer
from orchestrator.db.models import Clip, OutboxItem
from tests.fixtures.pipeline import PipelineEnv, make_pipeline_env
from tests.helpers.notion_inspect import comments_of, query_all

pytestmark = pytest.mark.timeout(60)


@dataclass
class Rig:
    env: PipelineEnv
    server: LocalNotionServer
    drainer: OutboxDrainer
    now: list[datetime]
    pages: dict[str, str]  # title -> page id
    task_ids: dict[str, int]

    def advance(self, seconds: float) -> None:
        self.now[0] += timedelta(seconds=seconds)

    async def enqueue(self, *ops: NotionOp, title: str = "A") -> list[int]:
        ids = []
        async with self.env.sessions() as session, session.begin():
            for op in ops:
                page = op.task_page_id if isinstance(op, UpsertVideoRow) else op.page_id
                item = OutboxItem(
                    task_id=self.task_ids[title],
                    page_id=page,
                    kind=op.kind,
                    op=op.model_dump(mode="json"),
                )
                session.add(item)
                await session.flush()
                ids.append(item.id)
        return ids

    async def items(self) -> dict[int, OutboxItem]:
        async with self.env.sessions() as session:
            rows = (await session.execute(select(OutboxItem))).scalars().all()
            return {r.id: r for r in rows}

    def patches(self, page: str) -> int:
        return self.server.request_log.count(method="PATCH", path_prefix=f"/v1/pages/{page}")

    def text(self, page: str, name: str) -> str:
        prop = self.server.admin.page(page)["properties"][name]
        return "".join(t["plain_text"] for t in prop["rich_text"])


@pytest.fixture
async def rig(tmp_path: Path, local_notion: LocalNotionServer) -> AsyncIterator[Rig]:
    async with make_pipeline_env(tmp_path, local_notion) as env:
        pages = {t: env.create_task(status="Draft", title=t, clips=2) for t in ("A", "B")}
        await env.settle()  # the poller makes the task rows; nothing is left to send
        task_ids = {t: (await env.task(p)).id for t, p in pages.items()}
        settings = env.runtime.config.notion.model_copy(
            update={
                "max_retries": 0,
                "token": SecretStr(env.runtime.config.notion.token.get_secret_value()),
            }
        )
        now = [datetime(2030, 1, 1, tzinfo=UTC)]
        async with NotionClient(settings) as client:
            drainer = OutboxDrainer(
                env.sessions,
                NotionWriter(client, settings),
                env.runtime.metrics,
                clock=lambda: now[0],
            )
            local_notion.request_log.clear()
            yield Rig(env, local_notion, drainer, now, pages, task_ids)


async def test_updates_of_one_page_are_merged_into_one_patch(rig: Rig) -> None:
    page = rig.pages["A"]
    ids = await rig.enqueue(
        UpdateTask(page_id=page, fields={"progress": "1/2 clips"}),
        UpdateTask(page_id=page, fields={"cost": 0.5}),
        UpdateTask(page_id=page, fields={"progress": "2/2 clips", "estimated_cost": 1.25}),
    )
    assert await rig.drainer.drain_once() == 3

    assert rig.patches(page) == 1
    props = rig.server.admin.page(page)["properties"]
    assert rig.text(page, "Progress") == "2/2 clips"  # the last value wins
    assert props["Cost"]["number"] == 0.5
    assert props["Estimated Cost"]["number"] == 1.25
    items = await rig.items()
    assert all(items[i].sent_at is not None and items[i].attempts == 1 for i in ids)
    assert await rig.drainer.drain_once() == 0
    assert rig.patches(page) == 1


async def test_transient_failure_holds_that_page_back_in_order(rig: Rig) -> None:
    a, b = rig.pages["A"], rig.pages["B"]
    rig.server.knobs.inject(status=503, method="PATCH", path_prefix=f"/v1/pages/{a}", times=1)
    first, comment_a = await rig.enqueue(
        UpdateTask(page_id=a, fields={"progress": "first"}),
        Comment(page_id=a, text="after the first update"),
    )
    (comment_b,) = await rig.enqueue(Comment(page_id=b, text="page B goes on"), title="B")

    assert await rig.drainer.drain_once() == 1  # only page B's comment
    items = await rig.items()
    assert items[first].sent_at is None
    assert items[first].attempts == 1
    assert "503" in (items[first].last_error or ""), items[first].last_error
    assert items[first].next_attempt_at is not None
    assert not items[first].dead
    assert items[comment_a].sent_at is None
    assert items[comment_a].attempts == 0
    assert items[comment_b].sent_at is not None
    assert comments_of(rig.server, a) == []  # not sent before the update it follows
    assert comments_of(rig.server, b)[-1] == "page B goes on"

    # Before the retry is due: nothing of page A goes out, even a new write.
    (later,) = await rig.enqueue(UpdateTask(page_id=a, fields={"progress": "second"}))
    assert await rig.drainer.drain_once() == 0
    assert rig.patches(a) == 1  # the failed one only
    assert comments_of(rig.server, a) == []

    rig.advance(10)
    assert await rig.drainer.drain_once() == 3
    assert rig.text(a, "Progress") == "second"
    assert comments_of(rig.server, a)[-1] == "after the first update"
    items = await rig.items()
    assert all(items[i].sent_at is not None for i in (first, comment_a, later))
    # The comment was sent after the retried update (order kept on the wire).
    log = rig.server.request_log.entries(path_prefix="/v1/")
    patch_ok = [
        i
        for i, e in enumerate(log)
        if e.method == "PATCH" and e.path.startswith(f"/v1/pages/{a}") and e.status == 200
    ]
    comment_posts = [
        i for i, e in enumerate(log) if e.method == "POST" and e.path.startswith("/v1/comments")
    ]
    assert patch_ok
    assert comment_posts
    assert patch_ok[0] < comment_posts[-1]


async def test_permanent_failure_is_dead_lettered_and_the_page_goes_on(rig: Rig) -> None:
    page = rig.pages["A"]
    bad, good, note = await rig.enqueue(
        SetTaskStatus(page_id=page, status_label="Half Done"),  # not a Status option
        SetTaskStatus(page_id=page, status_label="Queued"),
        Comment(page_id=page, text="still talking"),
    )
    assert await rig.drainer.drain_once() == 3

    items = await rig.items()
    assert items[bad].dead
    assert items[bad].sent_at is None
    assert items[bad].last_error
    assert "Half Done" in items[bad].last_error
    assert items[good].sent_at is not None
    assert not items[good].dead
    assert items[note].sent_at is not None
    assert rig.env.status(page) == "Queued"
    assert comments_of(rig.server, page)[-1] == "still talking"
    # A dead letter is not retried.
    rig.advance(3600)
    assert await rig.drainer.drain_once() == 0


async def test_set_status_records_what_notion_now_shows(rig: Rig) -> None:
    page = rig.pages["B"]
    assert (await rig.env.task(page)).last_seen_status == "Draft"
    await rig.enqueue(SetTaskStatus(page_id=page, status_label="Storyboard Ready"), title="B")
    assert await rig.drainer.drain_once() == 1
    assert rig.env.status(page) == "Storyboard Ready"
    assert (await rig.env.task(page)).last_seen_status == "Storyboard Ready"


async def test_video_row_is_created_once_then_updated_in_place(rig: Rig) -> None:
    page = rig.pages["A"]
    async with rig.env.sessions() as session, session.begin():
        session.add(Clip(task_id=rig.task_ids["A"], number=1))
    await rig.enqueue(
        UpsertVideoRow(
            task_page_id=page, clip_number=1, fields={"status": "Generating", "attempt": 1}
        ),
        UpsertVideoRow(task_page_id=page, clip_number=1, fields={"prompt": "a lighthouse"}),
    )
    assert await rig.drainer.drain_once() == 2
    rows = await query_all(rig.server, "Videos")
    assert len(rows) == 1  # the two upserts were one create
    row_id = rows[0]["id"]
    assert rows[0]["properties"]["Prompt"]["rich_text"][0]["plain_text"] == "a lighthouse"
    async with rig.env.sessions() as session:
        clip = (
            await session.execute(select(Clip).where(Clip.task_id == rig.task_ids["A"]))
        ).scalar_one()
    assert clip.notion_row_id == row_id

    creates = rig.server.request_log.count(method="POST", path_prefix="/v1/pages")
    await rig.enqueue(
        UpsertVideoRow(task_page_id=page, clip_number=1, fields={"status": "Ready", "attempt": 2})
    )
    assert await rig.drainer.drain_once() == 1
    rows = await query_all(rig.server, "Videos")
    assert [r["id"] for r in rows] == [row_id]
    assert rows[0]["properties"]["Status"]["select"]["name"] == "Ready"
    assert rows[0]["properties"]["Attempt"]["number"] == 2
    assert rig.server.request_log.count(method="POST", path_prefix="/v1/pages") == creates
    assert rig.server.request_log.count(method="PATCH", path_prefix=f"/v1/pages/{row_id}") == 1
