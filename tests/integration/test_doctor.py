"""`reelgate doctor` passes on a ready installation and names the fix otherwise.

For Google channels it checks every configured model against the catalogue and asks
Vertex about it (`models.get`, against the strict fake server).
"""

from __future__ import annotations

import dataclasses
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from orchestrator.cli import app
from orchestrator.doctor import run_checks
from orchestrator.providers.settings import GoogleSettings
from tests.fakes.vertex import FakeVertex
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


GOOGLE_KEY = "AIzaDoctorKey-0123456789abcdef"


def _google_env(
    env: PipelineEnv, tmp_path: Path, fake_vertex: FakeVertex, channels: str
) -> dict[str, str]:
    path = tmp_path / "channels.toml"
    path.write_text(channels)
    return _env(env, tmp_path) | {
        "REELGATE_CHANNELS_FILE": str(path),
        "REELGATE_GOOGLE_API_KEY": GOOGLE_KEY,
        "REELGATE_GOOGLE_BASE_URL": fake_vertex.url,
        "REELGATE_GOOGLE_READ_RETRY_ATTEMPTS": "1",
        "COLUMNS": "1000",  # one table row per line, however long the fix
    }


@pytest.mark.timeout(120)
def test_doctor_checks_each_model_with_vertex_and_shows_the_fix_for_a_retired_one(
    pipeline_env: PipelineEnv, tmp_path: Path, fake_vertex: FakeVertex
) -> None:
    env = _google_env(
        pipeline_env,
        tmp_path,
        fake_vertex,
        '[channels.shorts]\nprovider = "google"\n\n'
        '[channels.legacy]\nprovider = "google"\n'
        '[channels.legacy.models]\nstoryboard = "gemini-2.5-flash"\n',
    )
    # Vertex stopped serving the TTS model before the catalogue expected it to.
    fake_vertex.retire("gemini-2.5-flash-tts")

    result = runner.invoke(app, ["doctor"], env=env)

    assert result.exit_code == 1, result.output
    rows = {line.split("│")[1].strip(): line for line in result.output.splitlines() if "│" in line}
    lines = [line for line in result.output.splitlines() if "│ model " in line]
    # The retired override: FAIL, with the key to change and the replacement.
    (retired,) = [line for line in lines if "gemini-2.5-flash was retired" in line]
    assert "FAIL" in retired
    assert "retired on 2026-10-16" in retired
    assert 'set [channels.legacy.models] storyboard = "gemini-3.5-flash"' in retired
    # Current models: asked of Vertex with models.get, and known there.
    (current,) = [line for line in lines if "gemini-3.5-flash: Vertex knows it" in line]
    assert "ok" in current
    assert "retires 2027-05-19" in current
    assert any("veo-3.1-generate-001: Vertex knows it" in line for line in lines)
    # Catalogued, but Vertex answers 404: FAIL with what to do.
    (gone,) = [line for line in lines if "gemini-2.5-flash-tts" in line]
    assert "FAIL" in gone
    assert "404" in gone
    assert "REELGATE_GOOGLE_TTS_MODEL" in gone
    asked = {r.path for r in fake_vertex.requests_for("get_model")}
    assert "v1beta1/publishers/google/models/veo-3.1-generate-001" in asked
    assert all(r.headers["x-goog-api-key"] == GOOGLE_KEY for r in fake_vertex.requests)
    assert GOOGLE_KEY not in result.output
    assert "providers" in rows


@pytest.mark.timeout(120)
async def test_doctor_warns_within_30_days_of_retirement(
    pipeline_env: PipelineEnv, tmp_path: Path, fake_vertex: FakeVertex
) -> None:
    path = tmp_path / "channels.toml"
    path.write_text('[channels.shorts]\nprovider = "google"\n')
    base = pipeline_env.runtime.config
    config = dataclasses.replace(
        base,
        settings=base.settings.model_copy(update={"channels_file": path}),
        google=GoogleSettings(
            _env_file=None,  # type: ignore[call-arg]
            api_key=GOOGLE_KEY,  # type: ignore[arg-type]
            base_url=fake_vertex.url,
            read_retry_attempts=1,
        ),
    )

    checks = await run_checks(config, today=date(2027, 5, 1))

    (storyboard,) = [c for c in checks if c.name == "model storyboard"]
    assert storyboard.ok
    assert storyboard.warning
    assert "gemini-3.5-flash retires on 2027-05-19, in 18 days" in storyboard.detail
    assert "REELGATE_GOOGLE_STORYBOARD_MODEL" in storyboard.detail
    (video,) = [c for c in checks if c.name == "model video"]
    assert video.ok
    assert not video.warning  # Veo 3.1 has no retirement date
