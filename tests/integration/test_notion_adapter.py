"""notion_sync against the local Notion API server, through the real notion-client."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import SecretStr

from notion_sync.client import NotionClient
from notion_sync.errors import NotionPermanentError, NotionTransientError
from notion_sync.local_api import FixedClock, LocalNotionServer, rich_text, title_value
from notion_sync.mapping import TaskPage
from notion_sync.ops import (
    DAEMON_LOG_TOGGLE,
    AppendBlocks,
    AppendErrorLog,
    AppendToToggle,
    BlockSpec,
    Comment,
    FileRef,
    SetTaskStatus,
    TextPart,
    UpdateTask,
    UpsertVideoRow,
)
from notion_sync.poller import poll_tasks, poll_videos
from notion_sync.schema import (
    SetupResult,
    StatusOption,
    check_schema,
    ensure_schema,
    property_names,
    setup_notion,
)
from notion_sync.settings import NotionSettings
from notion_sync.writer import NotionWriter
from tests.helpers.notion_inspect import toggle_lines

TOKEN = "test-token"

STATUS_OPTIONS = [
    StatusOption("Draft", "gray", "To-do"),
    StatusOption("Queued", "blue", "To-do"),
    StatusOption("Planning", "yellow", "In progress"),
    StatusOption("Storyboard Ready", "orange", "In progress"),
    StatusOption("Done", "green", "Complete"),
    StatusOption("Failed", "red", "Complete"),
]


def make_settings(server: LocalNotionServer, **extra: Any) -> NotionSettings:
    values: dict[str, Any] = {
        "base_url": server.base_url,
        "token": SecretStr(TOKEN),
        "requests_per_second": 1000.0,
        "retry_backoff_s": 0.01,
        "max_retries": 3,
        "timeout_s": 10.0,
        **extra,
    }
    return NotionSettings(_env_file=None, **values)  # type: ignore[call-arg]


@dataclass
class Workspace:
    server: LocalNotionServer
    client: NotionClient
    settings: NotionSettings
    setup: SetupResult


@pytest.fixture
async def ws(local_notion: LocalNotionServer) -> AsyncIterator[Workspace]:
    base = make_settings(local_notion)
    async with NotionClient(base) as client:
        setup = await setup_notion(client, local_notion.root_page_id, STATUS_OPTIONS)
        settings = base.model_copy(
            update={
                "tasks_data_source_id": setup.tasks_data_source_id,
                "videos_data_source_id": setup.videos_data_source_id,
            }
        )
        client.settings = settings
        yield Workspace(local_notion, client, settings, setup)


def _task_props(
    title: str, status: str = "Draft", extra: dict[str, Any] | None = None
) -> dict[str, Any]:
    return {"Name": title_value(title), "Status": {"status": {"name": status}}, **(extra or {})}


# -- client: limiter, retries, errors ---------------------------------------------------


async def test_429_and_503_are_retried_once_each_by_one_layer(
    local_notion: LocalNotionServer,
) -> None:
    settings = make_settings(local_notion)
    local_notion.knobs.inject(status=429, method="GET", path_prefix="/v1/users", retry_after=1)
    local_notion.knobs.inject(status=503, method="GET", path_prefix="/v1/users", times=2)
    async with NotionClient(settings) as client:
        started = time.monotonic()
        body = await client.request("GET", "/v1/users/me")
        elapsed = time.monotonic() - started
    assert body["object"] == "user"
    # 1 x 429 + 2 x 503 + 1 success: exactly four HTTP requests, so notion-client
    # did not retry on its own underneath ours.
    assert local_notion.request_log.count(path_prefix="/v1/users") == 4
    assert client.stats.requests == 4
    assert client.stats.rate_limited == 1
    assert client.stats.server_errors == 2
    assert elapsed >= 1.0  # Retry-After: 1 was honoured


async def test_permanent_400_is_not_retried(local_notion: LocalNotionServer) -> None:
    settings = make_settings(local_notion)
    local_notion.knobs.inject(status=400, code="validation_error", message="bad body")
    async with NotionClient(settings) as client:
        with pytest.raises(NotionPermanentError) as info:
            await client.request("GET", "users/me")
    assert info.value.status == 400
    assert info.value.code == "validation_error"
    assert "bad body" in str(info.value)
    assert local_notion.request_log.count() == 1


async def test_retries_are_bounded(local_notion: LocalNotionServer) -> None:
    settings = make_settings(local_notion, max_retries=2)
    local_notion.knobs.inject(status=502, times=None)
    async with NotionClient(settings) as client:
        with pytest.raises(NotionTransientError):
            await client.request("GET", "users/me")
    assert local_notion.request_log.count() == 3


async def test_limiter_paces_requests(local_notion: LocalNotionServer) -> None:
    settings = make_settings(local_notion, requests_per_second=10.0)
    async with NotionClient(settings) as client:
        started = time.monotonic()
        for _ in range(25):
            await client.request("GET", "users/me")
        elapsed = time.monotonic() - started
    # Bucket of 10 then 10/s: 25 requests need >= ~1.5 s.
    assert elapsed >= 1.3


async def test_errors_never_contain_the_token(local_notion: LocalNotionServer) -> None:
    secret = "ntn_supersecret_token_value"
    with LocalNotionServer(token="the-right-one") as server:
        server.knobs.disable_rate_limit()
        settings = make_settings(server, token=SecretStr(secret))
        async with NotionClient(settings) as client:
            with pytest.raises(NotionPermanentError) as info:
                await client.request("GET", "users/me")
        assert info.value.status == 401
        assert secret not in str(info.value)
        assert secret not in repr(settings)
    # A server that echoes the header back must not leak it either.
    local_notion.knobs.inject(status=500, times=None, message=f"bad auth Bearer {secret}")
    async with NotionClient(make_settings(local_notion, token=SecretStr(secret))) as client:
        with pytest.raises(NotionTransientError) as info2:
            await client.request("GET", "users/me")
    assert secret not in str(info2.value)
    assert "***" in str(info2.value)


async def test_connection_refused_is_transient() -> None:
    server = LocalNotionServer()
    settings = make_settings(server, max_retries=1)  # never started: nothing listens
    settings = settings.model_copy(update={"base_url": "http://127.0.0.1:9"})
    async with NotionClient(settings) as client:
        with pytest.raises(NotionTransientError) as info:
            await client.request("GET", "users/me")
    assert info.value.code == "connection_error"


# -- setup and schema ---------------------------------------------------------------


async def test_setup_creates_full_schema_and_is_idempotent(ws: Workspace) -> None:
    report = await ensure_schema(
        ws.client, ws.settings, status_labels=[o.name for o in STATUS_OPTIONS]
    )
    assert report.status_type == "status"
    status = report.tasks_properties["Status"]["status"]
    names = [o["name"] for o in status["options"]]
    assert names == [o.name for o in STATUS_OPTIONS]
    by_id = {o["id"]: o["name"] for o in status["options"]}
    groups = {g["name"]: [by_id[i] for i in g["option_ids"]] for g in status["groups"]}
    assert groups == {
        "To-do": ["Draft", "Queued"],
        "In progress": ["Planning", "Storyboard Ready"],
        "Complete": ["Done", "Failed"],
    }
    assert report.tasks_properties["Cost"]["number"]["format"] == "dollar"
    videos_rel = report.tasks_properties["Videos"]["relation"]
    assert videos_rel["data_source_id"] == ws.setup.videos_data_source_id
    assert report.videos_properties["Task"]["relation"]["type"] == "dual_property"

    dbs_before = len(ws.server.state.databases)
    again = await setup_notion(ws.client, ws.server.root_page_id, STATUS_OPTIONS)
    assert again.created == ()
    assert again.tasks_data_source_id == ws.setup.tasks_data_source_id
    assert again.videos_data_source_id == ws.setup.videos_data_source_id
    assert len(ws.server.state.databases) == dbs_before


async def test_setup_again_adds_a_property_a_newer_version_needs(ws: Workspace) -> None:
    # A workspace set up before the Videos table had its Generated column.
    videos = ws.setup.videos_data_source_id
    await ws.client.update_data_source(videos, {"properties": {"Generated": None}})
    report = await check_schema(ws.client, ws.settings)
    assert report.problems == [
        'Videos: property "Generated" is missing — add a Date property named "Generated" '
        "(or run `reelgate setup-notion` again, which adds it)"
    ]
    again = await setup_notion(ws.client, ws.server.root_page_id, STATUS_OPTIONS)
    assert again.created == ('Videos property "Generated"',)
    report = await check_schema(ws.client, ws.settings)
    assert report.problems == []
    assert report.videos_properties["Generated"]["type"] == "date"


async def test_schema_check_lists_every_problem_in_one_message(
    local_notion: LocalNotionServer,
) -> None:
    admin = local_notion.admin
    _, tasks_ds = admin.create_database(
        "Tasks",
        {
            "Name": {"title": {}},
            "Status": {"select": {"options": [{"name": "Draft"}]}},
            "Clips": {"rich_text": {}},  # wrong type
        },
    )
    _, videos_ds = admin.create_database("Videos", {"Name": {"title": {}}})
    settings = make_settings(
        local_notion, tasks_data_source_id=tasks_ds, videos_data_source_id=videos_ds
    )
    async with NotionClient(settings) as client:
        report = await check_schema(client, settings)
        with pytest.raises(NotionPermanentError) as info:
            await ensure_schema(client, settings)
    assert report.status_type == "select"  # a select Status column is accepted
    message = str(info.value)
    assert (
        'Tasks: property "Clip Seconds" is missing — add a Number property named "Clip Seconds"'
        in message
    )
    assert 'Tasks: property "Clips" is a Text property but must be Number' in message
    assert 'Videos: property "Reviewer Note" is missing' in message
    # Every missing property of both data sources, in one message.
    assert len(report.problems) == 15 + 16
    assert message.count("\n- ") == len(report.problems)


async def test_renamed_properties_via_settings(local_notion: LocalNotionServer) -> None:
    base = make_settings(
        local_notion, property_names={"status": "Stage", "error_log": "Review Notes"}
    )
    async with NotionClient(base) as client:
        setup = await setup_notion(client, local_notion.root_page_id, STATUS_OPTIONS)
        settings = base.model_copy(
            update={
                "tasks_data_source_id": setup.tasks_data_source_id,
                "videos_data_source_id": setup.videos_data_source_id,
            }
        )
        await ensure_schema(client, settings)
        page = local_notion.admin.create_page(
            setup.tasks_data_source_id, {"Name": title_value("x")}
        )
        await NotionWriter(client, settings).execute(
            SetTaskStatus(page_id=page["id"], status_label="Queued")
        )
    assert local_notion.admin.page(page["id"])["properties"]["Stage"]["status"]["name"] == "Queued"


# -- mapping round trip --------------------------------------------------------------


async def test_every_property_type_round_trips(ws: Workspace) -> None:
    writer = NotionWriter(ws.client, ws.settings)
    owner = ws.server.admin.user_id("Rita Reviewer")
    page = ws.server.admin.create_page(ws.settings.tasks_data_source_id, _task_props("T"))
    long_brief = "brief " * 900  # 5400 chars: three rich text items
    await writer.execute(
        UpdateTask(
            page_id=page["id"],
            fields={
                "title": "Launch video",
                "status": "Queued",
                "channel": "shorts",
                "brief": long_brief,
                "clip_count": 20,
                "clip_seconds": 8,
                "aspect_ratio": "9:16",
                "owner": [owner],
                "progress": "3/20 clips",
                "estimated_cost": 12.5,
                "cost": 1.25,
                "review_started": "2026-01-02T10:00:00+00:00",
                "final_video": [{"name": "final.mp4", "url": "https://cdn.test/final.mp4"}],
            },
        )
    )
    raw = await ws.client.retrieve_page(page["id"])
    brief_items = raw["properties"]["Brief"]["rich_text"]
    assert len(brief_items) == 3
    assert all(len(i["text"]["content"]) <= 2000 for i in brief_items)
    from notion_sync.mapping import read_property, task_from_page

    task = task_from_page(raw, property_names("tasks", ws.settings))
    assert task.title == "Launch video"
    assert task.status_label == "Queued"
    assert task.channel == "shorts"
    assert task.brief == long_brief
    assert (task.clip_count, task.clip_seconds, task.aspect_ratio) == (20, 8.0, "9:16")
    assert task.owner_ids == (owner,)
    props = raw["properties"]
    assert read_property(props["Cost"]) == 1.25
    assert read_property(props["Review Started"]).startswith("2026-01-02")
    assert read_property(props["Final Video"])[0].url == "https://cdn.test/final.mp4"
    assert read_property(props["Progress"]) == "3/20 clips"


async def test_select_status_column_is_read_and_written(local_notion: LocalNotionServer) -> None:
    from tests.fixtures.notion import sample_schema

    _, ds = local_notion.admin.create_database("T", sample_schema(status_as_select=True))
    settings = make_settings(local_notion, tasks_data_source_id=ds)
    page = local_notion.admin.create_page(ds, {"Name": title_value("x")})
    async with NotionClient(settings) as client:
        writer = NotionWriter(client, settings)
        await writer.execute(SetTaskStatus(page_id=page["id"], status_label="Queued"))
        await writer.execute(SetTaskStatus(page_id=page["id"], status_label="Planning"))
        assert await writer.status_type() == "select"
        result = await poll_tasks(client, settings, cursor=None, fingerprints={})
    assert [t.status_label for t in result.changed] == ["Planning"]
    # The column type was read once, not per write.
    assert local_notion.request_log.count(method="GET", path_prefix="/v1/data_sources") == 1


# -- poller ------------------------------------------------------------------------


async def test_idle_poll_is_one_request_and_flip_reported_once(ws: Workspace) -> None:
    clock = FixedClock(datetime(2026, 3, 1, 11, 0, 10, tzinfo=UTC))
    ws.server.state.clock = clock
    ids = ws.server.admin.seed_pages(
        ws.settings.tasks_data_source_id, 1000, lambda i: _task_props(f"Task {i}")
    )
    clock.set(datetime(2026, 3, 1, 11, 10, 5, tzinfo=UTC))
    ws.server.admin.update_page(ids[7], {"Brief": {"rich_text": rich_text("warm-up edit")}})

    clock.set(datetime(2026, 3, 1, 11, 15, 0, tzinfo=UTC))
    known: dict[str, str] = {}
    first = await poll_tasks(ws.client, ws.settings, cursor=None, fingerprints=known)
    assert len(first.changed) == 1000
    assert first.requests_made == 10
    known.update(first.fingerprints)
    cursor = first.new_cursor
    assert cursor == datetime(2026, 3, 1, 11, 10, tzinfo=UTC)

    # Idle: the window (cursor - 1 min) holds one page; one request for 1,000 tasks.
    clock.set(datetime(2026, 3, 1, 11, 16, 0, tzinfo=UTC))
    before = ws.server.request_log.count()
    idle = await poll_tasks(ws.client, ws.settings, cursor=cursor, fingerprints=known)
    assert (idle.changed, idle.requests_made) == ([], 1)
    assert ws.server.request_log.count() - before == 1

    clock.set(datetime(2026, 3, 1, 11, 30, 10, tzinfo=UTC))
    ws.server.admin.update_page(ids[500], {"Status": {"status": {"name": "Queued"}}})

    reported: list[TaskPage] = []
    for moment in (
        datetime(2026, 3, 1, 11, 30, 20, tzinfo=UTC),
        datetime(2026, 3, 1, 11, 30, 50, tzinfo=UTC),
        datetime(2026, 3, 1, 11, 31, 30, tzinfo=UTC),
    ):
        clock.set(moment)
        before = ws.server.request_log.count()
        result = await poll_tasks(ws.client, ws.settings, cursor=cursor, fingerprints=known)
        assert result.requests_made == 1
        assert ws.server.request_log.count() - before == 1
        reported.extend(result.changed)
        known.update(result.fingerprints)
        cursor = result.new_cursor
    assert [(t.page_id, t.status_label) for t in reported] == [(ids[500], "Queued")]
    assert reported[0].last_edited_by == ws.server.admin.user_id("Rita Reviewer")


async def test_poll_paginates_over_250_changed_pages(ws: Workspace) -> None:
    clock = FixedClock(datetime(2026, 3, 1, 9, 0, 0, tzinfo=UTC))
    ws.server.state.clock = clock
    ws.server.admin.seed_pages(
        ws.settings.tasks_data_source_id, 10, lambda i: _task_props(f"Old {i}")
    )
    clock.set(datetime(2026, 3, 1, 10, 0, 0, tzinfo=UTC))
    new = ws.server.admin.seed_pages(
        ws.settings.tasks_data_source_id, 260, lambda i: _task_props(f"New {i}")
    )
    result = await poll_tasks(
        ws.client,
        ws.settings,
        cursor=datetime(2026, 3, 1, 9, 30, tzinfo=UTC),
        fingerprints={},
    )
    assert {t.page_id for t in result.changed} == set(new)
    assert result.requests_made == 3
    assert result.new_cursor == datetime(2026, 3, 1, 10, 0, tzinfo=UTC)


async def test_long_error_log_is_read_whole(ws: Workspace) -> None:
    text = "".join(f"line {i}: {'x' * 40}\n" for i in range(1500))  # ~70k chars
    page = ws.server.admin.create_page(ws.settings.tasks_data_source_id, _task_props("T"))
    await NotionWriter(ws.client, ws.settings).execute(
        UpdateTask(page_id=page["id"], fields={"error_log": text})
    )
    result = await poll_tasks(ws.client, ws.settings, cursor=None, fingerprints={})
    (task,) = result.changed
    assert task.error_log == text


async def test_video_review_poll(ws: Workspace) -> None:
    writer = NotionWriter(ws.client, ws.settings)
    task = ws.server.admin.create_page(ws.settings.tasks_data_source_id, _task_props("T"))
    rows = []
    for n in (1, 2, 3):
        res = await writer.execute(
            UpsertVideoRow(task_page_id=task["id"], clip_number=n, fields={"status": "Ready"})
        )
        rows.append(res.created_row_id)
    first = await poll_videos(ws.client, ws.settings, cursor=None, fingerprints={})
    assert first.changed == []
    assert len(first.fingerprints) == 3
    known = dict(first.fingerprints)
    ws.server.admin.update_page(str(rows[1]), {"Status": {"select": {"name": "Regenerate"}}})
    ws.server.admin.update_page(str(rows[2]), {"Reviewer Note": {"rich_text": rich_text("dark")}})
    second = await poll_videos(ws.client, ws.settings, cursor=first.new_cursor, fingerprints=known)
    assert {(r.row_id, r.status, r.reviewer_note) for r in second.changed} == {
        (rows[1], "Regenerate", ""),
        (rows[2], "Ready", "dark"),
    }
    assert {r.clip_number for r in second.changed} == {2, 3}
    known.update(second.fingerprints)
    third = await poll_videos(ws.client, ws.settings, cursor=second.new_cursor, fingerprints=known)
    assert third.changed == []


# -- writer ------------------------------------------------------------------------


async def test_daemon_lines_go_to_a_toggle_and_never_touch_error_log(ws: Workspace) -> None:
    human = "Regenerate: clips 5, 12\n12: too dark"
    page = ws.server.admin.create_page(
        ws.settings.tasks_data_source_id,
        _task_props("T", extra={"Error Log": {"rich_text": rich_text(human)}}),
    )
    writer = NotionWriter(ws.client, ws.settings)
    # An op queued by an older version, and the current one.
    await writer.execute(AppendErrorLog(page_id=page["id"], lines=["round 1 queued"]))
    await writer.execute(
        AppendToToggle(
            page_id=page["id"],
            title=DAEMON_LOG_TOGGLE,
            lines=[[TextPart(text="a")], [TextPart(text="b")]],
        )
    )
    raw = ws.server.admin.page(page["id"])["properties"]["Error Log"]["rich_text"]
    assert "".join(i["plain_text"] for i in raw) == human
    toggles = [b for b in ws.server.admin.blocks(page["id"]) if b["type"] == "toggle"]
    assert len(toggles) == 1  # found again, not made twice
    assert toggle_lines(ws.server, page["id"], DAEMON_LOG_TOGGLE) == ["round 1 queued", "a", "b"]


async def test_toggle_lines_mention_people_and_a_deleted_toggle_is_made_again(
    ws: Workspace,
) -> None:
    page = ws.server.admin.create_page(ws.settings.tasks_data_source_id, _task_props("T"))
    writer = NotionWriter(ws.client, ws.settings)
    rita = ws.server.state.reviewer_id
    line = [TextPart(text="Video review, round 1: Approved by "), TextPart(user_id=rita)]
    await writer.execute(AppendToToggle(page_id=page["id"], title="Review history", lines=[line]))
    assert toggle_lines(ws.server, page["id"], "Review history") == [
        "Video review, round 1: Approved by @Rita Reviewer"
    ]
    # Someone deletes the toggle; the writer's remembered id now fails: it makes a new one.
    (toggle,) = [b for b in ws.server.admin.blocks(page["id"]) if b["type"] == "toggle"]
    await ws.client.request("DELETE", f"blocks/{toggle['id']}")
    await writer.execute(
        AppendToToggle(page_id=page["id"], title="Review history", lines=[[TextPart(text="x")]])
    )
    assert toggle_lines(ws.server, page["id"], "Review history") == ["x"]
    # An empty op only makes sure the toggle is there.
    other = ws.server.admin.create_page(ws.settings.tasks_data_source_id, _task_props("U"))
    await writer.execute(AppendToToggle(page_id=other["id"], title="Review history"))
    assert [b["type"] for b in ws.server.admin.blocks(other["id"])] == ["toggle"]
    assert toggle_lines(ws.server, other["id"], "Review history") == []


async def test_upsert_video_row_creates_then_updates_in_place(ws: Workspace) -> None:
    writer = NotionWriter(ws.client, ws.settings)
    task = ws.server.admin.create_page(ws.settings.tasks_data_source_id, _task_props("T"))
    created = await writer.execute(
        UpsertVideoRow(
            task_page_id=task["id"],
            clip_number=5,
            fields={
                "status": "Generating",
                "prompt": "a cat",
                "attempt": 1,
                "start_keyframe": [{"name": "k5.png", "url": "https://cdn.test/k5.png"}],
            },
        )
    )
    assert created.created_row_id
    updated = await writer.execute(
        UpsertVideoRow(
            task_page_id=task["id"],
            clip_number=5,
            row_page_id=created.created_row_id,
            fields={
                "status": "Ready",
                "video_url": "https://cdn.test/c5.mp4",
                "duration": 8.0,
                "cost": 0.5,
            },
        )
    )
    assert updated.created_row_id is None
    assert updated.row_id == created.created_row_id
    # Lost-id retry: a create for the same clip finds the row instead of duplicating it.
    again = await writer.execute(
        UpsertVideoRow(task_page_id=task["id"], clip_number=5, fields={"attempt": 2})
    )
    assert again.created_row_id is None
    assert again.row_id == created.created_row_id
    rows = ws.server.admin.pages(ws.settings.videos_data_source_id)
    assert len(rows) == 1
    props = rows[0]["properties"]
    assert props["Name"]["title"][0]["plain_text"] == "Clip 05"
    assert props["Status"]["select"]["name"] == "Ready"
    assert props["Task"]["relation"] == [{"id": task["id"]}]
    assert props["Attempt"]["number"] == 2
    assert props["Prompt"]["rich_text"][0]["plain_text"] == "a cat"


async def test_append_blocks_in_chunks_of_100(ws: Workspace) -> None:
    page = ws.server.admin.create_page(ws.settings.tasks_data_source_id, _task_props("T"))
    blocks = [BlockSpec(kind="heading_2", text="Storyboard"), BlockSpec(kind="divider")]
    blocks += [BlockSpec(kind="paragraph", text=f"shot {i}") for i in range(200)]
    blocks += [
        BlockSpec(kind="callout", text="review below"),
        BlockSpec(kind="image", file=FileRef(name="k.png", url="https://cdn.test/k.png")),
        BlockSpec(
            kind="video", text="clip 1", file=FileRef(name="c.mp4", url="https://cdn.test/c.mp4")
        ),
        BlockSpec(kind="heading_3", text="end"),
    ]
    before = ws.server.request_log.count(method="PATCH", path_prefix="/v1/blocks")
    result = await NotionWriter(ws.client, ws.settings).execute(
        AppendBlocks(page_id=page["id"], blocks=blocks)
    )
    assert ws.server.request_log.count(method="PATCH", path_prefix="/v1/blocks") - before == 3
    assert result.requests == 3
    got = ws.server.admin.blocks(page["id"])
    assert len(got) == 206
    assert [b["type"] for b in got[:3]] == ["heading_2", "divider", "paragraph"]
    assert got[-3]["image"]["external"]["url"] == "https://cdn.test/k.png"
    assert got[-2]["video"]["caption"][0]["plain_text"] == "clip 1"


async def test_comment_mentions_then_text(ws: Workspace) -> None:
    page = ws.server.admin.create_page(ws.settings.tasks_data_source_id, _task_props("T"))
    rita = ws.server.admin.user_id("Rita Reviewer")
    text = "Status moved back: Done is not allowed from Queued. " + "z" * 2500
    await NotionWriter(ws.client, ws.settings).execute(
        Comment(page_id=page["id"], text=text, mention_user_ids=[rita])
    )
    (comment,) = ws.server.admin.comments(page["id"])
    items = comment["rich_text"]
    assert items[0]["type"] == "mention"
    assert items[0]["mention"]["user"]["id"] == rita
    assert "".join(i["plain_text"] for i in items[2:]) == text
    assert all(len(i.get("text", {}).get("content", "")) <= 2000 for i in items)


async def test_set_status_on_status_column(ws: Workspace) -> None:
    page = ws.server.admin.create_page(ws.settings.tasks_data_source_id, _task_props("T"))
    writer = NotionWriter(ws.client, ws.settings)
    await writer.execute(SetTaskStatus(page_id=page["id"], status_label="Storyboard Ready"))
    got = ws.server.admin.page(page["id"])["properties"]["Status"]["status"]["name"]
    assert got == "Storyboard Ready"
    with pytest.raises(NotionPermanentError):
        await writer.execute(SetTaskStatus(page_id=page["id"], status_label="No Such Label"))
