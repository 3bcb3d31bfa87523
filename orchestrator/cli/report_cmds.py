"""`reelgate report`: review time per gate, working time, regenerations, cost, stuck tasks."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from typing import Annotated, Any

import typer
from sqlalchemy.exc import SQLAlchemyError

from orchestrator.cli.app import app, config_from, fail
from orchestrator.cli.errors import database_failure
from orchestrator.db import create_engine, session_factory, utcnow
from orchestrator.reporting import build_report, parse_since, render_report

__all__: list[str] = []


@app.command()
def report(
    ctx: typer.Context,
    since: Annotated[
        str, typer.Option("--since", help="Window: 7d, 24h, 2w, or a date (2026-11-24).")
    ] = "7d",
    stuck_after: Annotated[
        float,
        typer.Option("--stuck-after", help="Hours in a daemon-owned status to count as stuck."),
    ] = 1.0,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")] = False,
) -> None:
    """Review time per gate (median, p90, weekly), working time, regenerations, cost, stuck."""
    url = config_from(ctx).settings.database_url
    now = utcnow()
    try:
        start = parse_since(since, now)
    except ValueError as exc:
        raise fail(str(exc)) from None

    async def load() -> dict[str, Any]:
        engine = create_engine(url)
        try:
            async with session_factory(engine)() as session:
                return await build_report(
                    session, since=start, now=now, stuck_after=timedelta(hours=stuck_after)
                )
        finally:
            await engine.dispose()

    try:
        result = asyncio.run(load())
    except (SQLAlchemyError, OSError) as exc:
        raise fail(database_failure(url, exc)) from None
    if as_json:
        typer.echo(json.dumps(result, indent=2, ensure_ascii=False))
    else:
        typer.echo(render_report(result))
