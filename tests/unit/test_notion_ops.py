"""notion_sync.ops: the merge rules the outbox drainer sends by."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from notion_sync.ops import (
    MAX_CHILDREN_PER_APPEND,
    AppendBlocks,
    AppendErrorLog,
    AppendToToggle,
    BlockSpec,
    Comment,
    NotionOp,
    SetTaskStatus,
    TextPart,
    UpdateTask,
    UpsertVideoRow,
    coalesce,
    merge,
    merge_key,
    page_of,
)


def test_property_updates_of_one_page_and_one_row_merge_later_values_winning() -> None:
    ops: list[NotionOp] = [
        UpdateTask(page_id="A", fields={"progress": 1, "cost": 0.5}),
        UpsertVideoRow(task_page_id="A", clip_number=2, fields={"status": "Rendering"}),
        Comment(page_id="A", text="hello"),
        UpdateTask(page_id="B", fields={"progress": 9}),
        UpdateTask(page_id="A", fields={"progress": 2}),
        UpsertVideoRow(
            task_page_id="A", clip_number=2, row_page_id="row-2", fields={"status": "Ready"}
        ),
        UpsertVideoRow(task_page_id="A", clip_number=3, fields={"status": "Ready"}),
    ]
    merged = coalesce(ops)
    assert [(m.op.kind, m.sources) for m in merged] == [
        ("update_task", (0, 4)),
        ("upsert_video_row", (1, 5)),
        ("comment", (2,)),
        ("update_task", (3,)),
        ("upsert_video_row", (6,)),
    ]
    first = merged[0].op
    assert isinstance(first, UpdateTask)
    assert first.fields == {"progress": 2, "cost": 0.5}
    row = merged[1].op
    assert isinstance(row, UpsertVideoRow)
    assert row.fields == {"status": "Ready"}
    assert row.row_page_id == "row-2"  # learnt from a later op


def test_a_known_row_id_is_kept_over_a_later_one() -> None:
    a = UpsertVideoRow(task_page_id="A", clip_number=1, row_page_id="first", fields={})
    b = UpsertVideoRow(task_page_id="A", clip_number=1, row_page_id="second", fields={"x": 1})
    merged = merge(a, b)
    assert isinstance(merged, UpsertVideoRow)
    assert merged.row_page_id == "first"


def test_status_writes_and_comments_never_merge() -> None:
    ops: list[NotionOp] = [
        SetTaskStatus(page_id="A", status_label="Planning"),
        SetTaskStatus(page_id="A", status_label="Storyboard Ready"),
        Comment(page_id="A", text="one"),
        Comment(page_id="A", text="two"),
    ]
    assert [m.op for m in coalesce(ops)] == ops
    assert all(merge_key(op) is None for op in ops)
    with pytest.raises(ValueError, match="cannot merge"):
        merge(ops[0], ops[1])
    with pytest.raises(ValueError, match="cannot merge"):
        merge(UpdateTask(page_id="A", fields={}), UpdateTask(page_id="B", fields={}))


def test_appends_of_one_toggle_merge_in_order_into_one_request() -> None:
    ops: list[NotionOp] = [
        AppendErrorLog(page_id="A", lines=["x"]),
        SetTaskStatus(page_id="A", status_label="Planning"),
        AppendToToggle(page_id="A", title="reelgate log", lines=[[TextPart(text="z")]]),
        AppendToToggle(page_id="A", title="Review history", lines=[[TextPart(text="h")]]),
        AppendToToggle(page_id="A", title="reelgate log", lines=[[TextPart(user_id="u")]]),
    ]
    merged = coalesce(ops)
    assert [m.sources for m in merged] == [(0, 2, 4), (1,), (3,)]
    log = merged[0].op
    assert isinstance(log, AppendToToggle)
    assert log.title == "reelgate log"
    assert log.lines == [[TextPart(text="x")], [TextPart(text="z")], [TextPart(user_id="u")]]


def test_appends_stop_merging_at_100_children() -> None:
    ops: list[NotionOp] = [
        AppendBlocks(page_id="A", blocks=[BlockSpec(kind="paragraph", text=str(i))] * 40)
        for i in range(4)
    ]
    merged = coalesce(ops)
    # 40 + 40 fit in one request; a third would make 120.
    assert [m.sources for m in merged] == [(0, 1), (2, 3)]
    assert all(
        isinstance(m.op, AppendBlocks) and len(m.op.blocks) <= MAX_CHILDREN_PER_APPEND
        for m in merged
    )


def test_page_blocks_never_jump_over_a_toggle_append_of_that_page() -> None:
    ops: list[NotionOp] = [
        AppendBlocks(page_id="A", blocks=[BlockSpec(kind="heading_2", text="one")]),
        AppendToToggle(page_id="A", title="reelgate log", lines=[[TextPart(text="z")]]),
        AppendBlocks(page_id="A", blocks=[BlockSpec(kind="heading_2", text="two")]),
        AppendBlocks(page_id="B", blocks=[BlockSpec(kind="heading_2", text="b")]),
        AppendBlocks(page_id="A", blocks=[BlockSpec(kind="heading_2", text="three")]),
    ]
    # The toggle may be created at the end of A's body: "two" stays after it.
    assert [m.sources for m in coalesce(ops)] == [(0,), (1,), (2, 4), (3,)]


_pages = st.sampled_from(["A", "B"])
_fields = st.dictionaries(st.sampled_from(["progress", "cost", "status"]), st.integers(0, 9))
_ops = st.one_of(
    st.builds(UpdateTask, page_id=_pages, fields=_fields),
    st.builds(
        UpsertVideoRow,
        task_page_id=_pages,
        clip_number=st.integers(1, 2),
        row_page_id=st.none() | st.sampled_from(["r1", "r2"]),
        fields=_fields,
    ),
    st.builds(SetTaskStatus, page_id=_pages, status_label=st.sampled_from(["Queued", "Done"])),
    st.builds(Comment, page_id=_pages, text=st.text(max_size=3)),
)


def _final_fields(ops: list[NotionOp]) -> dict[Any, dict[str, Any]]:
    """What Notion ends up showing per merge key if every op is sent one by one."""
    shown: dict[Any, dict[str, Any]] = {}
    for op in ops:
        key = merge_key(op)
        if key is not None:
            assert isinstance(op, UpdateTask | UpsertVideoRow)
            shown.setdefault(key, {}).update(op.fields)
    return shown


@given(st.lists(_ops, max_size=12))
def test_coalescing_sends_the_same_end_state_and_keeps_each_pages_order(
    ops: list[NotionOp],
) -> None:
    merged = coalesce(ops)
    # Every queued op is accounted for exactly once.
    assert sorted(i for m in merged for i in m.sources) == list(range(len(ops)))
    # Same end state for property updates; visible writes unchanged and in order.
    assert _final_fields([m.op for m in merged]) == _final_fields(ops)
    visible = [op for op in ops if merge_key(op) is None]
    assert [m.op for m in merged if merge_key(m.op) is None] == visible
    # A merged write goes where its first op was, to the same page.
    assert [m.sources[0] for m in merged] == sorted(m.sources[0] for m in merged)
    for m in merged:
        assert {page_of(ops[i]) for i in m.sources} == {page_of(m.op)}
