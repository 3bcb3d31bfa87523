"""`reelgate doctor` passes on a ready installation and names the fix otherwise."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from orchestrator.cli import app
from tests.fixtures.pipeline import TOKEN, PipelineEnv

runner = CliRunner()


def _env(env: PipelineEnv, tmp_path: Path) -> dict[str, str]:
    config = env.runtime.config
    return {
        "REELGATE_DATABASE_URL": config.settings.database_url,
        "REELGATE_NOTION_BASE_URL": config.notion.base_url,
        "REELGATE_NOTION_TOKEN": TOKEN,
        "REELGATE_NOTION_TASKS_DATA_SOURCE_ID": env.tasks_ds,
        "REELGATE_NOTION_VIDEOS_DATA_SOURCE_ID": env.videos_ds,
        "REELGATE_STORAGE_LOCAL_DIR": str(tmp_path / "media"),
    }


@pytest.mark.timeout(120)
def test_doctor_passes_on_a_ready_installation(pipeline_env: PipelineEnv, tmp_path: Path) -> None:
    result = runner.invoke(app, ["doctor"], env=_env(pipeline_env, tmp_path))
    assert result.exit_code == 0, result.output
    for name in ("database", "channels", "ffmpeg", "notion", "storage", "providers"):
        assert name in result.output
    assert TOKEN not in result.output


@pytest.mark.timeout(120)
def test_doctor_names_each_problem(pipeline_env: PipelineEnv, tmp_path: Path) -> None:
    bad_channels = tmp_path / "channels.toml"
    bad_channels.write_text('[channels.shorts]\nprovider = "google"\nbudget_usd = -1\n')
    env = _env(pipeline_env, tmp_path) | {
        "REELGATE_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}",
        "REELGATE_NOTION_VIDEOS_DATA_SOURCE_ID": "",
        "REELGATE_CHANNELS_FILE": str(bad_channels),
    }
    result = runner.invoke(app, ["doctor"], env=env)
    assert result.exit_code == 1
    assert "reelgate migrate" in result.output
    assert "setup-notion" in result.output
    assert "budget_usd" in result.output
