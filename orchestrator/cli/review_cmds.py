"""`reelgate explain-review`: what the daemon would understand from review text.

The same reading the daemon acts on (review.explain.explain_review), for review
leads checking a phrasing and for the examples of docs/review-guide.md.
"""

from __future__ import annotations

import json
import sys
from typing import Annotated, Literal, cast

import typer

from orchestrator.cli.app import app, config_from, fail
from orchestrator.errors import ConfigError
from orchestrator.review import IssueClasses, LineExplanation, explain_review, issue_classes

__all__ = ["render_explanations"]

Stage = Literal["storyboard", "keyframes", "video", "audio", "final"]
_STAGES = ("storyboard", "keyframes", "video", "audio", "final")


def render_explanations(explanations: list[LineExplanation]) -> str:
    """The text form: each line as written, then what it means (or why it is refused)."""
    out: list[str] = []
    for number, explanation in enumerate(explanations, 1):
        reading = explanation.reading
        if explanation.route == "ignored" and not reading.line:
            continue
        out.append(f"{number}: {reading.line}")
        if explanation.route == "ignored":
            out.append("   ignored")
        elif explanation.problem is not None:
            out.append(f"   ✗ not read: {explanation.problem}")
        else:
            out.append(f"   {explanation.description}")
    return "\n".join(out)


def _classes(ctx: typer.Context, channel: str | None) -> IssueClasses:
    if channel is None:
        return issue_classes()
    from orchestrator.channels import load_channels

    try:
        channels = load_channels(config_from(ctx).settings.channels_file)
    except ConfigError as exc:
        raise fail(str(exc)) from None
    if channel not in channels:
        raise fail(f"no channel {channel!r} in {channels.source}: {', '.join(channels.names)}")
    return issue_classes(channels.get(channel).review_labels.as_mapping())


@app.command("explain-review")
def explain_review_cmd(
    ctx: typer.Context,
    text: Annotated[str, typer.Argument(help="Error Log text, or - to read it from stdin.")],
    clips: Annotated[int, typer.Option("--clips", min=0, help="Clips in the task.")],
    stage: Annotated[
        str, typer.Option("--stage", help="The review it is written at: " + ", ".join(_STAGES))
    ] = "video",
    channel: Annotated[
        str | None, typer.Option("--channel", help="Use this channel's extra issue-class words.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
) -> None:
    """Show, line by line, what the daemon would do with this review text.

    Exits 1 when some line would be refused (the daemon would act on none of them).
    """
    if stage not in _STAGES:
        raise fail(f"--stage must be one of {', '.join(_STAGES)} (got {stage!r})")
    body = sys.stdin.read() if text == "-" else text
    explanations = explain_review(body, clips, cast(Stage, stage), _classes(ctx, channel))
    if as_json:
        typer.echo(json.dumps([e.as_json() for e in explanations], indent=2, ensure_ascii=False))
    else:
        typer.echo(render_explanations(explanations))
    if any(e.problem is not None for e in explanations):
        raise typer.Exit(1)
