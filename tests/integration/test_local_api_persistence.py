"""State survives restarts: in-process with a state file, and the standalone `serve()`."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from notion_sync.local_api import LocalNotionServer, root_page_id
from tests.fixtures.notion import make_notion_client


async def test_state_file_round_trip(tmp_path: Path):
    state_file = tmp_path / "notion.json"
    with LocalNotionServer(state_file=state_file) as first:
        first.knobs.disable_rate_limit()
        client = make_notion_client(first)
        try:
            upload = await client.file_uploads.create(filename="a.txt", content_type="text/plain")
            await client.file_uploads.send(upload["id"], file=("a.txt", b"hello", "text/plain"))
            page = await client.pages.create(
                parent={"page_id": first.root_page_id},
                properties={"title": {"title": [{"text": {"content": "kept"}}]}},
                children=[{"file": {"type": "file_upload", "file_upload": {"id": upload["id"]}}}],
            )
        finally:
            await client.aclose()
        root = first.root_page_id
    assert state_file.exists()
    assert root_page_id(state_file) == root
    with LocalNotionServer(state_file=state_file) as second:
        second.knobs.disable_rate_limit()
        client = make_notion_client(second)
        try:
            again = await client.pages.retrieve(page["id"])
            blocks = await client.blocks.children.list(page["id"])
        finally:
            await client.aclose()
        assert again["properties"]["title"]["title"][0]["plain_text"] == "kept"
        url = blocks["results"][0]["file"]["file"]["url"]
        assert url.startswith(second.base_url)
        async with httpx.AsyncClient() as raw:
            assert (await raw.get(url)).content == b"hello"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_serve_standalone_prints_root_and_persists(tmp_path: Path):
    state_file = tmp_path / "demo.json"
    port = _free_port()
    code = (
        "from pathlib import Path; from notion_sync.local_api import serve; "
        f"serve('127.0.0.1', {port}, Path({str(state_file)!r}), 'tok')"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert proc.stdout is not None
        lines = [proc.stdout.readline(), proc.stdout.readline()]
        match = re.search(r"root page id: ([0-9a-f-]{36})", "".join(lines))
        assert match, lines
        headers = {"Authorization": "Bearer tok", "Notion-Version": "2025-09-03"}
        deadline = time.monotonic() + 10
        while True:
            try:
                found = httpx.post(
                    f"http://127.0.0.1:{port}/v1/search", json={"query": ""}, headers=headers
                )
                break
            except httpx.ConnectError:
                assert time.monotonic() < deadline
                time.sleep(0.05)
        assert found.json()["results"][0]["id"] == match.group(1)
        denied = httpx.get(
            f"http://127.0.0.1:{port}/v1/users/me",
            headers={**headers, "Authorization": "Bearer other"},
        )
        assert denied.status_code == 401
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=15)
        if proc.stdout is not None:
            proc.stdout.close()
    assert root_page_id(state_file) == match.group(1)
