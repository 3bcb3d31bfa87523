"""What the pipeline asks of a generation provider: one protocol per capability.

Providers hold no database state. The pipeline records every `Charge` in the
cost ledger and persists operation names; providers only talk to their backend.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol, runtime_checkable

__all__ = [
    "Aspect",
    "Charge",
    "ClipDone",
    "ClipFailed",
    "ClipFiltered",
    "ClipOutcomeUnknown",
    "ClipPending",
    "ClipPoll",
    "ClipProvider",
    "ClipRequest",
    "Image",
    "KeyframeProvider",
    "Narration",
    "NarrationProvider",
    "ProviderSet",
    "Shot",
    "Storyboard",
    "StoryboardProvider",
]

Aspect = Literal["16:9", "9:16"]


@dataclass(frozen=True)
class Charge:
    """One paid call: what the cost ledger records. Filtered results cost 0."""

    provider: str
    model: str
    units: float
    unit: str  # the model's ledger unit: "token" | "second" | "image" | "minute" | "request"
    usd: float


@dataclass(frozen=True)
class Shot:
    number: int  # 1-based clip number
    visual_prompt: str
    motion_prompt: str
    narration: str
    seconds: int


@dataclass(frozen=True)
class Storyboard:
    title: str
    shots: tuple[Shot, ...]
    charge: Charge | None = None


@dataclass(frozen=True)
class Image:
    data: bytes
    mime_type: str = "image/png"
    charge: Charge | None = None


@dataclass(frozen=True, kw_only=True)
class ClipRequest:
    """Everything one clip create sends: a clip runs from `start_frame` to `end_frame`.

    Keyword-only, so a call site reads as the request it builds. Providers check
    what their model accepts (Veo: 4, 6 or 8 seconds) and refuse the rest before
    any request leaves the process.
    """

    start_frame: Image
    end_frame: Image
    prompt: str
    seconds: int
    aspect: Aspect
    negative_prompt: str | None = None


@dataclass(frozen=True)
class ClipPending:
    state: Literal["pending"] = "pending"


@dataclass(frozen=True)
class ClipDone:
    """A finished clip: bytes in hand, or a URI to fetch them from."""

    video: bytes | None
    uri: str | None
    mime_type: str
    charge: Charge | None = None
    state: Literal["done"] = "done"


@dataclass(frozen=True)
class ClipFiltered:
    """The provider's safety filter removed the output; not billed."""

    reasons: tuple[str, ...]
    charge: Charge | None = None
    state: Literal["filtered"] = "filtered"


@dataclass(frozen=True)
class ClipFailed:
    code: str
    message: str
    transient: bool
    state: Literal["failed"] = "failed"


@dataclass(frozen=True)
class ClipOutcomeUnknown:
    """The operation finished with neither a video nor a filter reason.

    The generation may have run (and been billed) with its result lost: handled like a
    lost submission (flagged for a human), never resubmitted automatically.
    """

    message: str
    state: Literal["unknown"] = "unknown"


ClipPoll = ClipPending | ClipDone | ClipFiltered | ClipFailed | ClipOutcomeUnknown


@dataclass(frozen=True)
class Narration:
    wav: bytes
    seconds: float
    srt: str | None = None  # subtitles when the voice is silent or as an extra
    charge: Charge | None = None
    extra: dict[str, str] = field(default_factory=dict)


@runtime_checkable
class StoryboardProvider(Protocol):
    name: str

    async def plan_storyboard(
        self,
        brief: str,
        n_shots: int,
        seconds: int,
        aspect: Aspect,
        notes: dict[int, str] | None = None,
        references: Sequence[Image] = (),
    ) -> Storyboard:
        """`references`: the task's reference images (product shots, style frames), in
        the order the creator listed them; the model reads them with the brief."""
        ...


@runtime_checkable
class KeyframeProvider(Protocol):
    name: str

    async def render_keyframe(
        self,
        prompt: str,
        aspect: Aspect,
        reference: Image | None = None,
        references: Sequence[Image] = (),
    ) -> Image:
        """`reference`: the previous keyframe, for continuity from shot to shot.

        `references`: the task's reference images, sent with every keyframe so what
        they show (a product, a character, a style) appears in it. They arrive checked
        (type sniffed, size and count within the channel's models' limits:
        orchestrator.references).
        """
        ...


@runtime_checkable
class ClipProvider(Protocol):
    name: str

    async def start_clip(self, request: ClipRequest) -> str:
        """Submit once; return the operation name. Never retried by the caller.

        Raises `SubmitOutcomeUnknown` when the request may have reached the provider
        without its answer coming back.
        """
        ...

    async def poll_clip(self, operation_name: str) -> ClipPoll: ...


@runtime_checkable
class NarrationProvider(Protocol):
    name: str

    async def narrate(self, text: str, voice: str) -> Narration: ...


@dataclass(frozen=True)
class ProviderSet:
    """The providers one channel uses, and the model names its costs are priced by.

    Built by `orchestrator.providers.registry.ProviderRegistry`, one per channel.
    """

    name: str
    storyboard: StoryboardProvider
    keyframes: KeyframeProvider
    clips: ClipProvider
    narration: NarrationProvider
    models: dict[str, str] = field(default_factory=dict)  # capability -> model
    rai_rephrase_retries: int = 1
    # What each clip create asks for beyond its length (priced by the catalogue).
    video_resolution: str | None = None
    video_audio: bool = False
