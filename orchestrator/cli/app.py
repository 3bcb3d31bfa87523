"""The `reelgate` Typer application; command modules register on it."""

from __future__ import annotations

import typer

__all__ = ["app"]

app = typer.Typer(
    name="reelgate",
    help="Notion-driven AI video production daemon.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,  # locals may hold secrets
)
