"""`reelgate local-notion` and `reelgate setup-notion` against each other, as processes."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.timeout(120)

REELGATE = [sys.executable, "-c", "from orchestrator.cli import main; main()"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_local_notion_and_setup_notion_from_the_shell(tmp_path: Path) -> None:
    port = _free_port()
    state = tmp_path / "notion.json"
    server = subprocess.Popen(
        [*REELGATE, "local-notion", "--port", str(port), "--state", str(state)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=tmp_path,
    )
    try:
        root = None
        deadline = time.monotonic() + 30
        assert server.stdout is not None
        while root is None and time.monotonic() < deadline:
            line = server.stdout.readline()
            match = re.search(r"root page id: ([0-9a-f-]{36})", line)
            root = match.group(1) if match else None
        assert root, "local-notion did not print its root page id"
        env = os.environ | {
            "REELGATE_NOTION_BASE_URL": f"http://127.0.0.1:{port}",
            "REELGATE_NOTION_TOKEN": "shell-token",
        }
        runs = [
            subprocess.run(
                [*REELGATE, "setup-notion", "--parent-page", root],
                capture_output=True,
                text=True,
                env=env,
                cwd=tmp_path,
                timeout=60,
                check=True,
            )
            for _ in range(2)
        ]
        # stdout is exactly what to paste into .env; logs went to stderr.
        lines = runs[0].stdout.strip().splitlines()
        assert [line.split("=")[0] for line in lines] == [
            "REELGATE_NOTION_TASKS_DATA_SOURCE_ID",
            "REELGATE_NOTION_VIDEOS_DATA_SOURCE_ID",
        ]
        assert runs[1].stdout == runs[0].stdout  # the second run created nothing new
        env |= dict(line.split("=", 1) for line in lines)
        check = subprocess.run(
            [*REELGATE, "check-notion"],
            capture_output=True,
            text=True,
            env=env,
            cwd=tmp_path,
            timeout=60,
        )
        assert check.returncode == 0, check.stdout + check.stderr
    finally:
        server.terminate()
        server.wait(timeout=10)
        if server.stdout is not None:
            server.stdout.close()
    assert state.exists()


def test_local_notion_accepts_only_the_tokens_it_was_given(tmp_path: Path) -> None:
    import httpx

    port = _free_port()
    server = subprocess.Popen(
        [
            *REELGATE,
            "local-notion",
            "--port",
            str(port),
            "--token",
            "daemon",
            "--token",
            "reviewer",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=tmp_path,
    )
    try:
        assert server.stdout is not None
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and "root page id" not in server.stdout.readline():
            pass
        base = f"http://127.0.0.1:{port}/v1/users/me"
        headers = {"Notion-Version": "2025-09-03"}

        def me(token: str) -> httpx.Response:
            # The root page id is printed just before uvicorn binds: retry connecting.
            while True:
                try:
                    return httpx.get(
                        base, headers=headers | {"Authorization": f"Bearer {token}"}, timeout=10
                    )
                except httpx.ConnectError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.1)

        answers = {token: me(token) for token in ("daemon", "reviewer", "intruder")}
    finally:
        server.terminate()
        server.wait(timeout=10)
        if server.stdout is not None:
            server.stdout.close()
    assert answers["daemon"].status_code == 200
    assert answers["reviewer"].status_code == 200
    assert answers["intruder"].status_code == 401
    assert answers["intruder"].json()["code"] == "unauthorized"
