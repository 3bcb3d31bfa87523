"""docs/review-guide.md: every example is run through `reelgate explain-review`.

Each ```review block (with `clips=N` and optionally `stage=S`) is followed by a
```text block holding exactly what the command prints for it.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from orchestrator.cli import app
from orchestrator.review import DEFAULT_ISSUE_WORDS, ISSUE_CLASS_NAMES
from orchestrator.settings import Settings

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "review-guide.md"
_BLOCK = re.compile(
    r"```review (?P<args>[^\n]*)\n(?P<text>.*?)```\s*```text\n(?P<out>.*?)```", re.S
)

runner = CliRunner()


def _examples() -> list[tuple[dict[str, str], str, str]]:
    text = GUIDE.read_text(encoding="utf-8")
    found = []
    for m in _BLOCK.finditer(text):
        args = dict(part.split("=", 1) for part in m.group("args").split())
        found.append((args, m.group("text").rstrip("\n"), m.group("out").rstrip("\n")))
    return found


EXAMPLES = _examples()


def test_the_guide_has_examples_of_every_kind() -> None:
    assert len(EXAMPLES) >= 10
    lines = [line for _, text, _ in EXAMPLES for line in text.splitlines()]
    assert len(lines) >= 40
    # Every class, and the brief's two formats, are shown.
    shown = "\n".join(lines)
    for needle in ("Regenerate: clips 5, 12, 17", "Bad motion: 5,12,17", "narrative:", "audio:"):
        assert needle in shown
    assert "continuity:" in shown
    outputs = "\n".join(out for _, _, out in EXAMPLES)
    for route in ("regenerate", "re-plan", "redo narration only", "keyframes", "not read"):
        assert route in outputs


@pytest.mark.parametrize(("args", "text", "expected"), EXAMPLES, ids=lambda v: str(v)[:40])
def test_each_example_prints_what_the_guide_says(
    args: dict[str, str], text: str, expected: str
) -> None:
    command = ["explain-review", "--clips", args["clips"], "--stage", args.get("stage", "video")]
    result = runner.invoke(app, [*command, text])
    refused = "✗ not read" in expected
    assert result.exit_code == (1 if refused else 0), result.output
    assert result.stdout.rstrip("\n") == expected


def test_the_guide_states_the_settle_time_and_every_class_word() -> None:
    text = GUIDE.read_text(encoding="utf-8")
    settle = Settings.model_fields["review_settle_seconds"].default
    assert f"{settle:g} seconds by default" in text
    assert "REELGATE_REVIEW_SETTLE_SECONDS" in text
    for name in ISSUE_CLASS_NAMES:
        for word in DEFAULT_ISSUE_WORDS[name]:
            if " " not in word and "-" not in word and word not in ("keyframes", "voiceover"):
                assert f"`{word}`" in text, word
