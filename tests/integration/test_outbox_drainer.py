"""The outbox drainer against the local Notion API with the real NotionWriter.

Outbox rows are written directly (as a pipeline step would) for task pages the
harness created; the drainer runs with its own client (no retries inside the
client, so a 503 reaches the drainer) and a clock the test moves.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr
from sqlalchemy import select, update

from notion_sync.client import NotionClient
from notion_sync.local_api.server import LocalNotionServer
from notion_sync.ops import Comment, NotionOp, SetTaskStatus, UpdateTask, UpsertVideoRow
from notion_sync.writer import NotionWriter
from orchestrator.admin.outbox import outbox_health
from orchestrator.daemon.drainer import OutboxDrainer, pending_count
from orchestrator.db.models import Clip, OutboxItem, Task
from orchestrator.db.types import utcnow
from orchestrator.pipeline.notion_out import INTERMEDIATE_ROW_HOLD, sync_clip_row
from orchestrator.state.clips import ClipStatus
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
    bad, note = await rig.enqueue(
        SetTaskStatus(page_id=page, status_label="Half Done"),  # not a Status option
        Comment(page_id=page, text="still talking"),
    )
    (good,) = await rig.enqueue(
        SetTaskStatus(page_id=rig.pages["B"], status_label="Queued"), title="B"
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
    assert rig.env.status(rig.pages["B"]) == "Queued"
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


async def test_a_status_passed_while_rows_were_queued_is_not_sent_only_the_latest(
    rig: Rig,
) -> None:
    """A task moved through four statuses while its rows waited: Notion is written the
    rows and then the latest Status, once (a look and a write), not four times."""
    rig.now[0] = utcnow()
    page = rig.pages["A"]
    await _queue_row(rig, "A", 1, ClipStatus.PLANNED)
    passed = await rig.enqueue(
        SetTaskStatus(page_id=page, status_label="Storyboard Ready"),
        SetTaskStatus(page_id=page, status_label="Generating Keyframes"),
        SetTaskStatus(page_id=page, status_label="Keyframes Ready"),
    )
    await _queue_row(rig, "A", 2, ClipStatus.PLANNED)
    (latest,) = await rig.enqueue(
        SetTaskStatus(
            page_id=page, status_label="Generating Video", changed_at="2030-01-01T00:00:00+00:00"
        )
    )
    assert await rig.drainer.drain_once() == 6

    log = [e for e in rig.server.request_log.entries(path_prefix="/v1/") if e.status == 200]
    status_writes = [e for e in log if e.method == "PATCH" and e.path == f"/v1/pages/{page}"]
    assert len(status_writes) == 1
    creates = [i for i, e in enumerate(log) if e.method == "POST" and e.path == "/v1/pages"]
    assert len(creates) == 2
    assert max(creates) < log.index(status_writes[0])  # after both rows it announces
    assert rig.env.status(page) == "Generating Video"
    task = await rig.env.task(page)
    assert task.last_seen_status == "Generating Video"
    items = await rig.items()
    assert all(items[i].sent_at is not None for i in (*passed, latest))
    assert {items[i].last_error for i in passed} == {"superseded by a later status write"}
    assert items[latest].last_error is None
    assert items[latest].attempts == 1
    assert await pending_count_now(rig) == 0


async def pending_count_now(rig: Rig) -> int:
    async with rig.env.sessions() as session:
        return await pending_count(session)


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


# -- merged writes and causal order (issue 14) --------------------------------------


async def _queue_row(
    rig: Rig, title: str, number: int, status: ClipStatus, *, intermediate: bool = False
) -> None:
    """A Videos-row write as the pipeline queues it: the whole row, from the database."""
    async with rig.env.sessions() as session, session.begin():
        task = await session.get(Task, rig.task_ids[title])
        assert task is not None
        clip = (
            await session.execute(
                select(Clip).where(Clip.task_id == task.id, Clip.number == number)
            )
        ).scalar_one_or_none()
        if clip is None:
            clip = Clip(task_id=task.id, number=number, prompt=f"shot {number}")
            session.add(clip)
        clip.status = status
        clip.attempt = max(clip.attempt or 0, 1 if status is not ClipStatus.PLANNED else 0)
        if status is ClipStatus.COMPLETE:
            clip.public_url = f"https://media.example/clip_{number:02d}.mp4"
            clip.duration_s = 8.0
        await session.flush()
        sync_clip_row(session, task, clip, {}, intermediate=intermediate)


def _row_status(row: dict[str, Any]) -> str:
    return str(row["properties"]["Status"]["select"]["name"])


async def test_pending_writes_to_one_row_become_one_request(rig: Rig) -> None:
    rig.now[0] = utcnow()
    await _queue_row(rig, "A", 1, ClipStatus.PLANNED)
    await _queue_row(rig, "A", 1, ClipStatus.PLANNED, intermediate=True)  # keyframes
    await _queue_row(rig, "A", 1, ClipStatus.SUBMITTING, intermediate=True)
    await _queue_row(rig, "A", 1, ClipStatus.POLLING, intermediate=True)
    await _queue_row(rig, "A", 1, ClipStatus.COMPLETE)

    assert await rig.drainer.drain_once() == 5
    # One create, no look-up first (no create of this row was ever tried).
    assert len(rig.server.request_log.entries(path_prefix="/v1/")) == 1
    rows = await query_all(rig.server, "Videos")
    assert [_row_status(r) for r in rows] == ["Ready"]  # the last value won
    assert rows[0]["properties"]["Duration"]["number"] == 8.0
    assert all(item.sent_at is not None for item in (await rig.items()).values())


async def test_an_intermediate_write_rides_with_the_rows_next_write(rig: Rig) -> None:
    rig.now[0] = utcnow()
    await _queue_row(rig, "A", 1, ClipStatus.PLANNED)
    assert await rig.drainer.drain_once() == 1
    rig.server.request_log.clear()

    await _queue_row(rig, "A", 1, ClipStatus.SUBMITTING, intermediate=True)
    assert await rig.drainer.drain_once() == 0  # held: nothing is sent for it alone
    assert len(rig.server.request_log) == 0
    await _queue_row(rig, "A", 1, ClipStatus.COMPLETE)
    assert await rig.drainer.drain_once() == 2
    assert len(rig.server.request_log.entries(path_prefix="/v1/")) == 1
    assert [_row_status(r) for r in await query_all(rig.server, "Videos")] == ["Ready"]

    # With no later write, a held one goes alone once its hold has passed.
    await _queue_row(rig, "A", 1, ClipStatus.APPROVED, intermediate=True)
    assert await rig.drainer.drain_once() == 0
    rig.now[0] = utcnow() + INTERMEDIATE_ROW_HOLD + timedelta(seconds=1)
    assert await rig.drainer.drain_once() == 1
    assert [_row_status(r) for r in await query_all(rig.server, "Videos")] == ["Approved"]


async def test_a_write_queued_while_a_drain_is_in_flight_is_never_lost(rig: Rig) -> None:
    rig.now[0] = utcnow()
    await _queue_row(rig, "A", 1, ClipStatus.PLANNED)
    rig.server.knobs.add_latency(1.0, method="POST", path_prefix="/v1/pages")
    drain = asyncio.create_task(rig.drainer.drain_once())
    await asyncio.sleep(0.5)  # the create is on the wire (answered after 1 s)
    assert not drain.done()
    await _queue_row(rig, "A", 1, ClipStatus.COMPLETE)
    assert await drain == 1
    items = await rig.items()
    rows = sorted((i for i in items.values() if i.kind == "upsert_video_row"), key=lambda i: i.id)
    assert [i.sent_at is None for i in rows] == [
        False,
        True,
    ]
    assert await rig.drainer.drain_once() == 1
    rows = await query_all(rig.server, "Videos")
    assert [_row_status(r) for r in rows] == ["Ready"]  # one row, the later content


async def test_a_retried_create_looks_for_the_row_first(rig: Rig) -> None:
    """A drainer that died mid-create counted the attempt first: the retry finds the row."""
    rig.now[0] = utcnow()
    page = rig.pages["A"]
    made = await rig.drainer._writer.execute(  # the create that reached Notion
        UpsertVideoRow(task_page_id=page, clip_number=1, fields={"status": "Planned"})
    )
    assert made.created_row_id
    await _queue_row(rig, "A", 1, ClipStatus.PLANNED)
    async with rig.env.sessions() as session, session.begin():
        await session.execute(update(OutboxItem).values(attempts=1))
    rig.server.request_log.clear()
    assert await rig.drainer.drain_once() == 1
    assert rig.server.request_log.count(method="POST", path_prefix="/v1/data_sources") == 1
    assert rig.server.request_log.count(method="POST", path_prefix="/v1/pages") == 0
    assert [r["id"] for r in await query_all(rig.server, "Videos")] == [made.created_row_id]


async def test_status_write_goes_right_after_its_rows_not_after_other_backlog(
    rig: Rig,
) -> None:
    rig.now[0] = utcnow()
    a, b = rig.pages["A"], rig.pages["B"]
    # Another task's backlog, queued first.
    await rig.enqueue(*(Comment(page_id=b, text=f"note {i}") for i in range(12)), title="B")
    for number in (1, 2, 3):
        await _queue_row(rig, "A", number, ClipStatus.COMPLETE)
    (status,) = await rig.enqueue(SetTaskStatus(page_id=a, status_label="Video Ready"))
    # A status write of page B queued after: its own page's earlier writes go first.
    await rig.enqueue(SetTaskStatus(page_id=b, status_label="Queued"), title="B")

    assert await rig.drainer.drain_once() == 17
    log = [e for e in rig.server.request_log.entries(path_prefix="/v1/") if e.status == 200]
    creates = [i for i, e in enumerate(log) if e.method == "POST" and e.path == "/v1/pages"]
    status_patch = [
        i for i, e in enumerate(log) if e.method == "PATCH" and e.path == f"/v1/pages/{a}"
    ]
    comments = [i for i, e in enumerate(log) if e.path.startswith("/v1/comments")]
    assert len(creates) == 3
    assert len(status_patch) == 1
    assert max(creates) < status_patch[0] < min(comments)
    b_status = [i for i, e in enumerate(log) if e.method == "PATCH" and e.path == f"/v1/pages/{b}"]
    assert max(comments) < b_status[0]
    assert rig.env.status(a) == "Video Ready"
    assert (await rig.items())[status].sent_at is not None


async def test_a_held_write_is_not_counted_as_the_outbox_falling_behind(rig: Rig) -> None:
    now = utcnow()
    async with rig.env.sessions() as session, session.begin():
        task = await session.get(Task, rig.task_ids["A"])
        assert task is not None
        session.add(
            OutboxItem(
                task_id=task.id,
                page_id=task.notion_page_id,
                kind="upsert_video_row",
                op=UpsertVideoRow(
                    task_page_id=task.notion_page_id, clip_number=1, fields={}
                ).model_dump(mode="json"),
                created_at=now - timedelta(minutes=20),
                hold_until=now + timedelta(minutes=10),
            )
        )
    async with rig.env.sessions() as session:
        assert await outbox_health(session, now) == (0, 0.0)
        assert await pending_count(session, due_at=now) == 0
        assert await pending_count(session) == 1
        # Once its hold has passed, it ages like any other write.
        later = now + timedelta(minutes=15)
        assert await outbox_health(session, later) == (0, 300.0)
