"""What a task will cost, line by line, before anything is spent.

The prices come from `pipeline/budget.py` only (its per-unit functions), so the
breakdown always adds up to `estimate_task`, the number the budget check uses.
Nothing here calls a provider: a price is a lookup of the channel's model ids.
"""

from __future__ import annotations

from dataclasses import dataclass

from orchestrator.pipeline.budget import (
    clip_cost,
    estimate_task,
    keyframe_cost,
    narration_cost,
    storyboard_cost,
)
from orchestrator.providers.base import ProviderSet

__all__ = ["Estimate", "EstimateLine", "estimate_breakdown", "money"]


def money(usd: float) -> str:
    """$6.40; cents that would show as $0.00 keep four places ($0.0023)."""
    return f"${usd:.4f}" if 0 < abs(usd) < 0.1 else f"${usd:.2f}"


@dataclass(frozen=True)
class EstimateLine:
    item: str  # Storyboard, Keyframes, Clips, Narration
    model: str
    quantity: str  # "1 plan", "5 images", "4 x 8 s", ...
    usd: float


@dataclass(frozen=True)
class Estimate:
    provider: str
    clip_count: int
    clip_seconds: int
    lines: tuple[EstimateLine, ...]
    total_usd: float

    def table(self) -> str:
        """The breakdown as aligned plain text (a terminal, or a Notion comment)."""
        rows = [("Item", "Model", "Quantity", "USD")]
        rows += [(li.item, li.model, li.quantity, money(li.usd)) for li in self.lines]
        rows.append(("Total", "", "", money(self.total_usd)))
        widths = [max(len(row[i]) for row in rows) for i in range(4)]

        def fmt(row: tuple[str, str, str, str]) -> str:
            cells = [row[i].ljust(widths[i]) for i in range(3)] + [row[3].rjust(widths[3])]
            return "  ".join(cells).rstrip()

        return "\n".join([fmt(rows[0]), *(fmt(r) for r in rows[1:])])

    def summary(self) -> str:
        """One line: `$6.85 (storyboard $0.01 + 5 keyframes $0.20 + ...)`."""
        parts = " + ".join(f"{li.item.lower()} {money(li.usd)}" for li in self.lines)
        return f"{money(self.total_usd)} ({parts})"


def estimate_breakdown(providers: ProviderSet, clip_count: int, clip_seconds: int) -> Estimate:
    """One clean pass of a task: storyboard, N+1 keyframes, N clips, narration."""
    models = providers.models
    lines = (
        EstimateLine(
            "Storyboard", models.get("storyboard", ""), "1 plan", storyboard_cost(providers)
        ),
        EstimateLine(
            "Keyframes",
            models.get("image", ""),
            f"{clip_count + 1} images",
            keyframe_cost(providers, clip_count + 1),
        ),
        EstimateLine(
            "Clips",
            models.get("video", ""),
            f"{clip_count} x {clip_seconds} s",
            clip_cost(providers, clip_seconds, clip_count),
        ),
        EstimateLine(
            "Narration",
            models.get("tts", ""),
            f"{clip_count} x {clip_seconds} s",
            narration_cost(providers, clip_seconds, clip_count),
        ),
    )
    return Estimate(
        provider=providers.name,
        clip_count=clip_count,
        clip_seconds=clip_seconds,
        lines=lines,
        # The same function the budget check uses, so the two can never disagree.
        total_usd=estimate_task(providers, clip_count, clip_seconds),
    )
