"""`reelgate demo`: the whole pipeline on embedded defaults, with a scripted reviewer."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.live import Live
from rich.table import Table

from orchestrator.cli.app import app, fail
from orchestrator.errors import ReelgateError
from orchestrator.logging import configure_logging
from orchestrator.state.status import Status

__all__: list[str] = []


def _progress_table(state: dict[str, Any]) -> Table:
    table = Table(title=f"reelgate demo — {state['status']}  (cost ${state['cost_usd']:.2f})")
    table.add_column("clip", justify="right")
    table.add_column("state")
    table.add_column("attempt", justify="right")
    for number, status, attempt in state["clips"]:
        table.add_row(str(number), status, str(attempt))
    return table


def _print_summary(console: Console, summary: Any) -> None:
    console.rule("reelgate demo — summary")
    console.print("[bold]Status timeline[/]: " + " → ".join(summary.timeline))
    clips = Table(title="Clips")
    for column in ("clip", "attempts", "status"):
        clips.add_column(column)
    for row in summary.clips:
        clips.add_row(str(row["number"]), str(row["attempts"]), row["status"])
    console.print(clips)
    console.print(f"[bold]Reviewer[/]: {'; '.join(summary.reviewer_actions)}")
    console.print(
        "[bold]Provider calls[/]: "
        + ", ".join(f"{k} {v}" for k, v in summary.provider_calls.items())
    )
    console.print(
        f"[bold]Notion requests[/]: {summary.notion_requests} in all, {summary.notion_429s} "
        "answered 429 (each integration, i.e. token, has its own 3 requests/s)"
    )
    console.print(
        f"  daemon:   {summary.daemon_requests} requests, {summary.daemon_429s} answered 429"
    )
    console.print(
        f"  reviewer: {summary.reviewer_requests} requests, {summary.reviewer_429s} answered 429"
    )
    console.print(f"  setup:    {summary.setup_requests} requests (setup-notion, the sample task)")
    console.print(
        f"[bold]Cost[/]: ${summary.cost_usd:.2f}   [bold]Elapsed[/]: {summary.elapsed_s}s"
    )
    console.print(f"[bold]Final video[/]: {summary.final_video}")


@app.command()
def demo(
    data_dir: Path = typer.Option(
        Path("reelgate-data/demo"), help="Where the demo keeps its files (wiped first)."
    ),
    clips: int = typer.Option(4, min=2, max=12, help="Clips in the sample task."),
    seconds: int = typer.Option(4, help="Seconds per clip (4, 6 or 8)."),
    json_summary: Path | None = typer.Option(
        None, "--json-summary", help="Also write the summary as JSON."
    ),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Show the daemon's log lines."),
) -> None:
    """Run the whole pipeline locally: Notion, providers, storage, SQLite, a reviewer."""
    from orchestrator.demo import run_demo, write_summary

    if seconds not in (4, 6, 8):
        raise fail("--seconds must be 4, 6 or 8 (the durations Veo supports)")
    console = Console()
    # Rate-limit retries are expected here (the local API enforces Notion's 3 req/s):
    # the summary counts them; the log lines would only drown the progress table.
    configure_logging(level="info" if verbose else "error", json=False, stream=sys.stderr)
    live = Live(console=console, refresh_per_second=4, transient=True)

    def show(state: dict[str, Any]) -> None:
        live.update(_progress_table(state))

    try:
        with live:
            summary = asyncio.run(
                run_demo(data_dir, clips=clips, seconds=seconds, on_progress=show)
            )
    except ReelgateError as exc:
        raise fail(str(exc)) from None
    _print_summary(console, summary)
    if json_summary is not None:
        write_summary(summary, json_summary)
        console.print(f"summary written to {json_summary}")
    done = Status.DONE.label
    if summary.final_status != done or not summary.final_video:
        console.print(json.dumps(summary.as_json(), indent=2))
        raise fail(f"the demo ended at {summary.final_status}, not {done}")
