"""Prometheus metrics of one daemon.

Each :class:`Metrics` owns its own ``CollectorRegistry`` instead of the process-wide
default, so tests and several daemons in one process never clash on names.
"""

from __future__ import annotations

from typing import Final

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

__all__ = [
    "CLIP_OUTCOMES",
    "CONTENT_TYPE",
    "PROVIDER_KINDS",
    "Metrics",
]

# The classic text format; Prometheus scrapes it with this exact content type.
CONTENT_TYPE: Final = "text/plain; version=0.0.4; charset=utf-8"

PROVIDER_KINDS: Final = ("storyboard", "keyframe", "clip_create", "clip_poll", "narration")
CLIP_OUTCOMES: Final = ("complete", "rai_filtered", "timed_out", "failed", "lost")

# Steps run from under a second (storyboard on the local provider) to many
# minutes (a Veo clip, an assembly), so the buckets span both.
_STEP_BUCKETS: Final = (0.1, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0)
# A review takes from a minute (a quick approval) to days (a weekend).
_REVIEW_BUCKETS: Final = (
    60.0,
    300.0,
    900.0,
    1800.0,
    3600.0,
    7200.0,
    14400.0,
    28800.0,
    86400.0,
    172800.0,
    604800.0,
)
# Provider calls: a poll takes milliseconds, an image or a storyboard seconds,
# a narration up to a minute.
_CALL_BUCKETS: Final = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0)


