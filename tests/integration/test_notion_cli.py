"""`reelgate setup-notion` / `check-notion` against the local Notion API server."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

import orchestrator.cli.notion_cmds  # noqa: F401  (registers the commands)
from notion_sync.local_api import LocalNotionServer
from orchestrator.cli.app import app
from orchestrator.state.status import notion_status_options


@pytest.fixture
def env(
    local_notion: LocalNotionServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> LocalNotionServer:
    monkeypatch.chdir(tmp_path)  # keep any developer .env out of the test
    monkeypatch.setenv("REELGATE_NOTION_BASE_URL", local_notion.base_url)
    monkeypatch.setenv("REELGATE_NOTION_TOKEN", "cli-secret-token")
    monkeypatch.setenv("REELGATE_NOTION_REQUESTS_PER_SECOND", "1000")
    return local_notion


def _env_lines(output: str) -> list[str]:
    return [line for line in output.splitlines() if line.startswith("REELGATE_")]


def test_setup_notion_prints_env_lines_and_is_idempotent(
    env: LocalNotionServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    runner = CliRunner()
    first = runner.invoke(app, ["setup-notion", "--parent-page", env.root_page_id])
    assert first.exit_code == 0, first.output
    lines = _env_lines(first.stdout)
    assert [line.split("=")[0] for line in lines] == [
        "REELGATE_NOTION_TASKS_DATA_SOURCE_ID",
        "REELGATE_NOTION_VIDEOS_DATA_SOURCE_ID",
    ]
    databases = len(env.state.databases)
    second = runner.invoke(app, ["setup-notion", "--parent-page", env.root_page_id])
    assert second.exit_code == 0, second.output
    assert _env_lines(second.stdout) == lines
    assert len(env.state.databases) == databases == 2
    assert "cli-secret-token" not in first.output + second.output

    # The Status column holds every pipeline label (check-notion verifies each one).
    for line in lines:
        key, value = line.split("=", 1)
        monkeypatch.setenv(key, value)
    check = runner.invoke(app, ["check-notion"])
    assert check.exit_code == 0, check.output
    assert "schema OK" in check.stdout
    assert len(notion_status_options()) >= 20


def test_check_notion_reports_missing_ids(env: LocalNotionServer) -> None:
    result = CliRunner().invoke(app, ["check-notion"])
    assert result.exit_code == 1
    assert "REELGATE_NOTION_TASKS_DATA_SOURCE_ID is not set" in result.stdout
    assert "REELGATE_NOTION_VIDEOS_DATA_SOURCE_ID is not set" in result.stdout
