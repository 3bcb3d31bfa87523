"""Chaos (DESIGN §8): SIGKILL the daemon mid-generation, restart it, lose nothing.

The daemon runs as a subprocess (`reelgate run`) configured only through the
environment, against the local Notion API served from this test process, a SQLite
file migrated by `reelgate migrate`, the local providers (renders held ~3 s so
operations stay in flight) and local storage. The channel `autopilot` passes the
storyboard and keyframe gates by itself, so the task runs to Video Ready alone.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from notion_sync.client import NotionClient
from notion_sync.local_api.admin import rich_text, title_value
from notion_sync.local_api.server import LocalNotionServer
from notion_sync.schema import StatusOption, setup_notion
from notion_sync.settings import NotionSettings
from orchestrator.demo import DEMO_BRIEF
from orchestrator.state.status import notion_status_options
from tests.helpers.notion_inspect import query_all, status_of

pytestmark = [pytest.mark.acceptance, pytest.mark.timeout(240)]

TOKEN = "fake-notion-token-for-the-chaos-test-0123"
CLIPS = 3
CLI = [sys.executable, "-c", "from orchestrator.cli import main; main()"]


class Daemons:
    """Starts `reelgate` subprocesses and makes sure none outlives the test."""

    def __init__(self, tmp: Path, env: dict[str, str]) -> None:
        self.tmp = tmp
        self.env = env
        self.procs: list[subprocess.Popen[bytes]] = []
        self.logs: list[Path] = []

    def run_cli(self, *args: str, timeout: float = 60) -> None:
        done = subprocess.run(
            [*CLI, *args],
            cwd=self.tmp,
            env=self.env,
            capture_output=True,
            timeout=timeout,
            check=False,
        )
        assert done.returncode == 0, done.stderr.decode(errors="replace")[-3000:]

    def start(self) -> subprocess.Popen[bytes]:
        log = self.tmp / f"daemon-{len(self.procs) + 1}.log"
        with log.open("wb") as out:
            proc = subprocess.Popen(
                [*CLI, "run"], cwd=self.tmp, env=self.env, stdout=out, stderr=subprocess.STDOUT
            )
        self.procs.append(proc)
        self.logs.append(log)
        return proc

    def tail(self) -> str:
        return "\n".join(
            f"--- {p.name}\n" + p.read_text(errors="replace")[-2500:] for p in self.logs
        )

    def kill_all(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=10)


def wait_for(condition: Callable[[], bool], timeout: float, what: str, daemons: Daemons) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        if daemons.procs and daemons.procs[-1].poll() is not None:
            raise AssertionError(f"daemon exited while waiting for {what}\n{daemons.tail()}")
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}\n{daemons.tail()}")


def clip_rows(db: Path) -> list[tuple[int, str, int, str | None]]:
    """(number, status, attempt, operation_name) of every clip, by number."""
    if not db.exists():
        return []
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
    try:
        rows = conn.execute(
            "SELECT number, status, attempt, operation_name FROM clips ORDER BY number"
        ).fetchall()
    except sqlite3.OperationalError:  # the daemon holds a write lock, or no table yet
        return []
    finally:
        conn.close()
    return [(int(n), str(s), int(a), op) for n, s, a, op in rows]


@pytest.fixture
def daemons(tmp_path: Path) -> Iterator[Daemons]:
    rig = Daemons(tmp_path, {})
    try:
        yield rig
    finally:
        rig.kill_all()


async def test_sigkill_mid_generation_loses_nothing_and_pays_once(
    tmp_path: Path, local_notion: LocalNotionServer, daemons: Daemons
) -> None:
    async with NotionClient(
        NotionSettings(_env_file=None, base_url=local_notion.base_url, token=TOKEN)  # type: ignore[arg-type, call-arg]
    ) as client:
        setup = await setup_notion(
            client,
            local_notion.root_page_id,
            [StatusOption(name, color, group) for name, color, group in notion_status_options()],
        )
    page = str(
        local_notion.admin.create_page(
            setup.tasks_data_source_id,
            {
                "Name": title_value("Chaos"),
                "Status": {"status": {"name": "Queued"}},
                "Channel": {"select": {"name": "autopilot"}},
                "Brief": {"rich_text": rich_text(DEMO_BRIEF)},
                "Clips": {"number": CLIPS},
                "Clip Seconds": {"number": 4},
                "Aspect Ratio": {"select": {"name": "16:9"}},
                "Owner": {"people": [{"id": local_notion.state.creator_id}]},
            },
            as_user="Cory Creator",
        )["id"]
    )

    db = tmp_path / "reelgate.db"
    ops_root = tmp_path / "local-provider" / "ops"
    keep = {k: v for k, v in os.environ.items() if not k.startswith("REELGATE_")}
    daemons.env = {
        **keep,
        "REELGATE_DATABASE_URL": f"sqlite+aiosqlite:///{db}",
        "REELGATE_DATA_DIR": str(tmp_path / "data"),
        "REELGATE_LOG_JSON": "true",
        "REELGATE_WORKERS": "2",
        "REELGATE_LEASE_SECONDS": "4",
        "REELGATE_HEARTBEAT_SECONDS": "1",
        "REELGATE_NOTION_POLL_SECONDS": "0.5",
        "REELGATE_OUTBOX_DRAIN_SECONDS": "0.1",
        "REELGATE_OPERATION_POLL_SECONDS": "0.3",
        "REELGATE_CLIP_POLL_INITIAL_SECONDS": "0.3",
        "REELGATE_CLIP_POLL_MAX_SECONDS": "0.6",
        "REELGATE_SHUTDOWN_GRACE_SECONDS": "10",
        "REELGATE_HTTP_PORT": "0",
        "REELGATE_NOTION_BASE_URL": local_notion.base_url,
        "REELGATE_NOTION_TOKEN": TOKEN,
        "REELGATE_NOTION_TASKS_DATA_SOURCE_ID": setup.tasks_data_source_id,
        "REELGATE_NOTION_VIDEOS_DATA_SOURCE_ID": setup.videos_data_source_id,
        "REELGATE_NOTION_REQUESTS_PER_SECOND": "50",
        "REELGATE_NOTION_RETRY_BACKOFF_S": "0.2",
        "REELGATE_STORAGE_BACKEND": "local",
        "REELGATE_STORAGE_LOCAL_DIR": str(tmp_path / "media"),
        "REELGATE_LOCAL_WORK_DIR": str(tmp_path / "local-provider"),
        "REELGATE_LOCAL_RENDER_DELAY_S": "3",
        "REELGATE_LOCAL_USE_ESPEAK": "false",
    }
    daemons.run_cli("migrate")

    first = daemons.start()

    def in_flight() -> bool:
        rows = clip_rows(db)
        # Every clip submitted (operation name saved) and none finished: mid-generation.
        return len(rows) == CLIPS and all(s == "polling" and op for _, s, _, op in rows)

    wait_for(in_flight, 90, "every clip to be polling", daemons)
    submitted = {n: op for n, _, _, op in clip_rows(db)}
    first.send_signal(signal.SIGKILL)
    assert first.wait(timeout=10) == -signal.SIGKILL
    assert len(list(ops_root.glob("**/request.json"))) == CLIPS
    assert not list(ops_root.glob("**/clip.mp4"))  # nothing finished before the kill

    second = daemons.start()
    wait_for(lambda: status_of(local_notion, page) == "Video Ready", 120, "Video Ready", daemons)

    second.send_signal(signal.SIGTERM)
    try:
        code = second.wait(timeout=10 + 5)
    except subprocess.TimeoutExpired:
        raise AssertionError(
            f"daemon did not exit within the grace period\n{daemons.tail()}"
        ) from None
    assert code == 0, daemons.tail()

    rows = clip_rows(db)
    assert [(n, s, a) for n, s, a, _ in rows] == [(n, "complete", 1) for n in range(1, CLIPS + 1)]
    # The operations finished are the ones submitted before the kill: nothing resubmitted.
    assert {n: op for n, _, _, op in rows} == submitted
    requests = list(ops_root.glob("**/request.json"))
    assert len(requests) == CLIPS, [str(p) for p in requests]
    assert len(list(ops_root.glob("**/clip.mp4"))) == CLIPS

    videos = await query_all(local_notion, "Videos")
    numbers = sorted(int(r["properties"]["Clip"]["number"]) for r in videos)
    assert numbers == list(range(1, CLIPS + 1)), numbers  # one row per clip, no duplicates
    assert "resumed_clip_render" in daemons.logs[1].read_text(errors="replace")
