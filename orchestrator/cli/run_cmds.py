"""`reelgate run`: the daemon."""

from __future__ import annotations

import asyncio
import signal
import sys

import typer

from orchestrator.cli.app import app, config_from, fail
from orchestrator.config import AppConfig
from orchestrator.errors import ReelgateError
from orchestrator.logging import configure_logging

__all__: list[str] = []


async def _serve(config: AppConfig, *, until_idle: bool, workers: int | None) -> None:
    from orchestrator.daemon.daemon import Daemon
    from orchestrator.daemon.health import (
        HealthServer,
        all_ready,
        build_health_app,
        database_readiness,
    )
    from orchestrator.daemon.provider_health import provider_readiness
    from orchestrator.daemon.runtime import build_runtime, prepare
    from orchestrator.daemon.webhook import NotionWebhookReceiver
    from orchestrator.db.engine import ping
    from orchestrator.pipeline.drift import schema_readiness

    runtime = await build_runtime(config)
    try:
        # Unreachable: one line and a non-zero exit, not loops failing forever.
        await ping(runtime.engine)
        await prepare(runtime)
        daemon = Daemon(runtime)
        webhook_settings = config.webhook
        routes = []
        if webhook_settings.enabled:
            # A webhook only hurries the next poll; polling stays the reconciliation
            # path, and poll_notion does nothing on a replica that is not the leader.
            async def on_page_event(page_id: str) -> None:
                await daemon.poll_notion_now()

            receiver = NotionWebhookReceiver(
                webhook_settings.verification_token,
                on_page_event,
                token_file=webhook_settings.token_file,
            )
            routes = receiver.routes(webhook_settings.path)
        health = HealthServer(
            build_health_app(
                runtime.metrics,
                all_ready(
                    database_readiness(runtime.engine),
                    schema_readiness(runtime.ctx.sessions),
                    provider_readiness(
                        runtime.ctx.sessions,
                        runtime.ctx.channels,
                        runtime.metrics,
                        threshold=config.settings.step_failures_before_comment,
                    ),
                ),
                extra_routes=routes,
                failing_loops=daemon.supervisor.failing,
            ),
            host=config.settings.http_host,
            port=config.settings.http_port,
        )
        await health.start()
        loop = asyncio.get_running_loop()

        def shut_down() -> None:
            health.mark_draining()
            daemon.stop()

        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, shut_down)
        try:
            await daemon.run(until_idle=until_idle, workers=workers)
        finally:
            await health.stop()
    finally:
        await runtime.close()


@app.command()
def run(
    ctx: typer.Context,
    until_idle: bool = typer.Option(
        False, "--until-idle", help="Exit once nothing is runnable, in flight or unsent."
    ),
    workers: int | None = typer.Option(None, help="Worker loops (default REELGATE_WORKERS)."),
) -> None:
    """Run the daemon: Notion poller, outbox drainer, workers, operation poller."""
    config = config_from(ctx)
    # The daemon's log is its output: stdout, JSON unless on a terminal.
    configure_logging(
        level=config.settings.log_level,
        json=config.settings.log_json,
        secrets=config.secrets(),
        stream=sys.stdout,
        log_file=config.settings.log_file,
        log_file_max_bytes=int(config.settings.log_file_max_mb * 1024 * 1024),
        log_file_backups=config.settings.log_file_backups,
    )
    try:
        asyncio.run(_serve(config, until_idle=until_idle, workers=workers))
    except ReelgateError as exc:
        raise fail(str(exc)) from None