class Metrics:
    """Every metric the daemon exports, as attributes.

    Use them like any prometheus_client metric::

        metrics.transitions.labels(actor="human", to="queued").inc()
        with metrics.step_seconds.labels(step="keyframes").time(): ...
    """

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry if registry is not None else CollectorRegistry(auto_describe=True)
        r = self.registry

        # Counters (prometheus_client adds the _total suffix on exposition).
        self.notion_requests = Counter(
            "reelgate_notion_requests",
            "Notion API requests by outcome (ok, rate_limited, server_error, client_error, ...).",
            ["outcome"],
            registry=r,
        )
        self.notion_rate_limited = Counter(
            "reelgate_notion_rate_limited",
            "Notion API responses with HTTP 429.",
            registry=r,
        )
        self.notion_retries = Counter(
            "reelgate_notion_retries",
            "Notion API requests sent again after a 429, 5xx, timeout or dropped connection.",
            registry=r,
        )
        self.provider_calls = Counter(
            "reelgate_provider_calls",
            "Generation provider calls by provider and kind "
            "(storyboard, keyframe, clip_create, clip_poll, narration).",
            ["provider", "kind"],
            registry=r,
        )
        self.transitions = Counter(
            "reelgate_transitions",
            "Task status transitions applied, by actor (human, daemon) and target status.",
            ["actor", "to"],
            registry=r,
        )
        self.clips_finished = Counter(
            "reelgate_clips_finished",
            "Clip generations that ended, by outcome "
            "(complete, rai_filtered, timed_out, failed, lost).",
            ["outcome"],
            registry=r,
        )
        self.lost_submissions = Counter(
            "reelgate_lost_submissions",
            "Paid create calls whose operation name was never saved (crash mid-submit).",
            registry=r,
        )
        self.loop_failures = Counter(
            "reelgate_loop_failures",
            "Runs of a daemon loop or scheduled job that raised, by loop "
            "(notion_poll, url_refresh, gauges, drain, operations, worker-N).",
            ["loop"],
            registry=r,
        )
        self.storage_retries = Counter(
            "reelgate_storage_retries",
            "Storage requests sent again after a failure, by backend and reason "
            "(HTTP status, or the connection error's name).",
            ["backend", "reason"],
            registry=r,
        )
        self.cost_usd = Counter(
            "reelgate_cost_usd",
            "Money spent on generation, in US dollars, by provider and model.",
            ["provider", "model"],
            registry=r,
        )

        # Gauges: set from the database by whoever samples them.
        self.outbox_pending = Gauge(
            "reelgate_outbox_pending",
            "Notion writes waiting in the outbox.",
            registry=r,
        )
        self.operations_in_flight = Gauge(
            "reelgate_operations_in_flight",
            "Provider operations submitted and not finished yet.",
            registry=r,
        )
        self.tasks = Gauge(
            "reelgate_tasks",
            "Tasks by status.",
            ["status"],
            registry=r,
        )
        self.loop_consecutive_failures = Gauge(
            "reelgate_loop_consecutive_failures",
            "Failed runs in a row of a daemon loop or job (0 once one succeeds); "
            "at REELGATE_UNHEALTHY_AFTER_FAILURES /healthz answers 503.",
            ["loop"],
            registry=r,
        )
        self.is_leader = Gauge(
            "reelgate_is_leader",
            "1 when this process holds the cluster leader lock (talks to Notion), else 0.",
            registry=r,
        )

        self.step_seconds = Histogram(
            "reelgate_step_seconds",
            "Wall time of one pipeline step.",
            ["step"],
            buckets=_STEP_BUCKETS,
            registry=r,
        )

        self.review_duration_seconds = Histogram(
            "reelgate_review_duration_seconds",
            "Time from a task reaching a review gate to a person's verdict, by gate "
            "(storyboard, keyframes, video, audio, final).",
            ["gate"],
            buckets=_REVIEW_BUCKETS,
            registry=r,
        )
        # Admin signals (deploy/prometheus/alerts.yaml and deploy/grafana/reelgate.json
        # use them; tests/integration/test_alerts_dashboard.py checks every name).
        self.outbox_dead_letters = Gauge(
            "reelgate_outbox_dead_letters",
            "Notion writes that failed for good and were not dropped "
            "(`reelgate dead-letters` lists, replays or drops them).",
            registry=r,
        )
        self.outbox_oldest_age_seconds = Gauge(
            "reelgate_outbox_oldest_age_seconds",
            "Age of the oldest Notion write waiting in the outbox (0 when none waits).",
            registry=r,
        )
        self.notion_schema_drift = Gauge(
            "reelgate_notion_schema_drift",
            "Notion properties reelgate needs that were renamed or deleted while it runs "
            "(/readyz names them; `reelgate check-notion` prints the fix).",
            registry=r,
        )
        self.stuck_tasks = Gauge(
            "reelgate_stuck_tasks",
            "Tasks in a working status for longer than their channel's stuck_after.",
            registry=r,
        )
        self.ready = Gauge(
            "reelgate_ready",
            "1 when /readyz answers 200 (evaluated at each scrape), else 0.",
            registry=r,
        )
        self.provider_up = Gauge(
            "reelgate_provider_up",
            "1 when the generation provider is reachable, 0 while it is failing.",
            ["provider"],
            registry=r,
        )
        self.provider_errors = Counter(
            "reelgate_provider_errors",
            "Failed generation provider calls by provider and kind "
            "(storyboard, keyframe, clip_create, clip_poll, narration).",
            ["provider", "kind"],
            registry=r,
        )
        self.provider_retries = Counter(
            "reelgate_provider_retries",
            "Generation provider calls sent again after a 429 (Vertex took nothing, "
            "billed nothing), by provider and operation.",
            ["provider", "operation"],
            registry=r,
        )
        self.provider_call_seconds = Histogram(
            "reelgate_provider_call_seconds",
            "Wall time of one generation provider call, by provider and kind "
            "(storyboard, keyframe, clip_create, clip_poll, narration).",
            ["provider", "kind"],
            buckets=_CALL_BUCKETS,
            registry=r,
        )
        self.channel_cost_usd = Counter(
            "reelgate_channel_cost_usd",
            "Money spent on generation, in US dollars, by channel.",
            ["channel"],
            registry=r,
        )
        self.channel_budget_per_hour_usd = Gauge(
            "reelgate_channel_budget_per_hour_usd",
            "A channel's budget_per_hour_usd from the channels file (alert threshold).",
            ["channel"],
            registry=r,
        )
        self.notion_requests_per_second_limit = Gauge(
            "reelgate_notion_requests_per_second_limit",
            "The Notion request rate this daemon keeps to (REELGATE_NOTION_REQUESTS_PER_SECOND).",
            registry=r,
        )

    def set_task_counts(self, counts: dict[str, int]) -> None:
        """Replace the per-status task gauge; statuses absent from ``counts`` drop out
        so a status nobody is in any more does not linger at its old value."""
        self.tasks.clear()
        for status, count in counts.items():
            self.tasks.labels(status=status).set(count)

    def render(self) -> bytes:
        """The text exposition of every metric, as served on ``/metrics``."""
        return bytes(generate_latest(self.registry))

    def render_text(self) -> str:
        return self.render().decode("utf-8")
