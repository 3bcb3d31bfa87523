"""Issue 10, cases 4 and 8: every CLI failure is one line with the fix, never a traceback.

The commands run as processes (`python -c "...main()"`, exactly what the `reelgate`
script does), against a database that is not there: PostgreSQL on a closed port,
or a SQLite file whose folder cannot be created.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.timeout(120)

REELGATE = [sys.executable, "-c", "from orchestrator.cli import main; main()"]
PASSWORD = "pw-Zq8-never-print-me"
TOKEN = "secret_notion_token_never_print_me_0123456789"


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])  # closed again when the block ends


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("REELGATE_")}
    return clean | {
        "REELGATE_DATABASE_URL": (
            f"postgresql+asyncpg://reelgate:{PASSWORD}@127.0.0.1:{_closed_port()}/reelgate"
        ),
        "REELGATE_NOTION_TOKEN": TOKEN,
        "REELGATE_DATA_DIR": str(tmp_path / "data"),
        "COLUMNS": "200",
        **extra,
    }


def _reelgate(tmp_path: Path, *args: str, **extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*REELGATE, *args],
        capture_output=True,
        text=True,
        env=_env(tmp_path, **extra),
        cwd=tmp_path,
        timeout=90,
        check=False,
    )


def _one_line(result: subprocess.CompletedProcess[str]) -> str:
    out = result.stdout + result.stderr
    lines = [line for line in out.splitlines() if line.strip()]
    assert result.returncode != 0, out
    assert len(lines) == 1, out[:3000]
    assert "Traceback" not in out
    assert PASSWORD not in out
    assert TOKEN not in out
    assert lines[0].startswith("error: ")
    return lines[0]


def test_run_with_the_database_unreachable_says_so_in_one_line(tmp_path: Path) -> None:
    line = _one_line(_reelgate(tmp_path, "run"))
    assert "cannot reach the database at postgresql+asyncpg://reelgate:***@127.0.0.1" in line
    assert "ConnectionRefusedError" in line
    assert "Check REELGATE_DATABASE_URL" in line
    assert len(line) < 400


@pytest.mark.parametrize(
    "args",
    [
        ("status",),
        ("migrate",),
        ("retry", "1"),
        ("report",),
    ],
)
def test_every_command_fails_in_one_line(tmp_path: Path, args: tuple[str, ...]) -> None:
    line = _one_line(_reelgate(tmp_path, *args))
    assert "127.0.0.1" in line or "database" in line


def test_a_sqlite_file_that_cannot_be_created_is_one_line(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the database folder should be")
    url = f"sqlite+aiosqlite:///{blocker}/reelgate.db"
    line = _one_line(_reelgate(tmp_path, "run", REELGATE_DATABASE_URL=url))
    assert "not-a-folder" in line


@pytest.mark.parametrize("how", ["--debug", "REELGATE_DEBUG"])
def test_debug_shows_the_traceback_but_never_a_secret(tmp_path: Path, how: str) -> None:
    if how == "--debug":
        result = _reelgate(tmp_path, "run", "--debug")
    else:
        result = _reelgate(tmp_path, "run", REELGATE_DEBUG="1")
    out = result.stdout + result.stderr
    assert result.returncode != 0
    assert "Traceback (most recent call last)" in out
    assert "ConnectionRefusedError" in out
    assert out.rstrip().splitlines()[-1].startswith("error: cannot reach the database")
    assert PASSWORD not in out
    assert TOKEN not in out


@pytest.mark.parametrize("value", ["0", "fast"])
def test_a_bad_notion_rate_names_the_variable(tmp_path: Path, value: str) -> None:
    line = _one_line(_reelgate(tmp_path, "status", REELGATE_NOTION_REQUESTS_PER_SECOND=value))
    assert line.startswith("error: invalid settings: REELGATE_NOTION_REQUESTS_PER_SECOND: ")
    assert f"(got '{value}')" in line
