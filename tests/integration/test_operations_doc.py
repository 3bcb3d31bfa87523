"""Every command shown in docs/operations.md runs, and prints what the doc shows.

The doc's `console` blocks are `$ command` lines, each followed by its output;
its `sh` blocks are commands without output. Each runs as an admin types it (a
`reelgate` command in this process, through the same Typer app as the console
script; everything else, and whatever a command is piped into, in the shell), in
one of three places:

- `seeded`: a database with one task's day of history (tests/helpers/admin_seed.py)
  at the default `reelgate-data/reelgate.db`, with `deploy/` beside it;
- `daemon`: a running daemon (in this process) against the local Notion API, with
  its HTTP port and a log file, after one task reached its video gate;
- `postgres`: a PostgreSQL database (skipped when none answers).

The output shown must appear, line by line and in order, in what the command
printed, once times, ids and durations are masked and table borders dropped. A
block whose output starts with `error:` expects the command to fail.

`REELGATE_DOC_PRINT=1 pytest tests/integration/test_operations_doc.py -s` prints
every command's real output, for updating the doc.
"""

from __future__ import annotations

import asyncio
import os
import re
import shlex
import sys
import threading
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from typer.testing import CliRunner

from notion_sync.local_api.server import LocalNotionServer
from orchestrator.cli import app
from orchestrator.daemon.daemon import Daemon
from orchestrator.daemon.health import HealthServer, build_health_app, database_readiness
from orchestrator.logging import configure_logging
from tests.fixtures.pipeline import TOKEN, PipelineEnv, make_pipeline_env
from tests.helpers.admin_seed import seed_story

