"""The long-running daemon: HTTP health/metrics port, leader election, webhook receiver,
and the supervisor every loop and job runs under."""

from __future__ import annotations

from orchestrator.daemon.health import (
    FailingLoops,
    HealthServer,
    Readiness,
    ReadinessCheck,
    all_ready,
    build_health_app,
    database_readiness,
)
from orchestrator.daemon.leader import DEFAULT_LEADER_KEY, LeaderElector
from orchestrator.daemon.supervisor import LoopState, Supervisor
from orchestrator.daemon.webhook import NotionWebhookReceiver, WebhookSettings

__all__ = [
    "DEFAULT_LEADER_KEY",
    "FailingLoops",
    "HealthServer",
    "LeaderElector",
    "LoopState",
    "NotionWebhookReceiver",
    "Readiness",
    "ReadinessCheck",
    "Supervisor",
    "WebhookSettings",
    "all_ready",
    "build_health_app",
    "database_readiness",
]
