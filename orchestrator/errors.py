"""Errors of the orchestrator (state, pipeline, providers, media).

The root classes live in `reelgate.errors` (its docstring draws the whole tree);
they are re-exported here for the orchestrator's modules.
"""

from __future__ import annotations

from reelgate.errors import PermanentError, ReelgateError, TransientError

__all__ = [
    "AdminError",
    "ConfigError",
    "ContentFiltered",
    "DatabaseUnavailable",
    "IllegalTransition",
    "MediaError",
    "OrchestratorError",
    "PermanentError",
    "ProviderError",
    "ProviderPermanentError",
    "ProviderTransientError",
    "ReelgateError",
    "StaleState",
    "SubmitOutcomeUnknown",
    "TransientError",
]


class OrchestratorError(ReelgateError):
    """Base for the orchestrator package."""


class AdminError(OrchestratorError, PermanentError):
    """An admin command (`reelgate retry`, `dead-letters --replay`, ...) refused or
    found nothing to act on; the message says why and what is allowed instead."""


class ConfigError(OrchestratorError, PermanentError):
    """Settings or channels file is invalid; the message names the field or line."""


class DatabaseUnavailable(OrchestratorError, TransientError):
    """The database cannot be reached (refused, unknown host, bad credentials, a
    SQLite file that cannot be opened); the message names it, password masked."""


class IllegalTransition(OrchestratorError, PermanentError):
    """A status move the transition table does not allow."""

    def __init__(self, message: str, *, allowed: tuple[str, ...] = ()):
        super().__init__(message)
        self.allowed = allowed


class StaleState(OrchestratorError, TransientError):
    """A guarded update found the row in another state: someone else moved first."""


class MediaError(OrchestratorError, PermanentError):
    """ffmpeg / probing failed on a file."""


class ProviderError(OrchestratorError):
    """Base for generation provider failures."""


class ProviderTransientError(ProviderError, TransientError):
    """429, 5xx, deadline exceeded: may be retried (never for paid create calls)."""


class ProviderPermanentError(ProviderError, PermanentError):
    """Invalid request, permission denied, unparseable model output."""

    def __init__(self, message: str, *, detail: str | None = None):
        super().__init__(message)
        self.detail = detail


class SubmitOutcomeUnknown(ProviderTransientError):
    """A paid create call may or may not have reached the provider (timeout, drop).

    An operation may exist and may be billed, but its name never came back. Do not
    resubmit automatically: the lost-submission policy (a human, or a reconciliation
    step) decides, exactly as after a crash between submit and save.
    """


class ContentFiltered(ProviderPermanentError):
    """The provider's safety filter blocked a request or its output; nothing billed.

    Raised for input-side blocks (a prompt or image refused before any work) and for
    synchronous outputs withheld by the filter (IMAGE_SAFETY, promptFeedback). The
    pipeline treats it like a filtered clip: the reason goes to the Error Log, $0 is
    recorded, and the prompt is softened within the same bound as output filtering.
    """

    def __init__(self, message: str, *, reasons: tuple[str, ...], model: str):
        super().__init__(message)
        self.reasons = reasons
        self.model = model
