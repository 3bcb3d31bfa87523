"""Database commands: `reelgate migrate`, `reelgate status`."""

from __future__ import annotations

import asyncio
import json

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from sqlalchemy.exc import SQLAlchemyError

from orchestrator.channels import load_channels
from orchestrator.cli.app import app, config_from, fail
from orchestrator.cli.errors import database_failure
from orchestrator.db import create_engine, redact_url, session_factory, upgrade
from orchestrator.errors import ConfigError
from orchestrator.reports import TaskSummary, task_summaries

__all__: list[str] = []


@app.command()
def migrate(ctx: typer.Context) -> None:
    """Upgrade the database to the newest schema."""
    url = config_from(ctx).settings.database_url

    async def run() -> None:
        engine = create_engine(url)
        try:
            await upgrade(engine)
        finally:
            await engine.dispose()

    try:
        asyncio.run(run())
    except (SQLAlchemyError, OSError) as exc:
        raise fail(f"cannot migrate {redact_url(url)}: {type(exc).__name__}: {exc}") from None
    typer.echo(f"database at head: {redact_url(url)}", err=True)


def _age(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f}s"
    if seconds < 7200:
        return f"{seconds / 60:.0f}m"
    if seconds < 172800:
        return f"{seconds / 3600:.1f}h"
    return f"{seconds / 86400:.1f}d"


def _table(rows: list[TaskSummary]) -> Table:
    table = Table(title="reelgate tasks")
    for column in ("id", "title", "status", "clips", "cost", "in status"):
        table.add_column(column, justify="right" if column in ("id", "clips", "cost") else "left")
    for row in rows:
        flags = " [bold red]STUCK[/]" if row.stuck else ""
        if row.dead_letters:
            flags += f" [red]{row.dead_letters} dead letter(s)[/]"
        table.add_row(
            str(row.id),
            row.title or row.notion_page_id,
            row.status,
            f"{row.clips_done}/{row.clips_total}",
            f"${row.cost_usd:.2f}",
            _age(row.seconds_in_status) + flags,
        )
    return table


@app.command()
def status(
    ctx: typer.Context,
    task: str | None = typer.Argument(
        None, help="One task's whole story: its id, Notion page id or page URL."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON for scripts."),
) -> None:
    """Show every task (status, clips done, cost, time in status), or one task's story."""
    if task is not None:
        from orchestrator.cli.admin_cmds import show_task

        show_task(ctx, task, as_json=as_json)
        return
    config = config_from(ctx)
    url = config.settings.database_url
    try:
        channels = load_channels(config.settings.channels_file)
    except ConfigError as exc:
        raise fail(str(exc)) from None

    async def load() -> list[TaskSummary]:
        engine = create_engine(url)
        try:
            async with session_factory(engine)() as session:
                return await task_summaries(session, channels=channels)
        finally:
            await engine.dispose()

    try:
        rows = asyncio.run(load())
    except (SQLAlchemyError, OSError) as exc:
        raise fail(database_failure(url, exc)) from None
    if as_json:
        typer.echo(json.dumps([r.as_json() for r in rows], indent=2))
        return
    console = Console()
    console.print(_table(rows))
    stuck = [r for r in rows if r.stuck]
    dead = sum(r.dead_letters for r in rows)
    if stuck:
        console.print(
            f"[red]{len(stuck)} stuck task(s)[/] (longer than their channel's stuck_after): "
            "`reelgate status TASK` shows why."
        )
    if dead:
        console.print(
            f"[red]{dead} Notion write(s) failed for good[/]: `reelgate dead-letters` lists them."
        )


@app.command()
def doctor(ctx: typer.Context) -> None:
    """Check database, channels, ffmpeg, Notion, storage and providers; say how to fix."""
    from orchestrator.doctor import run_checks

    results = asyncio.run(run_checks(config_from(ctx)))
    table = Table(title="reelgate doctor")
    table.add_column("check")
    table.add_column("")
    table.add_column("detail")
    for check in results:
        mark = "[green]ok[/]" if check.ok else "[red]FAIL[/]"
        if check.ok and check.warning:
            mark = "[yellow]warn[/]"
        # Details quote settings like [channels.x.models]: text, not Rich markup.
        table.add_row(check.name, mark, escape(check.detail))
    Console().print(table)
    if not all(c.ok for c in results):
        raise typer.Exit(1)
