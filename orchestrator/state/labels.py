"""What the Notion board calls each status: one mapping, installed once per process.

A workspace may name its Status options its own way (`video_ready = "Videos Ready"`
in the `[statuses]` table of the channels file). Every label that reaches Notion or a
person, and every label read back, goes through the installed `StatusLabels`:
`Status.label` and `Status.from_label` consult it.

Why process configuration rather than a parameter: a status is rendered for people
in many places (transitions, comments, refusals, reports, the CLI), and new code keeps
adding more. Passing a mapping down to every one of them would change dozens of
signatures and still let a new caller forget it. One mapping per process is also what
is true: a daemon serves one Notion board. So the entry points that load the channels
file (`build_runtime`, the Notion and estimate commands, the demo) call
`install_labels(...)` once, and everything else keeps writing `status.label`. Tests
that install other labels get the defaults back from the `status_labels` fixture.

Human-facing text written as a constant (a stage's `GATE_HINT`) names a status as
`{status:video_approved}`; `render_labels` puts the installed label in its place when
the text is sent (`notion_out.comment` does this for every comment).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

from orchestrator.state.status import Status, default_label

__all__ = [
    "FORBIDDEN_CHARS",
    "StatusLabels",
    "current_labels",
    "fold_label",
    "install_labels",
    "render_labels",
    "reset_labels",
    "status_ref",
]

# Notion refuses select and status option names with a comma ("Invalid select option,
# commas not allowed."; local API and notion-sdk-py recordings, checked 2026-12-01).
FORBIDDEN_CHARS = (",",)


def fold_label(label: str) -> str:
    """The form two labels are compared in: case and runs of spaces do not matter."""
    return " ".join(label.split()).casefold()


@dataclass(frozen=True)
class StatusLabels:
    """Status -> label for every status; each label distinct (case and spacing aside)."""

    by_status: Mapping[Status, str]
    _by_folded: dict[str, Status] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        missing = [s.value for s in Status if s not in self.by_status]
        if missing:
            raise ValueError(f"no label for {', '.join(missing)}")
        folded: dict[str, Status] = {}
        for status in Status:
            label = self.by_status[status]
            if not label.strip():
                raise ValueError(f"{status.value}: label is empty")
            key = fold_label(label)
            if key in folded:
                raise ValueError(
                    f'{status.value}: "{label}" is already the label of {folded[key].value}'
                )
            folded[key] = status
        object.__setattr__(self, "_by_folded", folded)

    @classmethod
    def default(cls) -> StatusLabels:
        return cls({s: default_label(s) for s in Status})

    @classmethod
    def with_overrides(cls, overrides: Mapping[str, str]) -> StatusLabels:
        """Defaults, with `overrides` (internal value -> label) in their place.

        Raises ValueError naming the first unknown status or clashing label; the
        channels loader checks the same rules first and points at the file's lines.
        """
        labels = {s: default_label(s) for s in Status}
        for value, label in overrides.items():
            try:
                status = Status(value)
            except ValueError:
                raise ValueError(f"{value}: not a reelgate status") from None
            labels[status] = " ".join(label.split())
        return cls(labels)

    def label(self, status: Status) -> str:
        return self.by_status[status]

    def parse(self, label: str) -> Status:
        """Board label -> Status; case and spacing are forgiven, unknown raises KeyError."""
        return self._by_folded[fold_label(label)]

    def overrides(self) -> dict[str, str]:
        """Internal value -> label, for the statuses not called by their default label."""
        return {s.value: name for s, name in self.by_status.items() if name != default_label(s)}

    def __iter__(self) -> Iterator[tuple[Status, str]]:
        return iter((s, self.by_status[s]) for s in Status)


_DEFAULT = StatusLabels.default()
_installed: StatusLabels = _DEFAULT


def install_labels(labels: StatusLabels | None) -> StatusLabels:
    """Make `labels` the process's labels (None: the defaults); returns them."""
    global _installed
    _installed = labels if labels is not None else _DEFAULT
    return _installed


def reset_labels() -> None:
    install_labels(None)


def current_labels() -> StatusLabels:
    return _installed


def status_ref(status: Status) -> str:
    """A placeholder for `status`'s label in constant text (see `render_labels`)."""
    return "{status:" + status.value + "}"


_REF = re.compile(r"\{status:([a-z_]+)\}")


def render_labels(text: str) -> str:
    """`text` with each `{status:<value>}` replaced by that status's installed label.

    Anything else in braces is left alone (a quoted Error Log line may hold braces).
    """

    def label(match: re.Match[str]) -> str:
        try:
            return _installed.label(Status(match.group(1)))
        except ValueError:
            return match.group(0)

    return _REF.sub(label, text)
