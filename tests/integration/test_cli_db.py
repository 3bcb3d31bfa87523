"""`reelgate migrate` and `reelgate status` from the command line."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from orchestrator.cli import app

runner = CliRunner()


def test_migrate_then_status_json_is_an_empty_list(db_url: str) -> None:
    env = {"REELGATE_DATABASE_URL": db_url}
    migrated = runner.invoke(app, ["migrate"], env=env)
    assert migrated.exit_code == 0, migrated.output
    result = runner.invoke(app, ["status", "--json"], env=env)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == []


def test_status_lists_tasks_with_clip_progress(sqlite_url: str) -> None:
    import asyncio

    from orchestrator.db import Clip, Task, create_engine, session_factory, upgrade

    async def seed() -> None:
        engine = create_engine(sqlite_url)
        await upgrade(engine)
        async with session_factory(engine)() as session, session.begin():
            task = Task(notion_page_id="p1", title="Lighthouse", status="video_ready", clip_count=3)
            session.add(task)
            await session.flush()
            session.add_all(
                Clip(task_id=task.id, number=n, status=s)
                for n, s in ((1, "complete"), (2, "approved"), (3, "polling"))
            )
            task.cost_usd = 9.6
        await engine.dispose()

    asyncio.run(seed())
    env = {"REELGATE_DATABASE_URL": sqlite_url}
    rows = json.loads(runner.invoke(app, ["status", "--json"], env=env).stdout)
    assert rows[0]["title"] == "Lighthouse"
    assert rows[0]["status"] == "Video Ready"
    assert (rows[0]["clips_done"], rows[0]["clips_total"]) == (2, 3)
    assert rows[0]["cost_usd"] == 9.6
    table = runner.invoke(app, ["status"], env=env)
    assert "Lighthouse" in table.stdout
    assert "2/3" in table.stdout


def test_unreachable_database_is_a_clear_error_without_the_password() -> None:
    env = {"REELGATE_DATABASE_URL": "postgresql+asyncpg://u:s3cretpass@127.0.0.1:1/nope"}
    result = runner.invoke(app, ["status"], env=env)
    assert result.exit_code == 2
    assert "s3cretpass" not in result.output
    assert "cannot use the database" in result.output


def test_invalid_setting_names_the_field() -> None:
    result = runner.invoke(app, ["status"], env={"REELGATE_WORKERS": "zero"})
    assert result.exit_code == 2
    assert "REELGATE_WORKERS" in result.output
