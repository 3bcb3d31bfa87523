"""Reference images: the limits, the check (from the bytes), and the download.

The pipeline's side (storing them under the task, the comment for bad ones, handing
them to the providers) is orchestrator.pipeline.references.
"""

from __future__ import annotations

from orchestrator.references.check import (
    CheckedImage,
    ReferenceProblem,
    check_image,
    describe_bytes,
    human_bytes,
    too_many,
)
from orchestrator.references.fetch import FETCH_TIMEOUT_S, ReferenceUnreachable, fetch_reference
from orchestrator.references.limits import (
    ACCEPTED_TYPES,
    DEFAULT_MAX_REFERENCES,
    MAX_REFERENCE_BYTES,
    MAX_REFERENCE_PIXELS,
    ReferenceLimits,
    limits_for,
)

__all__ = [
    "ACCEPTED_TYPES",
    "DEFAULT_MAX_REFERENCES",
    "FETCH_TIMEOUT_S",
    "MAX_REFERENCE_BYTES",
    "MAX_REFERENCE_PIXELS",
    "CheckedImage",
    "ReferenceLimits",
    "ReferenceProblem",
    "ReferenceUnreachable",
    "check_image",
    "describe_bytes",
    "fetch_reference",
    "human_bytes",
    "limits_for",
    "too_many",
]
