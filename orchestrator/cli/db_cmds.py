"""Database commands: migrate, status."""

from __future__ import annotations

from orchestrator.cli.app import app

__all__: list[str] = []


@app.command()
def migrate() -> None:
    """Upgrade the database to the newest schema."""
    from orchestrator.db.migrate import upgrade_to_head
    from orchestrator.settings import Settings

    upgrade_to_head(Settings().database_url)
