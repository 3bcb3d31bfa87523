"""The admin package's pure parts: naming a task, durations, log lines, op summaries,
the rotated log file, provider timing and the new metrics."""

from __future__ import annotations

import asyncio
import json
import logging
from pathlib import Path

import pytest
import structlog
from prometheus_client.parser import text_string_to_metric_families

from notion_sync.ops import AppendErrorLog, Comment, SetTaskStatus, UpdateTask, UpsertVideoRow
from orchestrator.admin import human_duration, log_files, page_key, render_line, summarize_op
from orchestrator.admin.logs import task_lines
from orchestrator.channels import parse_channels
from orchestrator.cli.story_view import render_story
from orchestrator.errors import ConfigError
from orchestrator.logging import configure_logging
from orchestrator.metrics import Metrics
from orchestrator.providers.local import LocalProvider
from orchestrator.providers.local_settings import LocalProviderSettings
from orchestrator.providers.registry import ProviderRegistry
from orchestrator.providers.settings import GoogleSettings
from orchestrator.providers.timed import timed_providers

PAGE = "1a2b3c4d5e6f4a7b8c9d0e1f2a3b4c5d"


@pytest.mark.parametrize(
    ("ref", "key"),
    [
        (PAGE, PAGE),
        ("1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d", PAGE),
        (PAGE.upper(), PAGE),
        (f"https://www.notion.so/acme/Lighthouse-{PAGE}?pvs=4#block", PAGE),
        (f"https://www.notion.so/{PAGE}", PAGE),
        (f"notion.so/acme/Cafe-{PAGE}/", PAGE),
        # A title ending in hex letters must not shift the id.
        (f"https://www.notion.so/acme/Decaf-beef-{PAGE}", PAGE),
        ("12", None),
        ("lighthouse", None),
        ("https://www.notion.so/acme/Lighthouse", None),
    ],
)
def test_page_key_finds_the_page_id_in_what_admins_paste(ref: str, key: str | None) -> None:
    assert page_key(ref) == key


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0, "0 s"),
        (59.6, "60 s"),
        (119, "119 s"),
        (120, "2 min"),
        (3599, "59 min"),
        (3600, "1 h"),
        (95 * 60, "1 h 35 min"),
        (47 * 3600, "47 h"),
        (50 * 3600, "2 d 2 h"),
        (-5, "0 s"),
    ],
)
def test_human_duration(seconds: float, text: str) -> None:
    assert human_duration(seconds) == text


def test_summaries_say_what_a_write_does() -> None:
    assert summarize_op(SetTaskStatus(page_id="p", status_label="Video Ready")) == (
        "Status -> Video Ready"
    )
    assert summarize_op(UpdateTask(page_id="p", fields={"cost": 1.5})) == "set cost=1.5"
    assert summarize_op(
        UpsertVideoRow(task_page_id="p", clip_number=3, fields={"status": "Ready", "attempt": 2})
    ) == ("clip 3 row: attempt, status")
    long = summarize_op(Comment(page_id="p", text="word " * 40))
    assert len(long) == 70
    assert long.endswith("…")
    assert summarize_op(AppendErrorLog(page_id="p", lines=["a", "b"])) == "Error Log += a / b"


def test_log_lines_are_filtered_by_task_and_level_and_rendered_for_people() -> None:
    lines = [
        json.dumps(
            {"timestamp": "2026-12-01T10:00:00.123456Z", "level": "debug", "event": "a", "task": 3}
        ),
        json.dumps(
            {
                "timestamp": "2026-12-01T10:00:01.000001Z",
                "level": "info",
                "event": "transition_task",
                "task": 3,
                "page": PAGE,
                "from_status": "Queued",
                "to_status": "Storyboard Ready",
                "note": None,
            }
        ),
        json.dumps(
            {
                "timestamp": "2026-12-01T10:00:02Z",
                "level": "info",
                "event": "b",
                "page": "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d",
            }
        ),
        json.dumps(
            {"timestamp": "2026-12-01T10:00:03Z", "level": "error", "event": "c", "task": 30}
        ),
        "[not json]",
        json.dumps(["a", "list"]),
    ]
    mine = list(task_lines(lines, task_id=3, page_id=PAGE, min_level="info"))
    assert [e["event"] for e in mine] == ["transition_task", "b"]
    assert render_line(mine[0]) == (
        "2026-12-01T10:00:01Z  info     transition_task  from_status=Queued "
        'to_status="Storyboard Ready"'
    )
    by_id_only = list(task_lines(lines, task_id=3, page_id=None))
    assert [e["event"] for e in by_id_only] == ["a", "transition_task"]


def test_rotated_log_files_are_read_oldest_first(tmp_path: Path) -> None:
    log = tmp_path / "reelgate.log"
    for name in (
        "reelgate.log",
        "reelgate.log.1",
        "reelgate.log.2",
        "reelgate.log.10",
        "reelgate.log.old",
    ):
        (tmp_path / name).write_text("")
    assert [p.name for p in log_files(log)] == [
        "reelgate.log.10",
        "reelgate.log.2",
        "reelgate.log.1",
        "reelgate.log",
    ]
    assert log_files(tmp_path / "missing.log") == []


