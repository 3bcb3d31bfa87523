"""reelgate: the root every package may import.

- `reelgate.errors`: the root of the error tree (its docstring draws the whole tree);
- `reelgate.serving`: one way to run an ASGI app under uvicorn, in a background thread
  or as a task in the running event loop.

This package sits above `orchestrator`, `notion_sync` and `storage` in the dependency
graph and imports none of them, so each may import it.
"""

from __future__ import annotations

from reelgate.errors import PermanentError, ReelgateError, TransientError

__all__ = ["PermanentError", "ReelgateError", "TransientError"]
