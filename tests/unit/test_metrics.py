"""Metrics: own registry per instance, every documented series is exported."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

from orchestrator.metrics import CONTENT_TYPE, Metrics


def _samples(metrics: Metrics) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    out: dict[tuple[str, tuple[tuple[str, str], ...]], float] = {}
    for family in text_string_to_metric_families(metrics.render_text()):
        for sample in family.samples:
            out[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return out


def test_two_instances_do_not_clash_and_count_separately() -> None:
    a, b = Metrics(), Metrics()
    a.notion_rate_limited.inc()
    a.notion_rate_limited.inc()
    b.notion_rate_limited.inc()
    assert _samples(a)[("reelgate_notion_rate_limited_total", ())] == 2
    assert _samples(b)[("reelgate_notion_rate_limited_total", ())] == 1


def test_every_series_is_rendered_with_its_labels() -> None:
    m = Metrics()
    m.notion_requests.labels(outcome="ok").inc()
    m.provider_calls.labels(provider="google", kind="clip_create").inc()
    m.transitions.labels(actor="human", to="queued").inc()
    m.clips_finished.labels(outcome="rai_filtered").inc()
    m.lost_submissions.inc()
    m.notion_retries.inc(2)
    m.storage_retries.labels(backend="r2", reason="503").inc()
    m.provider_retries.labels(provider="google", operation="start_clip").inc()
    m.cost_usd.labels(provider="google", model="veo-3.1-generate-001").inc(3.2)
    m.outbox_pending.set(7)
    m.operations_in_flight.set(3)
    m.tasks.labels(status="queued").set(2)
    m.is_leader.set(1)
    m.step_seconds.labels(step="keyframes").observe(1.5)

    s = _samples(m)
    assert s[("reelgate_notion_requests_total", (("outcome", "ok"),))] == 1
    assert (
        s[("reelgate_provider_calls_total", (("kind", "clip_create"), ("provider", "google")))] == 1
    )
    assert s[("reelgate_transitions_total", (("actor", "human"), ("to", "queued")))] == 1
    assert s[("reelgate_clips_finished_total", (("outcome", "rai_filtered"),))] == 1
    assert s[("reelgate_lost_submissions_total", ())] == 1
    assert s[("reelgate_notion_retries_total", ())] == 2
    assert s[("reelgate_storage_retries_total", (("backend", "r2"), ("reason", "503")))] == 1
    key = (("operation", "start_clip"), ("provider", "google"))
    assert s[("reelgate_provider_retries_total", key)] == 1
    cost = s[
        ("reelgate_cost_usd_total", (("model", "veo-3.1-generate-001"), ("provider", "google")))
    ]
    assert abs(cost - 3.2) < 1e-9
    assert s[("reelgate_outbox_pending", ())] == 7
    assert s[("reelgate_operations_in_flight", ())] == 3
    assert s[("reelgate_tasks", (("status", "queued"),))] == 2
    assert s[("reelgate_is_leader", ())] == 1
    assert s[("reelgate_step_seconds_count", (("step", "keyframes"),))] == 1
    assert s[("reelgate_step_seconds_sum", (("step", "keyframes"),))] == 1.5


def test_set_task_counts_drops_statuses_that_emptied() -> None:
    m = Metrics()
    m.set_task_counts({"queued": 2, "planning": 1})
    m.set_task_counts({"planning": 3})
    s = _samples(m)
    assert ("reelgate_tasks", (("status", "queued"),)) not in s
    assert s[("reelgate_tasks", (("status", "planning"),))] == 3


def test_content_type_is_the_classic_text_format() -> None:
    assert CONTENT_TYPE.startswith("text/plain; version=0.0.4")
