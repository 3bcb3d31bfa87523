"""orchestrator.daemon.drainer.plan_round: what one drain round sends, and in which order."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from orchestrator.daemon.drainer import Pending, plan_round, superseded_status_writes

NOW = datetime(2030, 1, 1, tzinfo=UTC)


def _row(i: int, page: str, kind: str = "upsert_video_row", **kw: datetime) -> Pending:
    return Pending(i, page, kind, kw.get("next_attempt_at"), kw.get("hold_until"))


def test_a_status_write_goes_right_after_its_rows_ahead_of_other_pages_backlog() -> None:
    backlog = [_row(i, "B", "append_to_toggle") for i in range(1, 41)]
    rows = [_row(100 + n, "A") for n in range(18)]
    status = _row(200, "A", "set_task_status")
    order = plan_round([*backlog, *rows, status], NOW, batch=100)
    # Page A's rows, then its status: before any of page B's 40 older writes.
    assert order[:19] == [r.id for r in rows] + [200]
    assert order[19:] == [r.id for r in backlog]


def test_a_status_write_never_goes_before_the_rows_it_announces() -> None:
    # Queued in another order: the status row has the lower id than later rows of
    # its page, which are not announced by it and stay behind it.
    status = _row(5, "A", "set_task_status")
    earlier = [_row(3, "A"), _row(4, "A", "append_blocks")]
    later = [_row(9, "A")]
    order = plan_round([*later, status, *earlier, _row(1, "B", "comment")], NOW, batch=100)
    assert order.index(3) < order.index(5)
    assert order.index(4) < order.index(5)
    assert order.index(5) < order.index(9)
    assert order[:3] == [3, 4, 5]


def test_a_status_whose_rows_do_not_fit_waits_for_the_next_round() -> None:
    rows = [_row(i, "A") for i in range(1, 31)]
    order = plan_round([*rows, _row(50, "A", "set_task_status")], NOW, batch=20)
    assert order == list(range(1, 21))
    assert 50 not in order


def test_held_writes_stay_back_until_their_hold_has_passed() -> None:
    held = _row(1, "A", hold_until=NOW + timedelta(minutes=5))
    order = plan_round([held, _row(2, "A", "comment")], NOW, batch=10)
    assert order == [2]
    assert plan_round([held], NOW + timedelta(minutes=6), batch=10) == [1]


def test_a_page_waiting_for_a_retry_sends_nothing_queued_after_it() -> None:
    failed = _row(2, "A", "update_task", next_attempt_at=NOW + timedelta(seconds=30))
    pending = [_row(1, "A"), failed, _row(3, "A", "set_task_status"), _row(4, "B")]
    assert plan_round(pending, NOW, batch=10) == [1, 4]


def test_only_the_latest_status_write_of_a_page_is_kept() -> None:
    pending = [
        _row(1, "A", "set_task_status"),
        _row(2, "A"),
        _row(3, "B", "set_task_status"),
        _row(4, "A", "set_task_status"),
        _row(5, "A", "comment"),
        _row(6, "A", "set_task_status"),
    ]
    assert superseded_status_writes(pending) == [1, 4]
    kept = [p for p in pending if p.id not in {1, 4}]
    # The latest still goes after every write of its page queued before it.
    assert plan_round(kept, NOW, batch=10) == [3, 2, 5, 6]


def test_a_single_status_write_is_never_superseded() -> None:
    assert superseded_status_writes([_row(1, "A", "set_task_status"), _row(2, "B")]) == []
