"""What reelgate asks of a Notion board, in the process's status labels.

`setup-notion`, `check-notion`, the daemon's start-up check and the demo all need the
same two things from the status machine: the Status options to create (label, colour,
group, and whether a person must act there) and the status -> label mapping to check
the board against. Both follow the installed labels (orchestrator.state.labels).
"""

from __future__ import annotations

from notion_sync.schema import StatusOption
from orchestrator.state.labels import current_labels
from orchestrator.state.status import WAITING_ON_HUMAN, Status, notion_status_options

__all__ = ["label_mapping", "status_options"]


def status_options() -> list[StatusOption]:
    """Every status as a Status option, in pipeline order, in the installed labels."""
    return [
        StatusOption(name=label, color=color, group=group, needs_review=status in WAITING_ON_HUMAN)
        for status, (label, color, group) in zip(Status, notion_status_options(), strict=True)
    ]


def label_mapping() -> dict[str, str]:
    """Internal status -> the board's label, for checking the Status property."""
    return {status.value: label for status, label in current_labels()}
