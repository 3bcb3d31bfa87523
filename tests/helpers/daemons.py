"""`reelgate` subprocesses for the chaos and replica proofs, and a Notion workspace for them.

The daemons are configured only through the environment, as an admin would run them;
the local Notion API, the fake Vertex server and moto run in the test process, so
their request counters also count what the subprocesses sent.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from notion_sync.client import NotionClient
from notion_sync.local_api.admin import rich_text, title_value
from notion_sync.local_api.server import LocalNotionServer
from notion_sync.schema import StatusOption, setup_notion
from notion_sync.settings import NotionSettings
from orchestrator.state.status import notion_status_options

__all__ = [
    "CLI",
    "Daemons",
    "Workspace",
    "base_env",
    "google_env",
    "log_events",
    "make_task",
    "make_workspace",
    "wait_for",
]

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

    def start(self, **extra_env: str) -> subprocess.Popen[bytes]:
        log = self.tmp / f"daemon-{len(self.procs) + 1}.log"
        with log.open("wb") as out:
            proc = subprocess.Popen(
                [*CLI, "run"],
                cwd=self.tmp,
                env={**self.env, **extra_env},
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        self.procs.append(proc)
        self.logs.append(log)
        return proc

    def log_of(self, proc: subprocess.Popen[bytes]) -> Path:
        return self.logs[self.procs.index(proc)]

    def tail(self, chars: int = 2500) -> str:
        return "\n".join(
            f"--- {p.name}\n" + p.read_text(errors="replace")[-chars:] for p in self.logs
        )

    def live(self) -> list[subprocess.Popen[bytes]]:
        return [p for p in self.procs if p.poll() is None]

    def sigkill(self, proc: subprocess.Popen[bytes]) -> None:
        proc.send_signal(signal.SIGKILL)
        assert proc.wait(timeout=10) == -signal.SIGKILL

    def stop(self, proc: subprocess.Popen[bytes], grace: float = 15) -> int:
        """SIGTERM, then wait for the graceful exit (an AssertionError if it hangs)."""
        proc.send_signal(signal.SIGTERM)
        try:
            return proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"daemon did not exit on SIGTERM\n{self.tail()}") from None

    def kill_all(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=10)


def wait_for(
    condition: Callable[[], bool],
    timeout: float,
    what: str,
    daemons: Daemons,
    *,
    every: float = 0.2,
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        if daemons.procs and not daemons.live():
            raise AssertionError(f"every daemon exited while waiting for {what}\n{daemons.tail()}")
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}\n{daemons.tail()}")


def log_events(paths: list[Path], event: str | None = None) -> Iterator[dict[str, Any]]:
    """The JSON log lines of the daemons (REELGATE_LOG_JSON=true), optionally one event."""
    for path in paths:
        for line in path.read_text(errors="replace").splitlines():
            if not line.startswith("{"):
                continue
            try:
                entry = json.loads(line)
            except ValueError:  # the last line of a SIGKILLed process may be cut short
                continue
            if event is None or entry.get("event") == event:
                yield entry


@dataclass(frozen=True)
class Workspace:
    tasks_data_source_id: str
    videos_data_source_id: str


async def make_workspace(server: LocalNotionServer, token: str) -> Workspace:
    """The Tasks and Videos databases, set up as `reelgate setup-notion` does."""
    async with NotionClient(
        # Set up as a given (not what is tested), without the daemon's 2.5 requests/s.
        NotionSettings(
            _env_file=None, base_url=server.base_url, token=token, requests_per_second=1000.0
        )  # type: ignore[arg-type, call-arg]
    ) as client:
        setup = await setup_notion(
            client,
            server.root_page_id,
            [StatusOption(name, color, group) for name, color, group in notion_status_options()],
        )
    return Workspace(setup.tasks_data_source_id, setup.videos_data_source_id)


def make_task(
    server: LocalNotionServer,
    workspace: Workspace,
    *,
    name: str,
    brief: str,
    clips: int,
    channel: str,
    seconds: int = 4,
) -> str:
    """A Queued task page created by the creator; returns its page id."""
    page = server.admin.create_page(
        workspace.tasks_data_source_id,
        {
            "Name": title_value(name),
            "Status": {"status": {"name": "Queued"}},
            "Channel": {"select": {"name": channel}},
            "Brief": {"rich_text": rich_text(brief)},
            "Clips": {"number": clips},
            "Clip Seconds": {"number": seconds},
            "Aspect Ratio": {"select": {"name": "16:9"}},
            "Owner": {"people": [{"id": server.state.creator_id}]},
        },
        as_user="Cory Creator",
    )
    return str(page["id"])


def base_env(
    tmp: Path, server: LocalNotionServer, workspace: Workspace, token: str
) -> dict[str, str]:
    """Environment of a daemon with short intervals (everything else per test)."""
    keep = {k: v for k, v in os.environ.items() if not k.startswith("REELGATE_")}
    return {
        **keep,
        "REELGATE_DATA_DIR": str(tmp / "data"),
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
        "REELGATE_NOTION_BASE_URL": server.base_url,
        "REELGATE_NOTION_TOKEN": token,
        "REELGATE_NOTION_TASKS_DATA_SOURCE_ID": workspace.tasks_data_source_id,
        "REELGATE_NOTION_VIDEOS_DATA_SOURCE_ID": workspace.videos_data_source_id,
        "REELGATE_NOTION_REQUESTS_PER_SECOND": "50",
        "REELGATE_NOTION_RETRY_BACKOFF_S": "0.2",
        "REELGATE_STORAGE_BACKEND": "local",
        "REELGATE_STORAGE_LOCAL_DIR": str(tmp / "media"),
        "REELGATE_LOCAL_WORK_DIR": str(tmp / "local-provider"),
        "REELGATE_LOCAL_USE_ESPEAK": "false",
    }


# A channel on the google provider whose storyboard and keyframe gates pass by themselves.
GOOGLE_CHANNELS = """
[channels.chaos]
provider = "google"
auto_approve = ["storyboard", "keyframes"]
"""


def google_env(tmp: Path, vertex_url: str, api_key: str) -> dict[str, str]:
    """The google provider (express mode) against the fake Vertex server, channel `chaos`."""
    channels = tmp / "channels.toml"
    channels.write_text(GOOGLE_CHANNELS)
    return {
        "REELGATE_CHANNELS_FILE": str(channels),
        "REELGATE_GOOGLE_API_KEY": api_key,
        "REELGATE_GOOGLE_BASE_URL": vertex_url,
        "REELGATE_GOOGLE_TIMEOUT_MS": "10000",
        "REELGATE_GOOGLE_READ_RETRY_ATTEMPTS": "2",
        "REELGATE_GOOGLE_READ_RETRY_INITIAL_S": "0.05",
        "REELGATE_GOOGLE_READ_RETRY_MAX_S": "0.1",
        "REELGATE_GOOGLE_READ_RETRY_JITTER_S": "0",
        "REELGATE_GOOGLE_RATE_LIMIT_INITIAL_S": "0.05",
        "REELGATE_GOOGLE_RATE_LIMIT_MAX_S": "0.2",
    }
