"""Does the board's Status property carry the labels reelgate reads and writes?

reelgate maps each internal status to a label (the channels file's `[statuses]`,
defaults otherwise). Against the Tasks Status property that mapping can be:
- **missing** an option: the daemon could not write that status (a Status option
  cannot be created by writing a page value, unlike a Select one) and would not know
  the board's own word for it, so it refuses to start, with one message naming them all;
- **unmapped**: an option no status maps to; a card moved there is set back with a
  comment, so it is advice, not an error;
- **duplicate** options that differ only in case or spacing: reelgate could not tell
  them apart when reading, so it is an error.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["LabelCheck", "compare_labels"]

JSON = dict[str, Any]


def _fold(label: str) -> str:
    return " ".join(label.split()).casefold()


@dataclass
class LabelCheck:
    """The board's Status options against the mapping (status key -> label)."""

    missing: list[tuple[str, str]] = field(default_factory=list)  # (status, label)
    unmapped: list[str] = field(default_factory=list)
    duplicates: list[list[str]] = field(default_factory=list)

    def problems(self, table: str, prop: str, *, kind: str) -> list[str]:
        out: list[str] = []
        if self.missing and kind == "status":
            one = len(self.missing) == 1
            listed = ", ".join(
                f'"{label}"' + ("" if status == label else f" ({status})")
                for status, label in self.missing
            )
            out.append(
                f'{table}: Status property "{prop}" does not match the status labels reelgate '
                f"uses — it has no option {listed}. Fix: add {'it' if one else 'them'} to the "
                "Status property in Notion (the API cannot add Status options to an existing "
                "database; setup-notion makes them only for a new one), or map "
                f"{'this status' if one else 'these statuses'} to the board's own labels in "
                'the [statuses] table of the channels file (e.g. video_ready = "Videos Ready")'
            )
        for group in self.duplicates:
            listed = ", ".join(f'"{o}"' for o in group)
            out.append(
                f'{table}: Status property "{prop}" has options {listed} that differ only in '
                "case or spacing — reelgate cannot tell them apart; rename or delete all but one"
            )
        return out

    def advice(self, table: str, prop: str) -> list[str]:
        if not self.unmapped:
            return []
        one = len(self.unmapped) == 1
        listed = ", ".join(f'"{o}"' for o in self.unmapped)
        return [
            f"{table}: Status option{'' if one else 's'} {listed} {'is' if one else 'are'} "
            "not mapped to any reelgate status — a card moved there is set back with a "
            f"comment. Fix: map a status to {'it' if one else 'each'} in the [statuses] table "
            f"of the channels file, or delete {'it' if one else 'them'}"
        ]


def compare_labels(status_property: JSON, mapping: Mapping[str, str]) -> LabelCheck:
    """Compare a Status (or Select) property object with `mapping` (status -> label)."""
    kind = str(status_property.get("type", "status"))
    options = [str(o.get("name", "")) for o in (status_property.get(kind) or {}).get("options", [])]
    check = LabelCheck()
    by_fold: dict[str, list[str]] = {}
    for option in options:
        by_fold.setdefault(_fold(option), []).append(option)
    check.duplicates = [group for group in by_fold.values() if len(group) > 1]
    # Exact names: a Status value is written by its exact option name.
    check.missing = [(status, label) for status, label in mapping.items() if label not in options]
    mapped = {_fold(label) for label in mapping.values()}
    check.unmapped = [o for o in options if _fold(o) not in mapped]
    return check
