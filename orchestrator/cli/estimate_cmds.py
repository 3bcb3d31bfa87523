"""`reelgate estimate`: what a task would cost on a channel, before anything is spent."""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer
from pydantic import SecretStr

from orchestrator.cli.app import app, config_from, fail

__all__: list[str] = []


@app.command()
def estimate(
    ctx: typer.Context,
    channel: Annotated[str, typer.Option(help="Channel name from the channels file.")] = "default",
    clips: Annotated[
        int | None, typer.Option(help="Number of clips (default: the channel's).")
    ] = None,
    seconds: Annotated[
        int | None, typer.Option(help="Seconds per clip: 4, 6 or 8 (default: the channel's).")
    ] = None,
) -> None:
    """Print the cost breakdown of one clean pass (the number the budget check uses).

    Storyboard, clips + 1 keyframes, clips x seconds of video and of narration, at the
    channel's model prices. No provider is called.
    """
    from orchestrator.channels import load_channels
    from orchestrator.errors import ConfigError
    from orchestrator.pipeline.estimate import estimate_breakdown
    from orchestrator.providers.registry import ProviderRegistry
    from reelgate.errors import ReelgateError

    config = config_from(ctx)
    try:
        channels = load_channels(config.settings.channels_file)
    except ConfigError as exc:
        raise fail(str(exc)) from None
    if channel not in channels:
        raise fail(
            f"no channel {channel!r} in {channels.source} (it has: {', '.join(channels.names)})"
        )
    chosen = channels.get(channel)
    count = clips if clips is not None else chosen.defaults.clip_count
    length = seconds if seconds is not None else chosen.defaults.clip_seconds
    if not 1 <= count <= 60:
        raise fail(f"--clips must be 1 to 60 (got {count})")
    if length not in (4, 6, 8):
        raise fail(f"--seconds must be 4, 6 or 8, the durations Veo supports (got {length})")

    google = config.google
    if not (google.api_key.get_secret_value() or google.project):
        # Pricing reads model ids only and nothing here sends a request, so an estimate
        # needs no Google credentials: a stand-in key lets the registry build the set.
        google = google.model_copy(update={"api_key": SecretStr("estimate-without-credentials")})
    registry = ProviderRegistry(google, config.local)
    try:
        providers = registry.for_channel(chosen)
    except ReelgateError as exc:
        raise fail(f"channel {chosen.name!r}: {exc}") from None
    try:
        result = estimate_breakdown(providers, count, length)
    finally:
        asyncio.run(registry.aclose())
    typer.echo(f"Channel {chosen.name} ({result.provider}): {count} clips x {length} s")
    typer.echo(result.table())
    if chosen.budget_usd is not None:
        verdict = "over" if result.total_usd > chosen.budget_usd else "within"
        typer.echo(f"Budget ${chosen.budget_usd:.2f}: {verdict} budget.")
