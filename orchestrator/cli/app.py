"""The `reelgate` Typer application; command modules register on it."""

from __future__ import annotations

import sys

import typer
from pydantic import ValidationError

from orchestrator.config import AppConfig
from orchestrator.logging import configure_logging

__all__ = ["app", "config_from", "fail"]

app = typer.Typer(
    name="reelgate",
    help="Notion-driven AI video production daemon.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,  # locals may hold secrets
)


def fail(message: str, code: int = 2) -> typer.Exit:
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    return typer.Exit(code)


@app.callback()
def _root(ctx: typer.Context) -> None:
    """Build the settings once; every command reads them from the context."""
    try:
        config = AppConfig()
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()
        )
        raise fail(f"invalid settings: {problems}") from None
    ctx.obj = config
    # Commands print data on stdout (status --json, setup-notion's .env lines):
    # their log lines go to stderr. `reelgate run` logs to stdout instead.
    configure_logging(
        level=config.settings.log_level,
        json=config.settings.log_json,
        secrets=config.secrets(),
        stream=sys.stderr,
    )


def config_from(ctx: typer.Context) -> AppConfig:
    obj = ctx.find_root().obj
    if not isinstance(obj, AppConfig):
        raise fail("settings were not loaded")
    return obj
