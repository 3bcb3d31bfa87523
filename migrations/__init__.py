"""Alembic migrations (run through `reelgate migrate`)."""
