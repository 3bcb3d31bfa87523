"""Wake the outbox drainer of this process when a commit queued a Notion write.

The drainer backs off while the outbox is empty (an idle daemon makes one query every
few seconds, not three a second). A write queued in this process must not wait out
that back-off: `enqueue` marks its session, and when that session commits, every
callback registered with `on_outbox_commit` runs (the drainer's wake-up event). A
rollback drops the mark. Writes queued by another replica are found by the leader's
next look, at most REELGATE_OUTBOX_IDLE_MAX_SECONDS later.

SQLAlchemy's `after_commit` fires on the synchronous Session inside an AsyncSession,
in the event loop's thread, so a callback may set an asyncio.Event.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

__all__ = ["mark_outbox_write", "on_outbox_commit"]

_MARK = "reelgate_outbox_write"
_callbacks: list[Callable[[], None]] = []


def mark_outbox_write(session: AsyncSession | Session) -> None:
    """Note that `session` queued an outbox write: its commit wakes the drainers."""
    session.info[_MARK] = True


def on_outbox_commit(callback: Callable[[], None]) -> Callable[[], None]:
    """Call `callback` after each commit that queued an outbox write; returns the
    function that unregisters it (a daemon's drainer registers while it runs)."""
    _callbacks.append(callback)

    def unregister() -> None:
        if callback in _callbacks:
            _callbacks.remove(callback)

    return unregister


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    if session.info.pop(_MARK, False):
        for callback in list(_callbacks):
            callback()


@event.listens_for(Session, "after_rollback")
def _after_rollback(session: Session) -> None:
    session.info.pop(_MARK, None)
