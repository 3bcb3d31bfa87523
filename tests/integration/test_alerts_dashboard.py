"""deploy/prometheus/alerts.yaml and deploy/grafana/reelgate.json against a running daemon.

Every metric the alerts and panels use must be on /metrics of `reelgate run` (so a
renamed metric fails here instead of leaving a dashboard blank and an alert
silent), with the labels they group and match by.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from orchestrator.daemon.daemon import Daemon
from orchestrator.daemon.health import HealthServer, build_health_app, database_readiness
from orchestrator.metrics import Metrics
from tests.fixtures.pipeline import PipelineEnv

pytestmark = pytest.mark.timeout(180)

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
ALERTS = DEPLOY / "prometheus" / "alerts.yaml"
DASHBOARD = DEPLOY / "grafana" / "reelgate.json"

_METRIC = re.compile(r"\b(reelgate_[a-z0-9_]+)\b")
_GROUPING = re.compile(r"\b(?:by|on|without|ignoring)\s*\(([^)]*)\)")
_MATCHERS = re.compile(r"\b(reelgate_[a-z0-9_]+)\{([^}]*)\}")
_LEGEND = re.compile(r"\{\{\s*(\w+)\s*\}\}")
# Labels Prometheus adds to every scraped series, and the histogram bucket label.
_TARGET_LABELS = {"instance", "job", "le"}


def alert_rules() -> list[dict[str, Any]]:
    doc = yaml.safe_load(ALERTS.read_text())
    return [rule for group in doc["groups"] for rule in group["rules"]]


def dashboard_targets() -> Iterator[tuple[str, dict[str, Any]]]:
    doc = json.loads(DASHBOARD.read_text())
    for panel in doc["panels"]:
        for target in panel.get("targets", []):
            yield panel["title"], target


def expressions() -> list[tuple[str, str, str]]:
    """(where, expr, legend) for every alert and every panel query."""
    found = [(f"alert {r['alert']}", str(r["expr"]), "") for r in alert_rules()]
    found += [
        (f"panel {title!r}", str(t["expr"]), str(t.get("legendFormat", "")))
        for title, t in dashboard_targets()
    ]
    return found


def served_series(exposition: str) -> dict[str, str]:
    """Every series name /metrics serves (counter `_total`, histogram `_bucket`...),
    with its family's type, including families that have no sample yet."""
    series: dict[str, str] = {}
    for family in text_string_to_metric_families(exposition):
        suffixes = {
            "counter": ("_total", "_created"),
            "histogram": ("_bucket", "_sum", "_count", "_created"),
            "gauge": ("",),
        }.get(family.type, ("",))
        for suffix in suffixes:
            series[family.name + suffix] = family.type
    return series


def label_names(metrics: Metrics) -> dict[str, set[str]]:
    """Series name -> the labels its metric carries (from the daemon's own collectors)."""
    out: dict[str, set[str]] = {}
    for collector in vars(metrics).values():
        name = getattr(collector, "_name", None)
        labels = getattr(collector, "_labelnames", None)
        if not isinstance(name, str) or labels is None:
            continue
        for suffix in ("", "_total", "_bucket", "_sum", "_count"):
            out[name + suffix] = set(labels)
    return out


def problems(served: dict[str, str], labels: dict[str, set[str]]) -> list[str]:
    found = []
    for where, expr, legend in expressions():
        names = set(_METRIC.findall(expr))
        if not names:
            found.append(f"{where}: uses no reelgate metric: {expr}")
        for name in sorted(names - set(served)):
            found.append(f"{where}: {name} is not on /metrics")
        known = set().union(*(labels.get(n, set()) for n in names)) | _TARGET_LABELS
        for group in _GROUPING.findall(expr):
            for label in filter(None, (part.strip() for part in group.split(","))):
                if label not in known:
                    found.append(f"{where}: groups by {label!r}, which none of {names} has")
        for name, matchers in _MATCHERS.findall(expr):
            for label in re.findall(r"(\w+)\s*=~?|(\w+)\s*!=", matchers):
                used = label[0] or label[1]
                if used not in labels.get(name, set()) | _TARGET_LABELS:
                    found.append(f"{where}: {name} has no label {used!r}")
        for label in _LEGEND.findall(legend):
            if label not in known:
                found.append(f"{where}: legend shows {{{{{label}}}}}, which no series has")
        if expr.count("(") != expr.count(")"):
            found.append(f"{where}: unbalanced parentheses: {expr}")
    return found


async def _serve_and_scrape(env: PipelineEnv) -> tuple[str, int]:
    """Run the daemon with its HTTP port until the task reaches its gate; scrape it."""
    page = env.create_task(clips=2, channel="autopilot")
    daemon = Daemon(env.runtime, idle_sleep=0.1)
    health = HealthServer(
        build_health_app(
            env.runtime.metrics,
            database_readiness(env.runtime.engine),
            failing_loops=daemon.supervisor.failing,
        ),
        port=0,
    )
    await health.start()
    running = asyncio.create_task(daemon.run())
    try:
        for _ in range(600):
            if env.status(page) == "Video Ready":
                break
            await asyncio.sleep(0.1)
        assert env.status(page) == "Video Ready"
        await daemon.update_gauges()
        async with httpx.AsyncClient() as http:
            ready = await http.get(f"http://127.0.0.1:{health.port}/readyz")
            scraped = await http.get(f"http://127.0.0.1:{health.port}/metrics")
        assert scraped.status_code == 200
        return scraped.text, ready.status_code
    finally:
        daemon.stop()
        await running
        await health.stop()


