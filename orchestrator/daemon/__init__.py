"""The long-running daemon: HTTP health/metrics port, leader election, webhook receiver."""

from __future__ import annotations

from orchestrator.daemon.health import (
    HealthServer,
    Readiness,
    ReadinessCheck,
    build_health_app,
    database_readiness,
)
from orchestrator.daemon.leader import DEFAULT_LEADER_KEY, LeaderElector
from orchestrator.daemon.webhook import NotionWebhookReceiver, WebhookSettings

__all__ = [
    "DEFAULT_LEADER_KEY",
    "HealthServer",
    "LeaderElector",
    "NotionWebhookReceiver",
    "Readiness",
    "ReadinessCheck",
    "WebhookSettings",
    "build_health_app",
    "database_readiness",
]
