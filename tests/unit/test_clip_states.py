"""The clip, keyframe and narration tables themselves (no database), and what names them."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Any

import pytest

from orchestrator.metrics import CLIP_OUTCOMES
from orchestrator.pipeline.notion_out import CLIP_ROW_STATUS
from orchestrator.pipeline.stages import STAGE_MODULES, next_stage, stage_for
from orchestrator.state import (
    CLIP_TRANSITIONS,
    FINISHED,
    IN_FLIGHT,
    KEYFRAME_TRANSITIONS,
    NARRATION_TRANSITIONS,
    STAGES,
    USABLE,
    ClipStatus,
    KeyframeStatus,
    NarrationStatus,
    Status,
)
from orchestrator.state.labels import render_labels
from tests.fixtures.labels import InstallLabels

Table = Mapping[tuple[Any, Any], str]
TABLES: list[tuple[type[enum.StrEnum], Table]] = [
    (ClipStatus, CLIP_TRANSITIONS),
    (KeyframeStatus, KEYFRAME_TRANSITIONS),
    (NarrationStatus, NARRATION_TRANSITIONS),
]


def _reachable(table: Table, start: enum.StrEnum) -> set[enum.StrEnum]:
    seen = {start}
    frontier = [start]
    while frontier:
        current = frontier.pop()
        for source, target in table:
            if source == current and target not in seen:
                seen.add(target)
                frontier.append(target)
    return seen


@pytest.mark.parametrize(("enum_type", "table"), TABLES)
def test_every_status_is_reachable_from_planned_and_has_a_way_out(
    enum_type: type[enum.StrEnum], table: Table
) -> None:
    statuses = set(enum_type)
    assert _reachable(table, enum_type("planned")) == statuses
    for status in statuses:
        # No dead end: a review or a re-plan can always start a row over.
        assert any(source == status for source, _ in table), status
        assert _reachable(table, status) >= {enum_type("planned")}, status


@pytest.mark.parametrize(("enum_type", "table"), TABLES)
def test_edges_join_known_statuses_and_say_why(enum_type: type[enum.StrEnum], table: Table) -> None:
    for (source, target), why in table.items():
        assert isinstance(source, enum_type)
        assert isinstance(target, enum_type)
        assert source != target  # "already there" is not a move
        assert why.strip()


def test_money_moves_only_through_submitting() -> None:
    c = ClipStatus
    into = {status: {s for s, t in CLIP_TRANSITIONS if t == status} for status in c}
    # The paid create call is preceded by `submitting`, and only a clip that needs
    # a video (new, rejected, or its keyframe changed) gets there.
    assert into[c.SUBMITTING] == {c.PLANNED, c.REJECTED, c.COMPLETE, c.APPROVED}
    assert into[c.POLLING] == {c.SUBMITTING}
    assert into[c.COMPLETE] == {c.POLLING}
    # Lost: mid-call (crash, unknown answer) or finished with neither video nor reason.
    assert into[c.LOST] == {c.SUBMITTING, c.POLLING}
    assert into[c.APPROVED] == {c.COMPLETE}
    # An operation in flight is never rejected or re-planned from under the poller:
    # it leaves only with the outcome of its call.
    out_of_polling = {t for s, t in CLIP_TRANSITIONS if s == c.POLLING}
    assert out_of_polling == {
        c.COMPLETE,
        c.PLANNED,
        c.RAI_FILTERED,
        c.TIMED_OUT,
        c.FAILED,
        c.LOST,
    }
    out_of_submitting = {t for s, t in CLIP_TRANSITIONS if s == c.SUBMITTING}
    # rai_filtered: the create's input was refused by the safety filter.
    assert out_of_submitting == {c.POLLING, c.PLANNED, c.FAILED, c.LOST, c.RAI_FILTERED}


def test_a_review_names_only_finished_clips() -> None:
    rejectable = {s for s, t in CLIP_TRANSITIONS if t == ClipStatus.REJECTED}
    assert rejectable == set(FINISHED)
    assert not rejectable & set(IN_FLIGHT)


def test_clip_groups() -> None:
    assert set(USABLE) < set(FINISHED)
    assert not set(IN_FLIGHT) & set(FINISHED)
    # Every outcome the metrics count is a clip status.
    assert {ClipStatus(o) for o in CLIP_OUTCOMES} <= set(FINISHED)


def test_every_clip_status_has_a_videos_row_label() -> None:
    assert set(CLIP_ROW_STATUS) == set(ClipStatus)


def test_stage_modules_follow_the_status_machine(status_labels: InstallLabels) -> None:
    assert [m.STAGE for m in STAGE_MODULES] == list(STAGES)
    for module in STAGE_MODULES:
        stage = module.STAGE
        for status in (stage.working, stage.ready, stage.approved, stage.error):
            assert stage_for(status) is module
        # The gate hint names the moves the reviewer has at that gate, in the board's
        # labels when the comment is made.
        assert stage.approved.label in render_labels(module.GATE_HINT)
        assert stage.error.label in render_labels(module.GATE_HINT)
    status_labels({"video_approved": "Clips OK", "video_error": "Redo Clips"})
    video = stage_for(Status.VIDEO_READY)
    hint = render_labels(video.GATE_HINT)
    assert "Set Status to Clips OK, or to Redo Clips" in hint
    assert "Video Approved" not in hint
    assert next_stage(STAGE_MODULES[-1]) is None
    assert [next_stage(m) for m in STAGE_MODULES[:-1]] == list(STAGE_MODULES[1:])