pytestmark = [pytest.mark.timeout(300), pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "operations.md"
PORT_IN_DOC = "127.0.0.1:9477"
COLUMNS = "140"


@dataclass
class Shown:
    command: str
    output: list[str] = field(default_factory=list)
    line: int = 0

    @property
    def fails(self) -> bool:
        return bool(self.output) and self.output[0].startswith("error:")


def shown_commands(text: str) -> list[Shown]:
    """Every command in the doc's console and sh blocks, in order, with its output."""
    found: list[Shown] = []
    kind: str | None = None
    for number, line in enumerate(text.splitlines(), start=1):
        if line.startswith("```"):
            kind = None if kind is not None else (line[3:].strip() or "text")
            continue
        if kind == "console":
            if line.startswith("$ "):
                found.append(Shown(line[2:].strip(), line=number))
            elif found and found[-1].line and line.strip():
                found[-1].output.append(line)
        elif kind == "sh" and line.strip() and not line.lstrip().startswith("#"):
            found.append(Shown(line.strip(), line=number))
    return found


def scenario_of(command: str) -> str:
    if command.startswith(("pg_dump", "pg_restore")):
        return "postgres"
    if command.startswith(("reelgate logs", "curl", "reelgate check-notion")):
        return "daemon"
    return "seeded"


_MASKS = [
    (re.compile(r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)?"), "<time>"),
    (re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"), "<id>"),
    (re.compile(r"\b[0-9a-f]{32}\b"), "<id>"),
    (re.compile(r"local-ops/[0-9a-f-]+"), "local-ops/<op>"),
    (re.compile(r"by \S+@\S+"), "by <who>"),
    (re.compile(r"task-\d+-[0-9a-f]+"), "task-<ref>"),
    (re.compile(r"\b\d+(\.\d+)? ?(s|min|h|d|m)\b"), "<duration>"),
    (re.compile(r"(<duration> ?)+"), "<duration> "),
    (re.compile(r"\"seconds_in_previous\": [\d.]+"), '"seconds_in_previous": <n>'),
    (re.compile(r"seconds_in_previous=[\d.]+"), "seconds_in_previous=<n>"),
]
_BORDERS = re.compile(r"[│┃┏┓┗┛┡┩╇┳┻╈━─└┘┌┐├┤┼╋╰╯╭╮┬┴]")


def normalize(line: str) -> str:
    for pattern, mask in _MASKS:
        line = pattern.sub(mask, line)
    return " ".join(_BORDERS.sub(" ", line).split())


def missing_lines(expected: list[str], actual: str) -> list[str]:
    """Lines of `expected` not found, in order, among the actual output's lines."""
    got = [n for n in (normalize(line) for line in actual.splitlines()) if n]
    position = 0
    missing = []
    for line in expected:
        want = normalize(line)
        if not want:
            continue
        for index in range(position, len(got)):
            if got[index] == want:
                position = index + 1
                break
        else:
            missing.append(line)
    return missing


@dataclass
class Place:
    cwd: Path
    env: dict[str, str]
    port: int | None = None


async def run_shell(command: str, place: Place) -> tuple[int, str]:
    """Run `command` as a shell would. A `reelgate ...` command runs in this process
    (the same Typer app the console script calls; a fresh interpreter per command
    costs seconds of imports), and whatever it is piped into runs in the shell."""
    if place.port is not None:
        command = command.replace(PORT_IN_DOC, f"127.0.0.1:{place.port}")
    head, pipe, rest = command.partition(" | ")
    if head.startswith("reelgate "):
        code, out = await asyncio.to_thread(_reelgate, shlex.split(head)[1:], place)
        if not pipe:
            return code, out
        code2, out2 = await _shell(rest, place, stdin=out)
        return code2, out2
    return await _shell(command, place)


_CWD_LOCK = threading.Lock()


def _reelgate(args: list[str], place: Place) -> tuple[int, str]:
    runner = CliRunner()
    with _CWD_LOCK:
        before = Path.cwd()
        os.chdir(place.cwd)  # relative paths (the SQLite file) as in a shell there
        try:
            result = runner.invoke(app, args, env=place.env)
        finally:
            os.chdir(before)
    return result.exit_code, result.output


async def _shell(command: str, place: Place, *, stdin: str | None = None) -> tuple[int, str]:
    process = await asyncio.create_subprocess_shell(
        command,
        cwd=place.cwd,
        env=place.env,
        stdin=asyncio.subprocess.PIPE if stdin is not None else asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        out, _ = await asyncio.wait_for(
            process.communicate(stdin.encode() if stdin is not None else None), 120
        )
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.returncode is not None
    return process.returncode, out.decode("utf-8", "replace")


def _base_env() -> dict[str, str]:
    bin_dir = str(Path(sys.executable).parent)
    keep = {k: v for k, v in os.environ.items() if not k.startswith(("REELGATE_", "PG"))}
    return {**keep, "PATH": f"{bin_dir}:{keep.get('PATH', '')}", "COLUMNS": COLUMNS}


@pytest.fixture
async def daemon_place(
    tmp_path: Path, local_notion: LocalNotionServer
) -> AsyncIterator[tuple[Place, PipelineEnv]]:
    """A daemon that ran one task to its video gate, still serving its HTTP port."""
    log_file = tmp_path / "reelgate.log"
    import io

    configure_logging(level="info", json=True, stream=io.StringIO(), log_file=log_file)
    async with make_pipeline_env(tmp_path / "daemon", local_notion) as env:
        page = env.create_task(clips=2, channel="autopilot", title="Lighthouse")
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
            for _ in range(900):
                if env.status(page) == "Video Ready":
                    break
                await asyncio.sleep(0.1)
            await daemon.update_gauges()
            notion = env.runtime.config.notion
            place = Place(
                tmp_path,
                {
                    **_base_env(),
                    "REELGATE_DATABASE_URL": env.runtime.config.settings.database_url,
                    "REELGATE_LOG_FILE": str(log_file),
                    "REELGATE_NOTION_BASE_URL": notion.base_url,
                    "REELGATE_NOTION_TOKEN": TOKEN,
                    "REELGATE_NOTION_TASKS_DATA_SOURCE_ID": notion.tasks_data_source_id,
                    "REELGATE_NOTION_VIDEOS_DATA_SOURCE_ID": notion.videos_data_source_id,
                },
                port=health.port,
            )
            yield place, env
        finally:
            daemon.stop()
            await running
            await health.stop()
            logging_reset()


def logging_reset() -> None:
    import logging

    import structlog

    for handler in logging.getLogger().handlers:
        handler.close()
    logging.getLogger().handlers[:] = []
    structlog.reset_defaults()


async def seeded_place(tmp_path: Path) -> Place:
    where = tmp_path / "seeded"
    (where / "reelgate-data").mkdir(parents=True)
    (where / "deploy").symlink_to(ROOT / "deploy")
    url = "sqlite+aiosqlite:///reelgate-data/reelgate.db"
    await asyncio.to_thread(
        seed_story, f"sqlite+aiosqlite:///{where / 'reelgate-data' / 'reelgate.db'}"
    )
    (where / "reelgate-data" / "media" / "default").mkdir(parents=True)
    (where / "reelgate-data" / "media" / "default" / "clip_01_a2.mp4").write_bytes(b"\0" * 64)
    return Place(where, {**_base_env(), "REELGATE_DATABASE_URL": url})


def test_the_doc_shows_commands_in_every_section() -> None:
    commands = [s.command for s in shown_commands(DOC.read_text())]
    for expected in (
        "reelgate migrate",
        "reelgate status",
        "reelgate status 1",
        "reelgate dead-letters",
        "reelgate dead-letters --replay 1",
        "reelgate dead-letters --drop 2",
        "reelgate cancel 1",
        "reelgate resume 1",
        "reelgate retry 1",
        "pg_dump --format=custom --file=reelgate.dump",
    ):
        assert expected in commands, expected
    assert any(c.startswith("reelgate logs 1") for c in commands)
    assert any(c.startswith("sqlite3 ") for c in commands)


def _check(item: Shown, code: int, out: str) -> str | None:
    """What is wrong with a command's run, or None."""
    if os.environ.get("REELGATE_DOC_PRINT"):
        print(f"\n=== line {item.line}: $ {item.command}  (exit {code})\n{out}")
        return None
    if (code != 0) != item.fails:
        return f"line {item.line}: `{item.command}` exited {code}:\n{out}"
    missing = missing_lines(item.output, out)
    if missing:
        return (
            f"line {item.line}: `{item.command}` did not print:\n  "
            + "\n  ".join(missing)
            + f"\n--- it printed:\n{out}"
        )
    return None


async def test_every_command_in_operations_md_runs_and_prints_what_it_shows(
    tmp_path: Path, daemon_place: tuple[Place, PipelineEnv]
) -> None:
    places = {"seeded": await seeded_place(tmp_path), "daemon": daemon_place[0]}
    failures = []
    ran = 0
    for item in shown_commands(DOC.read_text()):
        scenario = scenario_of(item.command)
        if scenario == "postgres":
            continue  # test_the_postgres_backup_commands_run
        code, out = await run_shell(item.command, places[scenario])
        ran += 1
        problem = _check(item, code, out)
        if problem:
            failures.append(problem)
    assert ran >= 15
    assert not failures, "\n\n".join(failures)


def test_the_postgres_backup_commands_run(tmp_path: Path, pg_url: str) -> None:
    import subprocess

    seed_story(pg_url)
    host, port = pg_url.split("@", 1)[1].split("/", 1)[0].split(":")
    env = {**_base_env(), "PGHOST": host, "PGPORT": port, "PGUSER": "postgres"}
    env["PGDATABASE"] = pg_url.rsplit("/", 1)[1]
    commands = [s for s in shown_commands(DOC.read_text()) if scenario_of(s.command) == "postgres"]
    assert [s.command.split()[0] for s in commands] == ["pg_dump", "pg_restore"]
    for item in commands:
        done = subprocess.run(
            item.command,
            shell=True,
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        problem = _check(item, done.returncode, done.stdout + done.stderr)
        assert problem is None, problem
    assert (tmp_path / "reelgate.dump").stat().st_size > 0
