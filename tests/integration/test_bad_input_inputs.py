"""Every row of bad_input_rows_inputs.ROWS gives its author the outcome it states.

CLI rows run the real `reelgate` entry point in-process (`run_cli`, the one error
boundary `main()` uses) with the row's settings; comment and readiness rows play a
scenario with the daemon against the local Notion API and look at the page's
comments or at `/readyz` over HTTP.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx
import pytest

from notion_sync.richtext import text_items
from orchestrator.cli import app
from orchestrator.cli import errors as cli_errors
from orchestrator.daemon.health import HealthServer, build_health_app
from orchestrator.pipeline.drift import schema_readiness
from tests.fixtures.pipeline import PipelineEnv
from tests.integration.bad_input_rows_inputs import ROWS, Row

pytestmark = pytest.mark.timeout(180)

PASSWORD = "row-pw-never-shown-42"


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_the_table_is_big_enough_and_covers_each_outcome() -> None:
    assert len(ROWS) >= 12
    assert {r.outcome for r in ROWS} == {"cli", "comment", "readiness"}
    assert len({r.id for r in ROWS}) == len(ROWS)


@pytest.mark.parametrize("row", [r for r in ROWS if r.outcome == "cli"], ids=lambda r: r.id)
def test_cli_row(
    row: Row,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    import os

    for key in [k for k in os.environ if k.startswith("REELGATE_")]:
        monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(cli_errors, "_context", cli_errors._Context())
    empty = tmp_path / "empty.db"
    empty.touch()
    substitutions = {
        "{unreachable}": f"postgresql+asyncpg://reelgate:{PASSWORD}@127.0.0.1:{_closed_port()}/r",
        "{empty_sqlite}": f"sqlite+aiosqlite:///{empty}",
    }
    monkeypatch.setenv("REELGATE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("COLUMNS", "300")
    for key, value in row.env.items():
        monkeypatch.setenv(key, substitutions.get(value, value))

    with pytest.raises(SystemExit) as exited:
        cli_errors.run_cli(app, list(row.argv))

    out = capsys.readouterr()
    text = out.out + out.err
    assert exited.value.code not in (0, None), text
    errors = [line for line in text.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1, text[:2000]
    assert row.expect in errors[0]
    assert "Traceback" not in text
    assert PASSWORD not in text


# -- scenarios: the daemon against the local Notion API ------------------------------


async def _to_storyboard_review(env: PipelineEnv, **task: object) -> str:
    page = env.create_task(clips=3, **task)  # type: ignore[arg-type]
    await env.drive_to(page, "Storyboard Ready")
    return page


def _review(env: PipelineEnv, page: str, text: str, *, prop: str = "Error Log") -> None:
    env.server.admin.update_page(
        page,
        {
            prop: {"rich_text": text_items(text)},
            "Status": {"status": {"name": "Storyboard Error"}},
        },
        as_user="Rita Reviewer",
    )


async def _rename(env: PipelineEnv, data_source: str, old: str, new: str | None) -> None:
    change = {old: None} if new is None else {old: {"name": new}}
    await env.runtime.notion.request(
        "PATCH", f"data_sources/{data_source}", body={"properties": change}
    )


async def five_thousand_numbers(env: PipelineEnv) -> str:
    page = await _to_storyboard_review(env)
    _review(env, page, "Regenerate: shots " + ", ".join(map(str, range(5, 10_004, 2))))
    await env.settle()
    return page


async def huge_note(env: PipelineEnv) -> str:
    page = await _to_storyboard_review(env)
    _review(env, page, "shot 1: " + " ".join(f"n{i:05d}" for i in range(16_700)))
    await env.settle()
    return page


async def huge_brief(env: PipelineEnv) -> str:
    page = env.create_task(clips=2, brief="placeholder")
    brief = "A keeper's last night. " + " ".join(f"b{i:05d}" for i in range(3_400))
    env.server.admin.update_page(page, {"Brief": {"rich_text": text_items(brief)}})
    await env.drive_to(page, "Storyboard Ready")
    return page


async def error_log_renamed(env: PipelineEnv) -> str:
    page = await _to_storyboard_review(env)
    await _rename(env, env.tasks_ds, "Error Log", "Review Notes")
    _review(env, page, "shot 2: more suspense", prop="Review Notes")
    await env.settle()
    return page


async def status_renamed(env: PipelineEnv) -> str:
    page = await _to_storyboard_review(env)
    await _rename(env, env.tasks_ds, "Status", "Stage")
    env.server.admin.update_page(
        page, {"Brief": {"rich_text": text_items("edited")}}, as_user="Cory Creator"
    )
    await env.settle()
    # Nothing reverted while Status is unknown.
    assert not any("Status was set back" in c for c in env.comments(page))
    return page


async def motion_deleted(env: PipelineEnv) -> str:
    await _rename(env, env.videos_ds, "Motion", None)
    return await _to_storyboard_review(env)


SCENARIOS: dict[str, Callable[[PipelineEnv], Awaitable[str]]] = {
    f.__name__: f
    for f in (
        five_thousand_numbers,
        huge_note,
        huge_brief,
        error_log_renamed,
        status_renamed,
        motion_deleted,
    )
}


async def _readyz_body(env: PipelineEnv) -> tuple[int, str]:
    health = HealthServer(
        build_health_app(env.runtime.metrics, schema_readiness(env.runtime.ctx.sessions)),
        port=0,
    )
    await health.start()
    try:
        async with httpx.AsyncClient() as http:
            answer = await http.get(f"http://127.0.0.1:{health.port}/readyz")
        return answer.status_code, json.dumps(answer.json())
    finally:
        await health.stop()


@pytest.mark.parametrize("row", [r for r in ROWS if r.outcome != "cli"], ids=lambda r: r.id)
async def test_scenario_row(row: Row, pipeline_env: PipelineEnv) -> None:
    page = await SCENARIOS[row.scenario](pipeline_env)
    if row.outcome == "comment":
        said = [c for c in pipeline_env.comments(page) if row.expect in c]
        assert len(said) == 1, [c[:300] for c in pipeline_env.comments(page)]
        assert all(len(c) <= 4000 for c in pipeline_env.comments(page))
    else:
        code, body = await _readyz_body(pipeline_env)
        assert code == 503
        assert row.expect in body, body
