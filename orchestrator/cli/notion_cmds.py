"""Notion commands: setup-notion, check-notion, local-notion."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer

from orchestrator.cli.app import app, config_from, fail

__all__: list[str] = []


def _install_channel_labels(ctx: typer.Context) -> None:
    """The channels file's `[statuses]` become the process's labels (state/labels.py)."""
    from orchestrator.channels import load_channels
    from orchestrator.errors import ConfigError
    from orchestrator.state.labels import install_labels

    try:
        channels = load_channels(config_from(ctx).settings.channels_file)
    except ConfigError as exc:
        raise fail(str(exc)) from None
    install_labels(channels.status_labels)


@app.command("setup-notion")
def setup_notion_cmd(
    ctx: typer.Context,
    parent_page: Annotated[
        str, typer.Option("--parent-page", help="Id of the Notion page to create the databases in.")
    ],
) -> None:
    """Create the Tasks and Videos databases and their views (idempotent); print .env lines.

    The Status options are the channels file's labels (`[statuses]`, defaults otherwise).
    """
    from notion_sync.client import NotionClient
    from notion_sync.errors import NotionError
    from notion_sync.schema import setup_notion
    from orchestrator.notion_setup import status_options

    _install_channel_labels(ctx)
    settings = config_from(ctx).notion
    options = status_options()

    async def run() -> None:
        async with NotionClient(settings) as client:
            result = await setup_notion(client, parent_page, options, settings=settings)
        if result.created:
            typer.echo(f"Created: {', '.join(result.created)}", err=True)
        else:
            typer.echo("The databases and views already exist; nothing created.", err=True)
        for warning in result.warnings:
            typer.echo(f"warning: {warning}", err=True)
        typer.echo("# Add these lines to your .env:", err=True)
        for line in result.env_lines():
            typer.echo(line)

    try:
        asyncio.run(run())
    except NotionError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=1) from exc


@app.command("check-notion")
def check_notion_cmd(ctx: typer.Context) -> None:
    """Check both Notion data sources: properties, Status labels, and the views.

    Problems (exit 1) stop the daemon; advice (missing views, unmapped labels) does not.
    """
    from notion_sync.client import NotionClient
    from notion_sync.errors import NotionError
    from notion_sync.schema import check_schema
    from notion_sync.views import missing_views
    from orchestrator.notion_setup import label_mapping, status_options

    _install_channel_labels(ctx)
    settings = config_from(ctx).notion
    labels = label_mapping()
    review = [o.name for o in status_options() if o.needs_review]

    async def run() -> tuple[list[str], list[str]]:
        async with NotionClient(settings) as client:
            report = await check_schema(client, settings, status_labels=labels)
            advice = list(report.advice)
            if not report.problems:
                advice += await missing_views(client, settings, review)
        return report.problems, advice

    try:
        problems, advice = asyncio.run(run())
    except NotionError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=1) from exc
    if problems:
        typer.echo(f"Notion schema check failed ({len(problems)} problems):")
        for problem in problems:
            typer.echo(f"- {problem}")
    for item in advice:
        typer.echo(f"advice: {item}")
    if problems:
        raise typer.Exit(code=1)
    typer.echo("Notion schema OK: Tasks and Videos have every property reelgate needs.")


@app.command("local-notion")
def local_notion_cmd(
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8765,
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    state: Annotated[
        Path | None, typer.Option(help="JSON file to load and save the workspace in.")
    ] = None,
    token: Annotated[
        list[str] | None,
        typer.Option(
            help="A bearer token the server accepts; repeat for several integrations "
            "(default: any token). Others get 401 unauthorized."
        ),
    ] = None,
    rate: Annotated[
        float, typer.Option(help="Requests/s each token may average (0: no rate limit).")
    ] = 3.0,
    burst: Annotated[int, typer.Option(help="Requests each token may burst.")] = 10,
) -> None:
    """Run the local Notion-compatible API server (blocks until Ctrl-C)."""
    from notion_sync.local_api import Knobs, serve

    knobs = Knobs(rate=rate, burst=burst, rate_limit_enabled=rate > 0)
    serve(host=host, port=port, state_file=state, token=token or None, knobs=knobs)
