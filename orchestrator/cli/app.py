"""The `reelgate` Typer application; command modules register on it."""

from __future__ import annotations

import typer
from pydantic import ValidationError

from orchestrator.config import AppConfig

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
        ctx.obj = AppConfig()
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()
        )
        raise fail(f"invalid settings: {problems}") from None


def config_from(ctx: typer.Context) -> AppConfig:
    obj = ctx.find_root().obj
    if not isinstance(obj, AppConfig):
        raise fail("settings were not loaded")
    return obj
