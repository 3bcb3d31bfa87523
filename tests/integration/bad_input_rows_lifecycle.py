"""Hostile or careless inputs about a task's life, and what the person sees.

One row per input: how the task is brought to the moment (`setup`), what the person
does then (`then`: a Status label they set; `rows`: Videos rows they set to
Regenerate first, `cleared`: set back to Ready before the verdict), the channel
typed, and the visible outcome: the Status the board ends on and a fragment of the
last comment (`says`), or `None` when no refusal or warning comment may appear.
tests/integration/test_bad_input_lifecycle.py drives every row.

Setups:
- `queued`: a new page set to Queued with `channel`;
- `video_ready`: the task driven to Video Ready (earlier gates approved);
- `cancelled`: the task reaches Storyboard Ready, then is Cancelled by its owner;
- `trash_restore`: a queued page is moved to the trash, then restored;
- `provider_down`: the channel's provider is unreachable (a closed loopback port),
  its limit is 2 failures and the owner is told after the first.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

__all__ = ["ROWS", "Row"]

Setup = Literal["queued", "video_ready", "cancelled", "trash_restore", "provider_down"]


@dataclass(frozen=True)
class Row:
    id: str
    setup: Setup
    status: str
    says: str | None
    channel: str = "demo"
    then: str | None = None
    rows: dict[int, str] = field(default_factory=dict)
    cleared: bool = False


ROWS: tuple[Row, ...] = (
    # -- unknown channels (case 6): never run on `default`, wait in Draft, say why.
    Row(
        "channel-unknown",
        "queued",
        "Draft",
        "the Channel 'Shorts' is not one of reelgate's channels",
        channel="Shorts",
    ),
    Row(
        "channel-typo-of-default",
        "queued",
        "Draft",
        "known: default, demo, autopilot",
        channel="defualt",
    ),
    Row("channel-other-case-is-known", "queued", "Storyboard Ready", None, channel="DEMO"),
    # -- verdicts that contradict the Videos rows (case 2).
    Row(
        "approve-over-one-regenerate-row",
        "video_ready",
        "Video Ready",
        "the row of clip 2 is set to Regenerate",
        rows={2: "too dark"},
        then="Video Approved",
    ),
    Row(
        "approve-over-two-regenerate-rows",
        "video_ready",
        "Video Ready",
        "the rows of clips 1, 2 are set to Regenerate",
        rows={1: "", 2: "wrong colour"},
        then="Video Approved",
    ),
    Row(
        "approve-after-row-set-back-to-ready",
        "video_ready",
        "Audio Ready",
        None,
        rows={2: "too dark"},
        cleared=True,
        then="Video Approved",
    ),
    # -- moves out of Cancelled (case 1): Queued resumes, anything else is refused truly.
    Row(
        "cancelled-to-an-approval",
        "cancelled",
        "Cancelled",
        "From Cancelled you can choose: Queued. Queued resumes it at Planning",
        then="Storyboard Approved",
    ),
    Row(
        "cancelled-to-done",
        "cancelled",
        "Cancelled",
        "Cancelled -> Done is not an allowed move",
        then="Done",
    ),
    Row("cancelled-to-queued-resumes", "cancelled", "Storyboard Ready", None, then="Queued"),
    # -- trash and restore (case 1).
    Row("trashed-then-restored", "trash_restore", "Cancelled", "restored from the trash"),
    # -- provider unreachable (case 3): told while trying, Failed with the reason.
    Row(
        "provider-unreachable-past-the-limit",
        "provider_down",
        "Failed",
        "failed 2 times in a row",
        channel="x",
    ),
)
