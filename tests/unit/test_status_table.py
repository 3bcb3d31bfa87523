"""The transition table itself (no database)."""

from __future__ import annotations

import pytest

from orchestrator.state import STAGES, TRANSITIONS, Status, allowed_moves, is_allowed
from orchestrator.state.status import notion_status_options


def test_labels_round_trip() -> None:
    for status in Status:
        assert Status.from_label(status.label) is status
        assert Status.from_label(f"  {status.label.upper()} ") is status


def test_unknown_label_raises() -> None:
    with pytest.raises(KeyError):
        Status.from_label("Ready-ish")


def test_every_status_reachable_from_draft() -> None:
    seen = {Status.DRAFT}
    frontier = [Status.DRAFT]
    while frontier:
        current = frontier.pop()
        for target in allowed_moves(current):
            if target not in seen:
                seen.add(target)
                frontier.append(target)
    assert seen == set(Status)


def test_happy_path_is_allowed_with_the_right_actors() -> None:
    assert is_allowed(Status.DRAFT, Status.QUEUED, "human")
    assert not is_allowed(Status.DRAFT, Status.QUEUED, "daemon")
    for stage in STAGES:
        assert is_allowed(stage.working, stage.ready, "daemon")
        assert not is_allowed(stage.working, stage.ready, "human")
        assert is_allowed(stage.ready, stage.approved, "human")
        assert is_allowed(stage.ready, stage.approved, "daemon")  # auto-approve
        assert is_allowed(stage.ready, stage.error, "human")
        assert is_allowed(stage.error, stage.working, "daemon")


def test_iteration_routing_from_video_ready() -> None:
    human = allowed_moves(Status.VIDEO_READY, "human")
    assert Status.KEYFRAMES_ERROR in human
    assert Status.STORYBOARD_ERROR in human
    assert Status.DONE not in human


def test_terminal_statuses_have_no_way_out_but_resuming_a_cancelled_task() -> None:
    assert allowed_moves(Status.DONE) == ()
    assert allowed_moves(Status.CANCELLED) == (Status.QUEUED,)
    assert not is_allowed(Status.CANCELLED, Status.QUEUED, "daemon")
    assert is_allowed(Status.FAILED, Status.QUEUED, "human")


def test_any_non_terminal_can_be_cancelled_by_a_human() -> None:
    for status in Status:
        expected = not status.terminal
        assert is_allowed(status, Status.CANCELLED, "human") is expected


def test_notion_options_in_pipeline_order_and_grouped() -> None:
    options = notion_status_options()
    assert [o[0] for o in options] == [s.label for s in Status]
    groups = {label: group for label, _, group in options}
    assert groups["Draft"] == "To-do"
    assert groups["Video Ready"] == "In progress"
    assert groups["Done"] == "Complete"
    assert len(TRANSITIONS) > 60


def test_reviews_never_bounce_and_may_route_upstream() -> None:
    for i, stage in enumerate(STAGES):
        # A reviewer may withdraw an error, or say "go ahead with my notes".
        assert is_allowed(stage.error, stage.ready, "human")
        assert is_allowed(stage.error, Status.QUEUED, "human")
        assert is_allowed(Status.QUEUED, stage.error, "daemon")
        assert not is_allowed(Status.QUEUED, stage.error, "human")
        # Issue classes send the work to an earlier stage, never a later one.
        for j, other in enumerate(STAGES):
            assert is_allowed(stage.error, other.working, "daemon") is (j <= i)