async def test_every_metric_the_alerts_and_dashboard_use_is_served_by_a_running_daemon(
    pipeline_env: PipelineEnv,
) -> None:
    exposition, ready_status = await _serve_and_scrape(pipeline_env)
    served = served_series(exposition)
    labels = label_names(pipeline_env.runtime.metrics)
    assert problems(served, labels) == []

    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(exposition)
        for s in family.samples
    }
    # The run itself shows up: a leader, readiness as /readyz said, work done.
    assert ready_status == 200
    assert samples[("reelgate_ready", ())] == 1
    assert samples[("reelgate_is_leader", ())] == 1
    assert samples[("reelgate_stuck_tasks", ())] == 0
    assert samples[("reelgate_outbox_dead_letters", ())] == 0
    assert samples[("reelgate_notion_requests_per_second_limit", ())] > 0
    assert samples[("reelgate_clips_finished_total", (("outcome", "complete"),))] == 2
    assert samples[("reelgate_tasks", (("status", "video_ready"),))] == 1
    polls = (
        "reelgate_provider_call_seconds_count",
        (("kind", "clip_create"), ("provider", "local")),
    )
    assert samples[polls] == 2
    assert ("reelgate_channel_cost_usd_total", (("channel", "autopilot"),)) in samples


def test_the_check_catches_a_missing_metric_and_a_wrong_label() -> None:
    metrics = Metrics()
    served = served_series(metrics.render_text())
    labels = label_names(metrics)
    assert problems(served, labels) == []
    del served["reelgate_outbox_dead_letters"]
    labels["reelgate_channel_cost_usd_total"] = labels["reelgate_channel_budget_per_hour_usd"] = {
        "provider"
    }
    found = problems(served, labels)
    assert "alert ReelgateDeadLetters: reelgate_outbox_dead_letters is not on /metrics" in found
    assert any("ReelgateSpendOverBudget: groups by 'channel'" in p for p in found)


def test_the_alerts_cover_what_is_worth_waking_for() -> None:
    rules = {rule["alert"]: rule for rule in alert_rules()}
    wanted = {
        "ReelgateNoLeader": ("reelgate_is_leader", "5m"),
        "ReelgateOutboxBehind": ("reelgate_outbox_oldest_age_seconds) > 600", None),
        "ReelgateDeadLetters": ("reelgate_outbox_dead_letters) > 0", None),
        "ReelgateStuckTask": ("reelgate_stuck_tasks", None),
        "ReelgateProviderErrors": ("reelgate_provider_errors_total", None),
        "ReelgateProviderDown": ("reelgate_provider_up", None),
        "ReelgateSpendOverBudget": ("reelgate_channel_budget_per_hour_usd", None),
        "ReelgateNotReady": ("reelgate_ready", None),
    }
    for name, (fragment, duration) in wanted.items():
        rule = rules[name]
        assert fragment in " ".join(str(rule["expr"]).split()), name
        if duration:
            assert rule["for"] == duration
        assert rule["labels"]["severity"] in ("page", "ticket")
        assert rule["annotations"]["summary"]
        assert rule["annotations"]["description"]


def test_the_dashboard_has_the_panels_admins_look_at() -> None:
    doc = json.loads(DASHBOARD.read_text())
    titles = {panel["title"] for panel in doc["panels"]}
    assert {
        "Tasks by status",
        "Clip outcomes",
        "Provider latency",
        "Notion requests against the limit",
        "Outbox depth and age",
        "Spend over time",
    } <= titles
    ids = [panel["id"] for panel in doc["panels"]]
    assert len(ids) == len(set(ids))
    for panel in doc["panels"]:
        grid = panel["gridPos"]
        assert grid["x"] + grid["w"] <= 24, panel["title"]


def _promtool() -> str:
    import shutil

    found = shutil.which("promtool")
    if found is None:
        pytest.skip("promtool is not installed (Debian: apt-get install prometheus)")
    return found


def test_promtool_accepts_the_rules_their_unit_tests_and_the_dashboard_queries(
    tmp_path: Path,
) -> None:
    import subprocess

    promtool = _promtool()
    for args in (
        ["check", "rules", str(ALERTS)],
        ["test", "rules", str(DEPLOY / "prometheus" / "alerts_test.yaml")],
    ):
        done = subprocess.run([promtool, *args], capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stdout + done.stderr
    # promtool parses PromQL only inside rule files: each panel query as a recording rule.
    queries = {
        "groups": [
            {
                "name": "dashboard",
                "rules": [
                    {"record": f"dashboard:query_{i}", "expr": target["expr"]}
                    for i, (_, target) in enumerate(dashboard_targets())
                ],
            }
        ]
    }
    path = tmp_path / "dashboard_queries.yaml"
    path.write_text(yaml.safe_dump(queries))
    done = subprocess.run(
        [promtool, "check", "rules", str(path)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stdout + done.stderr
