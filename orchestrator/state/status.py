"""The status machine of DESIGN §2: one enum, one table of allowed moves.

Internal values are snake_case; Notion shows the labels. Every edge is tagged with
who may take it: `human` (seen in Notion) or `daemon` (taken by a worker). Some
edges carry both: a channel may auto-approve a gate, which is the daemon taking a
reviewer's edge on their behalf.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Literal

__all__ = [
    "STAGES",
    "TRANSITIONS",
    "WAITING_ON_HUMAN",
    "Actor",
    "Stage",
    "Status",
    "allowed_moves",
    "default_label",
    "is_allowed",
    "notion_status_options",
    "stage_named",
]

Actor = Literal["human", "daemon"]
HUMAN: frozenset[Actor] = frozenset({"human"})
DAEMON: frozenset[Actor] = frozenset({"daemon"})
BOTH: frozenset[Actor] = frozenset({"human", "daemon"})


class Status(enum.StrEnum):
    DRAFT = "draft"
    QUEUED = "queued"
    PLANNING = "planning"
    STORYBOARD_READY = "storyboard_ready"
    STORYBOARD_APPROVED = "storyboard_approved"
    STORYBOARD_ERROR = "storyboard_error"
    GENERATING_KEYFRAMES = "generating_keyframes"
    KEYFRAMES_READY = "keyframes_ready"
    KEYFRAMES_APPROVED = "keyframes_approved"
    KEYFRAMES_ERROR = "keyframes_error"
    GENERATING_VIDEO = "generating_video"
    VIDEO_READY = "video_ready"
    VIDEO_APPROVED = "video_approved"
    VIDEO_ERROR = "video_error"
    GENERATING_AUDIO = "generating_audio"
    AUDIO_READY = "audio_ready"
    AUDIO_APPROVED = "audio_approved"
    AUDIO_ERROR = "audio_error"
    ASSEMBLING = "assembling"
    FINAL_READY = "final_ready"
    DONE = "done"
    FINAL_ERROR = "final_error"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def label(self) -> str:
        """What the Notion board calls this status (the installed `StatusLabels`)."""
        from orchestrator.state.labels import current_labels

        return current_labels().label(self)

    @classmethod
    def from_label(cls, label: str) -> Status:
        """Notion label -> Status; case and spacing are forgiven, unknown raises KeyError."""
        from orchestrator.state.labels import current_labels

        return current_labels().parse(label)

    @property
    def terminal(self) -> bool:
        return self in (Status.DONE, Status.CANCELLED)


def default_label(status: Status) -> str:
    """The label a status has unless the channels file's `[statuses]` renames it."""
    return "Done" if status is Status.DONE else status.value.replace("_", " ").title()


@dataclass(frozen=True)
class Stage:
    """One stage of DESIGN §2's table: where the daemon works and where humans review."""

    name: Literal["storyboard", "keyframes", "video", "audio", "final"]
    working: Status
    ready: Status
    approved: Status
    error: Status


STAGES: tuple[Stage, ...] = (
    Stage(
        "storyboard",
        Status.PLANNING,
        Status.STORYBOARD_READY,
        Status.STORYBOARD_APPROVED,
        Status.STORYBOARD_ERROR,
    ),
    Stage(
        "keyframes",
        Status.GENERATING_KEYFRAMES,
        Status.KEYFRAMES_READY,
        Status.KEYFRAMES_APPROVED,
        Status.KEYFRAMES_ERROR,
    ),
    Stage(
        "video",
        Status.GENERATING_VIDEO,
        Status.VIDEO_READY,
        Status.VIDEO_APPROVED,
        Status.VIDEO_ERROR,
    ),
    Stage(
        "audio",
        Status.GENERATING_AUDIO,
        Status.AUDIO_READY,
        Status.AUDIO_APPROVED,
        Status.AUDIO_ERROR,
    ),
    Stage("final", Status.ASSEMBLING, Status.FINAL_READY, Status.DONE, Status.FINAL_ERROR),
)


def stage_named(name: str) -> Stage:
    """The stage called `name` (each stage module looks up its own statuses here)."""
    for stage in STAGES:
        if stage.name == name:
            return stage
    raise KeyError(name)


