"""Admin commands: `status TASK` (its view), `retry`, `cancel`, `resume`,
`dead-letters` and `logs`. The work is in orchestrator/admin; this is the CLI."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession

from orchestrator.channels import Channels, load_channels
from orchestrator.cli.app import app, config_from, fail
from orchestrator.cli.errors import database_failure
from orchestrator.config import AppConfig
from orchestrator.db import create_engine, session_factory, utcnow
from orchestrator.db.models import Task
from orchestrator.errors import OrchestratorError, StaleState

__all__ = ["show_task"]

T = TypeVar("T")


def _execute(
    config: AppConfig, work: Callable[[AsyncSession], Awaitable[T]], *, write: bool = False
) -> T:
    """Run `work` in one session (one transaction when `write`)."""

    async def go() -> T:
        engine = create_engine(config.settings.database_url)
        try:
            async with session_factory(engine)() as session:
                if not write:
                    return await work(session)
                async with session.begin():
                    return await work(session)
        finally:
            await engine.dispose()

    return asyncio.run(go())


def _run(
    config: AppConfig, work: Callable[[AsyncSession], Awaitable[T]], *, write: bool = False
) -> T:
    """`_execute`, with failures said in one line (exit 1: refused; 2: cannot run)."""
    try:
        return _execute(config, work, write=write)
    except StaleState as exc:
        raise fail(f"the task changed meanwhile ({exc}); look again and retry", code=1) from None
    except OrchestratorError as exc:  # refusals, unknown task
        raise fail(str(exc), code=1) from None
    except (SQLAlchemyError, OSError) as exc:
        raise fail(database_failure(config.settings.database_url, exc)) from None


def _channels(config: AppConfig) -> Channels:
    try:
        return load_channels(config.settings.channels_file)
    except OrchestratorError as exc:
        raise fail(str(exc)) from None


def show_task(ctx: typer.Context, ref: str, *, as_json: bool) -> None:
    """`reelgate status TASK`: the task's whole story."""
    from orchestrator import admin  # imported late: it pulls in the pipeline

    config = config_from(ctx)
    channels = _channels(config)

    async def load(session: AsyncSession) -> dict[str, Any]:
        task = await admin.find_task(session, ref)
        return await admin.task_story(session, task, channels, utcnow())

    story = _run(config, load)
    if as_json:
        typer.echo(json.dumps(story, indent=2, ensure_ascii=False))
    else:
        from orchestrator.cli.story_view import render_story

        render_story(Console(), story)


def _act(
    ctx: typer.Context, ref: str, action: Callable[[AsyncSession, Task], Awaitable[str]]
) -> None:
    from orchestrator import admin  # imported late: it pulls in the pipeline

    config = config_from(ctx)

    async def work(session: AsyncSession) -> str:
        return await action(session, await admin.find_task(session, ref))

    typer.echo(_run(config, work, write=True))


@app.command()
def retry(
    ctx: typer.Context,
    task: str = typer.Argument(..., help="Task id, Notion page id or page URL."),
    stage: str | None = typer.Option(
        None, "--stage", help="Failed tasks: go back to this stage (storyboard ... final)."
    ),
) -> None:
    """Retry a Failed task (Failed -> Queued), or have a worker look at a waiting one now."""
    from orchestrator import admin  # imported late: it pulls in the pipeline

    who = admin.operator()
    _act(ctx, task, lambda s, t: admin.retry_task(s, t, stage=stage, by=who, now=utcnow()))


@app.command()
def cancel(
    ctx: typer.Context,
    task: str = typer.Argument(..., help="Task id, Notion page id or page URL."),
) -> None:
    """Cancel a task, as setting Status to Cancelled in Notion would."""
    from orchestrator import admin  # imported late: it pulls in the pipeline

    who = admin.operator()
    _act(ctx, task, lambda s, t: admin.cancel_task(s, t, by=who, now=utcnow()))


@app.command()
def resume(
    ctx: typer.Context,
    task: str = typer.Argument(..., help="Task id, Notion page id or page URL."),
) -> None:
    """Resume a Cancelled task (Cancelled -> Queued) where it stopped."""
    from orchestrator import admin  # imported late: it pulls in the pipeline

    who = admin.operator()
    _act(ctx, task, lambda s, t: admin.resume_task(s, t, by=who, now=utcnow()))


