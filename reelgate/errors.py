"""The error tree: one root, a base per package.

Every error reelgate raises on purpose derives from `ReelgateError` and is either
*transient* (worth retrying with backoff) or *permanent* (stop and tell a human
why): callers branch on `.transient`, never on library exception types. Each
package catches its own failures under its base (`NotionError`, `StorageError`,
`OrchestratorError`, ...); `TransientError` / `PermanentError` are mixed in to say
what to do about them. Library errors are wrapped with `raise ... from exc`.

This module imports nothing of ours, so every package may derive from it without
breaking the dependency direction (orchestrator -> notion_sync, storage).

The whole tree. `+T` / `+P`: also derives from TransientError / PermanentError.
tests/unit/test_error_tree.py checks this drawing against the classes that exist
(names, parents and mix-ins), so it cannot go stale::

    ReelgateError                           reelgate.errors
    ├── TransientError
    ├── PermanentError
    ├── NotionError                         notion_sync.errors
    │   ├── NotionTransientError +T
    │   └── NotionPermanentError +P
    ├── ApiError                            notion_sync.local_api (the local server's answers)
    ├── StorageError                        storage.errors
    │   ├── StorageTransientError +T
    │   └── StoragePermanentError +P
    └── OrchestratorError                   orchestrator.errors
        ├── AdminError +P
        ├── ConfigError +P
        ├── DatabaseUnavailable +T
        ├── IllegalTransition +P
        ├── StaleState +T
        ├── MediaError +P
        └── ProviderError
            ├── ProviderTransientError +T
            │   └── SubmitOutcomeUnknown
            └── ProviderPermanentError +P
                └── ContentFiltered
"""

from __future__ import annotations

__all__ = ["PermanentError", "ReelgateError", "TransientError"]


class ReelgateError(Exception):
    """Root of every error reelgate raises on purpose."""

    transient: bool = False


class TransientError(ReelgateError):
    """Worth retrying later: rate limits, 5xx, timeouts, lost connections."""

    transient = True


class PermanentError(ReelgateError):
    """Retrying will not help: bad input, missing permission, unknown object."""

    transient = False