def test_the_log_file_gets_json_lines_and_rotates(tmp_path: Path) -> None:
    import io

    log = tmp_path / "logs" / "reelgate.log"
    console = io.StringIO()
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    try:
        configure_logging(
            level="info",
            json=False,
            stream=console,
            log_file=log,
            log_file_max_bytes=600,
            log_file_backups=3,
            secrets=["s3cret-token-value"],
        )
        logger = structlog.get_logger("test")
        for n in range(40):
            logger.info("do_thing", n=n, token="s3cret-token-value")
        logging.getLogger("some.library").warning("library says %s", "hi")
    finally:
        for handler in root.handlers:
            handler.close()
        root.handlers[:], root.level = saved
        structlog.reset_defaults()
    files = log_files(log)
    assert len(files) == 4  # the file and its 3 backups: older lines rolled off
    entries = [json.loads(line) for f in files for line in f.read_text().splitlines()]
    numbers = [e["n"] for e in entries if e["event"] == "do_thing"]
    assert numbers == sorted(numbers)
    assert numbers[-1] == 39
    assert all(e["token"] == "***" for e in entries if e["event"] == "do_thing")
    assert entries[-1]["event"] == "library says hi"
    assert "do_thing" in console.getvalue()  # the console still gets every line
    assert not console.getvalue().lstrip().startswith("{")


def test_channels_stuck_after_and_hourly_budget() -> None:
    channels = parse_channels(
        """
[defaults]
budget_per_hour_usd = 50.0
[defaults.stuck_after]
video = 120
[channels.shorts.stuck_after]
storyboard = 5
"""
    )
    shorts = channels.get("shorts")
    assert (shorts.stuck_after.video, shorts.stuck_after.storyboard) == (120, 5)
    assert shorts.stuck_after.minutes("audio") == 30
    assert shorts.budget_per_hour_usd == 50.0
    with pytest.raises(ConfigError, match=r"stuck_after\.video"):
        parse_channels("[channels.x.stuck_after]\nvideo = 0\n")


def test_provider_calls_are_timed_by_provider_and_kind(tmp_path: Path) -> None:
    metrics = Metrics()
    registry = ProviderRegistry(
        GoogleSettings(),
        LocalProviderSettings(work_dir=tmp_path),
        local_provider=LocalProvider(LocalProviderSettings(work_dir=tmp_path)),
    )
    providers_for = timed_providers(registry.for_channel, metrics)
    channel = parse_channels("[channels.default]\n").default
    providers = providers_for(channel)
    assert providers_for(channel) is providers  # wrapped once
    board = asyncio.run(providers.storyboard.plan_storyboard("a lighthouse", 2, 4, "16:9"))
    assert len(board.shots) == 2
    assert providers.clips.name == "local"
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for f in text_string_to_metric_families(metrics.render_text())
        for s in f.samples
    }
    key = (
        "reelgate_provider_call_seconds_count",
        (("kind", "storyboard"), ("provider", "local")),
    )
    assert samples[key] == 1


def test_a_story_section_without_a_renderer_is_shown_as_a_table() -> None:
    import io

    from rich.console import Console

    out = io.StringIO()
    render_story(
        Console(file=out, width=100),
        {"gate_visits": [{"gate": "Video Ready", "round": 2, "verdict": "Video Error"}]},
    )
    text = out.getvalue()
    assert "Gate visits" in text
    assert "Video Ready" in text
    assert "Video Error" in text


def test_the_new_metrics_are_exported_with_their_labels() -> None:
    m = Metrics()
    m.outbox_dead_letters.set(2)
    m.outbox_oldest_age_seconds.set(61.5)
    m.stuck_tasks.set(1)
    m.ready.set(1)
    m.provider_up.labels(provider="google").set(0)
    m.provider_errors.labels(provider="google", kind="quota").inc()
    m.channel_cost_usd.labels(channel="shorts").inc(3.2)
    m.channel_budget_per_hour_usd.labels(channel="shorts").set(100)
    m.notion_requests_per_second_limit.set(2.5)
    m.provider_call_seconds.labels(provider="google", kind="clip_poll").observe(0.2)
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for f in text_string_to_metric_families(m.render_text())
        for s in f.samples
    }
    assert samples[("reelgate_outbox_dead_letters", ())] == 2
    assert samples[("reelgate_outbox_oldest_age_seconds", ())] == 61.5
    assert samples[("reelgate_stuck_tasks", ())] == 1
    assert samples[("reelgate_ready", ())] == 1
    assert samples[("reelgate_provider_up", (("provider", "google"),))] == 0
    assert (
        samples[("reelgate_provider_errors_total", (("kind", "quota"), ("provider", "google")))]
        == 1
    )
    assert samples[("reelgate_channel_cost_usd_total", (("channel", "shorts"),))] == 3.2
    assert samples[("reelgate_channel_budget_per_hour_usd", (("channel", "shorts"),))] == 100
    assert samples[("reelgate_notion_requests_per_second_limit", ())] == 2.5
    assert (
        samples[
            (
                "reelgate_provider_call_seconds_count",
                (("kind", "clip_poll"), ("provider", "google")),
            )
        ]
        == 1
    )
