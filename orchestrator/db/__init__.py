"""The orchestrator's database: models, engines, migrations."""

from __future__ import annotations

from orchestrator.db.engine import create_engine, is_postgres, ping, redact_url, session_factory
from orchestrator.db.migrate import alembic_config, upgrade, upgrade_to_head
from orchestrator.db.models import (
    Base,
    Clip,
    CostEntry,
    Event,
    Keyframe,
    OutboxItem,
    ProviderPacing,
    ReviewLine,
    ReviewVisit,
    SyncState,
    Task,
)
from orchestrator.db.outbox_signal import mark_outbox_write, on_outbox_commit
from orchestrator.db.types import UTCDateTime, utcnow

__all__ = [
    "Base",
    "Clip",
    "CostEntry",
    "Event",
    "Keyframe",
    "OutboxItem",
    "ProviderPacing",
    "ReviewLine",
    "ReviewVisit",
    "SyncState",
    "Task",
    "UTCDateTime",
    "alembic_config",
    "create_engine",
    "is_postgres",
    "mark_outbox_write",
    "on_outbox_commit",
    "ping",
    "redact_url",
    "session_factory",
    "upgrade",
    "upgrade_to_head",
    "utcnow",
]