def _build_table() -> dict[tuple[Status, Status], frozenset[Actor]]:
    table: dict[tuple[Status, Status], frozenset[Actor]] = {
        (Status.DRAFT, Status.QUEUED): HUMAN,
        (Status.QUEUED, Status.PLANNING): DAEMON,
        # A task whose reference images cannot be used waits in Draft (nothing spent).
        (Status.QUEUED, Status.DRAFT): DAEMON,
        # Failed -> Queued retries from the last good stage; nothing paid is redone.
        (Status.FAILED, Status.QUEUED): HUMAN,
        # Cancelled -> Queued resumes where it was cancelled (transition() keeps the
        # place in resume_status), reusing everything already made.
        (Status.CANCELLED, Status.QUEUED): HUMAN,
    }
    for i, stage in enumerate(STAGES):
        # Queued -> a later working status resumes a failed task at its last good
        # stage (DESIGN §2: nothing already paid for is regenerated).
        table[(Status.QUEUED, stage.working)] = DAEMON
        table[(stage.working, stage.ready)] = DAEMON
        # Auto-approving channels let the daemon take the reviewer's edge.
        table[(stage.ready, stage.approved)] = BOTH
        table[(stage.ready, stage.error)] = HUMAN
        # The daemon works on what the review named, or goes back to the gate
        # (with a comment) when it cannot act on it; a reviewer may withdraw.
        table[(stage.error, stage.working)] = DAEMON
        table[(stage.error, stage.ready)] = BOTH
        # A review may route upstream: narrative -> re-plan, keyframes -> redo them.
        for earlier in STAGES[:i]:
            table[(stage.error, earlier.working)] = DAEMON
        # "Go ahead with the notes I wrote" (a habit from the system reelgate
        # replaces): the daemon takes it back to the error status and reads them.
        table[(stage.error, Status.QUEUED)] = HUMAN
        table[(Status.QUEUED, stage.error)] = DAEMON
        if i + 1 < len(STAGES):
            table[(stage.approved, STAGES[i + 1].working)] = DAEMON
    # Iteration routing: a reviewer looking at clips may send the task back to an
    # earlier stage (visual problem -> keyframes, narrative problem -> storyboard).
    table[(Status.VIDEO_READY, Status.KEYFRAMES_ERROR)] = HUMAN
    table[(Status.VIDEO_READY, Status.STORYBOARD_ERROR)] = HUMAN
    table[(Status.KEYFRAMES_READY, Status.STORYBOARD_ERROR)] = HUMAN

    failable = [Status.QUEUED, *(s.working for s in STAGES), *(s.error for s in STAGES)]
    failable += [s.approved for s in STAGES if s.approved is not Status.DONE]
    for status in failable:
        table[(status, Status.FAILED)] = DAEMON
    for status in Status:
        if not status.terminal and status is not Status.CANCELLED:
            table[(status, Status.CANCELLED)] = HUMAN
    return table


TRANSITIONS: Mapping[tuple[Status, Status], frozenset[Actor]] = _build_table()


def is_allowed(current: Status, target: Status, actor: Actor) -> bool:
    return actor in TRANSITIONS.get((current, target), frozenset())


def allowed_moves(current: Status, actor: Actor | None = None) -> tuple[Status, ...]:
    """Targets reachable from `current` (by `actor`, or by anyone), in enum order."""
    return tuple(
        target
        for target in Status
        if (current, target) in TRANSITIONS
        and (actor is None or actor in TRANSITIONS[(current, target)])
    )


def _waits_on_human(status: Status) -> bool:
    moves = [t for t in allowed_moves(status) if t is not Status.CANCELLED]
    return (
        not status.terminal
        and status is not Status.DRAFT
        and bool(moves)
        and all("human" in TRANSITIONS[(status, t)] for t in moves)
    )


# Where the pipeline has stopped until a person decides: every move out of these is a
# human's (the review gates, and Failed). Draft is left out: nothing has started yet.
# The Needs review view of setup-notion filters on these.
WAITING_ON_HUMAN: tuple[Status, ...] = tuple(s for s in Status if _waits_on_human(s))


_GROUP_TODO = (Status.DRAFT, Status.QUEUED)
_GROUP_COMPLETE = (Status.DONE, Status.FAILED, Status.CANCELLED)


def _colour(status: Status) -> str:
    if status in (Status.DRAFT, Status.CANCELLED):
        return "gray"
    if status is Status.QUEUED:
        return "brown"
    if status in (Status.FAILED,) or status.value.endswith("_error"):
        return "red"
    if status.value.endswith("_ready"):
        return "yellow"
    if status.value.endswith("_approved") or status is Status.DONE:
        return "green"
    return "blue"


StatusGroup = Literal["To-do", "In progress", "Complete"]


def notion_status_options(
    order: Iterable[Status] = tuple(Status),
) -> list[tuple[str, str, StatusGroup]]:
    """(label, colour, group) for every status, in pipeline order, for setup-notion."""
    out: list[tuple[str, str, StatusGroup]] = []
    for status in order:
        group: StatusGroup
        if status in _GROUP_TODO:
            group = "To-do"
        elif status in _GROUP_COMPLETE:
            group = "Complete"
        else:
            group = "In progress"
        out.append((status.label, _colour(status), group))
    return out