@app.command("dead-letters")
def dead_letters_cmd(
    ctx: typer.Context,
    replay: int | None = typer.Option(None, "--replay", help="Queue this dead letter again."),
    replay_every: bool = typer.Option(False, "--all", help="Queue every dead letter again."),
    drop: int | None = typer.Option(None, "--drop", help="Give up on this dead letter for good."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON for scripts."),
) -> None:
    """List Notion writes that failed for good; replay them after a fix, or drop them."""
    from orchestrator import admin  # imported late: it pulls in the pipeline

    chosen = [
        flag
        for flag, on in (
            ("--replay", replay is not None),
            ("--all", replay_every),
            ("--drop", drop is not None),
        )
        if on
    ]
    if len(chosen) > 1:
        raise fail(f"choose one of --replay ID, --all or --drop ID (got {' and '.join(chosen)})")
    config = config_from(ctx)
    who = admin.operator()
    if replay is not None:
        item_id = replay

        async def one(session: AsyncSession) -> list[str]:
            outcome = await admin.replay_dead_letter(session, item_id, by=who, now=utcnow())
            return [outcome.message]

        messages = _run(config, one, write=True)
    elif replay_every:

        async def every(session: AsyncSession) -> list[str]:
            return [o.message for o in await admin.replay_all(session, by=who, now=utcnow())]

        messages = _run(config, every, write=True)
    elif drop is not None:
        item_id = drop

        async def dropped(session: AsyncSession) -> list[str]:
            return [await admin.drop_dead_letter(session, item_id, by=who, now=utcnow())]

        messages = _run(config, dropped, write=True)
    else:
        rows = _run(config, admin.dead_letters)
        if as_json:
            typer.echo(json.dumps([r.as_json() for r in rows], indent=2, ensure_ascii=False))
            return
        if not rows:
            typer.echo("No dead letters: every Notion write was sent or is on its way.")
            return
        table = Table(title=f"Dead-lettered Notion writes ({len(rows)})")
        for column in ("id", "task", "kind", "what", "tries", "error"):
            table.add_column(column, overflow="fold")
        for row in rows:
            table.add_row(
                str(row.id),
                f"{row.task_id} {row.task_title}".strip() if row.task_id else row.page_id,
                row.kind,
                row.summary,
                str(row.attempts),
                row.error or "",
            )
        Console().print(table)
        typer.echo(
            "Fix the cause, then: reelgate dead-letters --replay ID (or --all); "
            "reelgate dead-letters --drop ID gives one up."
        )
        return
    for message in messages:
        typer.echo(message)


def _read_lines(files: list[Path]) -> Iterator[str]:
    for path in files:
        with path.open(encoding="utf-8", errors="replace") as handle:
            yield from handle


@app.command()
def logs(
    ctx: typer.Context,
    task: str = typer.Argument(..., help="Task id, Notion page id or page URL."),
    file: Path | None = typer.Option(
        None,
        "--file",
        help="Read this file instead of REELGATE_LOG_FILE; '-' reads stdin "
        "(e.g. `kubectl logs deploy/reelgate | reelgate logs 12 --file -`).",
    ),
    level: str = typer.Option(
        "debug", "--level", help="Lowest level shown: debug, info, warning, error, critical."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the JSON lines as they are."),
) -> None:
    """The daemon's log lines about one task, oldest first, from its log file."""
    from orchestrator import admin  # imported late: it pulls in the pipeline

    config = config_from(ctx)
    if level not in admin.LEVELS:
        raise fail(f"--level must be one of {', '.join(admin.LEVELS)} (got {level!r})")
    source = file if file is not None else config.settings.log_file
    if source is None:
        raise fail(
            "no log file: set REELGATE_LOG_FILE (the daemon writes it, rotated) or pass "
            "--file PATH ('-' for stdin)"
        )
    task_id, page_id = _task_ids(config, task)
    if str(source) == "-":
        lines: Any = sys.stdin
        where = "stdin"
    else:
        files = admin.log_files(source)
        if not files:
            raise fail(
                f"{source}: no such log file (is the daemon running with REELGATE_LOG_FILE?)"
            )
        lines = _read_lines(files)
        where = ", ".join(str(f) for f in files)
    found = 0
    for entry in admin.task_lines(lines, task_id=task_id, page_id=page_id, min_level=level):
        found += 1
        typer.echo(json.dumps(entry, ensure_ascii=False) if as_json else admin.render_line(entry))
    if not found:
        typer.echo(f"no log lines about task {task} at {level} or above in {where}", err=True)


def _task_ids(config: AppConfig, ref: str) -> tuple[int | None, str | None]:
    """The task's id and page id: from the database, or from `ref` alone when the
    database cannot be read (logs matter most when something is down)."""
    from orchestrator import admin  # imported late: it pulls in the pipeline

    async def load(session: AsyncSession) -> tuple[int | None, str | None]:
        task = await admin.find_task(session, ref)
        return task.id, task.notion_page_id

    try:
        return _execute(config, load)
    except OrchestratorError as exc:
        raise fail(str(exc), code=1) from None
    except (SQLAlchemyError, OSError) as exc:
        key = admin.page_key(ref)
        if not (ref.strip().isdigit() or key):
            raise fail(
                f"the database did not answer ({type(exc).__name__}): give the task's id or page id"
            ) from None
        typer.echo(
            f"(the database did not answer ({type(exc).__name__}): matching on the id given)",
            err=True,
        )
        return (int(ref) if ref.strip().isdigit() else None), key
