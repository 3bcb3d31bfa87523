"""The `reelgate` command line. Each command module registers itself on `app`."""

from __future__ import annotations

from orchestrator.cli.app import app

# Command modules: importing them registers their commands.
from orchestrator.cli import db_cmds, demo_cmds, notion_cmds, run_cmds  # noqa: F401  isort: skip
from orchestrator.cli import estimate_cmds  # noqa: F401  isort: skip
from orchestrator.cli import report_cmds, review_cmds  # noqa: F401  isort: skip
from orchestrator.cli import admin_cmds  # noqa: F401  isort: skip

__all__ = ["app", "main"]


def main() -> None:
    from orchestrator.cli.errors import run_cli

    run_cli(app)
