"""One supervisor for every loop and scheduled job of the daemon.

Two mechanisms, one supervisor (DESIGN §4):

- periodic work (the Notion poll, the URL refresh, the gauges) is an APScheduler
  interval job with ``max_instances=1, coalesce=True``; :meth:`Supervisor.job`
  wraps its function;
- worker-like loops (task workers, the outbox drainer, the operation poller) go
  round again at once while they find work and sleep between idle rounds:
  :meth:`Supervisor.loop`.

Whatever a run raises is logged with the loop's name and the exception
(``fail_loop_run``; with the traceback when it is not a ``ReelgateError``, i.e. a
bug), counted in ``reelgate_loop_failures_total{loop}``, and the loop carries on.
After ``unhealthy_after`` failed runs in a row a loop is *failing*: ``/healthz``
answers 503 and names it (a restart is the generic remedy for a wedged pool or a
leaked lock) until one of its runs succeeds again.
``reelgate_loop_consecutive_failures{loop}`` shows the current streak.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import structlog

from orchestrator.metrics import Metrics
from reelgate.errors import ReelgateError

__all__ = ["LoopState", "Supervisor", "pause"]

log = structlog.get_logger(__name__)

T = TypeVar("T")


@dataclass
class LoopState:
    """The failure streak of one loop or job."""

    consecutive_failures: int = 0
    # The exception's class only: this is served on /healthz, where no log
    # redaction applies; the message is in the fail_loop_run log line.
    last_error_type: str = ""


class Supervisor:
    """Runs loop iterations and jobs, and keeps count of the ones that fail."""

    def __init__(self, metrics: Metrics, *, unhealthy_after: int = 5) -> None:
        if unhealthy_after < 1:
            raise ValueError("unhealthy_after must be at least 1")
        self._metrics = metrics
        self.unhealthy_after = unhealthy_after
        self._loops: dict[str, LoopState] = {}

    async def run(self, name: str, body: Callable[[], Awaitable[T]]) -> T | None:
        """One supervised run of ``body``; None when it raised (logged and counted)."""
        state = self._loops.setdefault(name, LoopState())
        try:
            result = await body()
        except Exception as exc:
            self._failed(name, state, exc)
            return None
        if state.consecutive_failures:
            if state.consecutive_failures >= self.unhealthy_after:
                log.info("recover_loop", loop=name, after_failures=state.consecutive_failures)
            state.consecutive_failures = 0
            state.last_error_type = ""
            self._metrics.loop_consecutive_failures.labels(loop=name).set(0)
        return result

    def job(
        self, name: str, body: Callable[[], Awaitable[object]]
    ) -> Callable[[], Awaitable[None]]:
        """``body`` as an APScheduler job function that never raises."""

        async def supervised() -> None:
            await self.run(name, body)

        supervised.__name__ = supervised.__qualname__ = f"supervised_{name}"
        return supervised

    async def loop(
        self,
        name: str,
        body: Callable[[], Awaitable[bool]],
        *,
        every: float,
        stopping: asyncio.Event,
        on_busy: Callable[[], None] | None = None,
        wake: asyncio.Event | None = None,
        idle_max: float | None = None,
        settle_on_wake: float = 0.0,
    ) -> None:
        """Run ``body`` until ``stopping`` is set: again at once while it returns True
        (it found work), after ``every`` seconds when it returns False or raised.

        With ``idle_max``, each idle round in a row doubles the pause up to it; ``wake``
        (set when work may have appeared) ends a pause at once and starts over. With
        ``settle_on_wake`` the round after a wake-up waits that many seconds first, so
        work arriving in a quick series is taken in one round (the outbox drainer:
        a page's earlier status writes are superseded rather than each sent).
        """
        idle = every
        while not stopping.is_set():
            busy = await self.run(name, body)
            if busy:
                idle = every
                if on_busy is not None:
                    on_busy()
                continue
            if await pause(idle, stopping, wake):
                idle = every
                if settle_on_wake > 0:
                    await pause(settle_on_wake, stopping)
            elif idle_max is not None:
                idle = min(idle_max, idle * 2)

    def failing(self) -> dict[str, dict[str, Any]]:
        """Loops that failed ``unhealthy_after`` times in a row, with their last error's type."""
        return {
            name: {
                "consecutive_failures": state.consecutive_failures,
                "last_error_type": state.last_error_type,
            }
            for name, state in sorted(self._loops.items())
            if state.consecutive_failures >= self.unhealthy_after
        }

    def _failed(self, name: str, state: LoopState, exc: Exception) -> None:
        state.consecutive_failures += 1
        state.last_error_type = type(exc).__name__
        self._metrics.loop_failures.labels(loop=name).inc()
        self._metrics.loop_consecutive_failures.labels(loop=name).set(state.consecutive_failures)
        context = {
            "loop": name,
            "error_type": type(exc).__name__,
            "error": str(exc),
            "consecutive_failures": state.consecutive_failures,
        }
        if isinstance(exc, ReelgateError):
            # Classified on purpose (Notion down, a bad config): the message says it all.
            log.warning("fail_loop_run", transient=exc.transient, **context)
        else:
            # Anything else is a bug: keep the traceback.
            log.error("fail_loop_run", exc_info=True, **context)
        if state.consecutive_failures == self.unhealthy_after:
            log.error("mark_loop_failing", loop=name, consecutive_failures=self.unhealthy_after)


async def pause(seconds: float, stopping: asyncio.Event, wake: asyncio.Event | None = None) -> bool:
    """Sleep `seconds` or until `stopping` or `wake` is set; True when woken (and
    `wake` is cleared)."""
    waits = [asyncio.ensure_future(stopping.wait())]
    if wake is not None:
        waits.append(asyncio.ensure_future(wake.wait()))
    try:
        await asyncio.wait(waits, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waits:
            waiter.cancel()
    if wake is not None and wake.is_set():
        # Every loop waiting at the moment of set() is released together; clearing
        # here only spares the next loop to pause an empty round.
        wake.clear()
        return True
    return False
