"""A real `reelgate run` for the daemon benchmarks (fan-out, regeneration, recovery, footprint).

The daemon is a subprocess configured only through its environment and a channels
file, as an admin would run it, against:
- PostgreSQL at 127.0.0.1:5432 (a database of its own, dropped afterwards); when it
  cannot be reached, SQLite, with a printed note (the figures are then not comparable);
- the local Notion API served from this process (Notion's 3 req/s per token enforced);
- the fake Vertex server (tests/fakes/vertex.py) with an operation latency L: an
  operation finishes L seconds after its create call, whatever the polls.

The channel `bench` uses the google provider and passes the storyboard and keyframe
gates by itself, so a task runs from Queued to Video Ready alone. Everything the
benchmarks read is outside the daemon: the database (events, clips, cost ledger),
the Notion server's pages and request log, the fake's operations and calls, /proc.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from notion_sync.client import NotionClient
from notion_sync.local_api.admin import rich_text, title_value
from notion_sync.local_api.server import LocalNotionServer
from notion_sync.schema import SetupResult, StatusOption, setup_notion
from notion_sync.settings import NotionSettings
from orchestrator.db import (
    Clip,
    CostEntry,
    Event,
    Task,
    create_engine,
    session_factory,
    upgrade,
)
from orchestrator.state.status import Status, notion_status_options
from tests.fakes.vertex import FakeVertex
from tests.fixtures.db import PG_HOST, PG_PORT, PG_USER, pg_skip_reason

__all__ = [
    "CHANNEL",
    "DAEMON_TOKEN",
    "MONOTONIC_TO_EPOCH",
    "VIDEO_MODEL",
    "Database",
    "Rig",
    "StatusWatch",
    "expected_latency_config",
    "median",
    "open_database",
    "request_kind",
    "started_at",
]

CLI = [sys.executable, "-c", "from orchestrator.cli import main; main()"]
DAEMON_TOKEN = "bench-daemon-token-0123456789abcdef"
SETUP_TOKEN = "bench-setup-token-0123456789abcdef"
API_KEY = "AIzaFakeBenchKey-0123456789abcdef"
CHANNEL = "bench"
VIDEO_MODEL = "veo-3.1-generate-001"


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def request_kind(path: str) -> str:
    """/v1/data_sources/<id>/query -> data_sources/query (ids dropped)."""
    parts = [p for p in path.split("/") if p and p != "v1"]
    return "/".join(p for p in parts if not ((len(p) >= 32 and "-" in p) or len(p) == 32))


# ---- the model's expected latency ------------------------------------------------------


def expected_latency_config(seconds: float) -> tuple[dict[str, str], dict[str, str]]:
    """(environment, channel TOML lines) that tell the daemon an operation takes `seconds`:
    the channel's `expected_clip_latency_s`, which sets the first poll and the back-off
    (docs/operations.md, "How polling and pacing work")."""
    return {}, {"expected_clip_latency_s": f"{seconds}"}


# ---- database --------------------------------------------------------------------------


@dataclass
class Database:
    url: str
    backend: str  # "postgresql" | "sqlite"
    _pg_name: str | None = None

    def drop(self) -> None:
        if self._pg_name is not None:
            asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{self._pg_name}" WITH (FORCE)'))


async def _pg_admin(sql: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(host=PG_HOST, port=PG_PORT, user=PG_USER, database="postgres")
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


_NOTED: set[str] = set()


def open_database(tmp: Path) -> Database:
    """A fresh PostgreSQL database, or a SQLite file (with a note) when PG is unreachable."""
    problem = pg_skip_reason()
    if problem is None:
        name = f"reelgate_bench_{uuid.uuid4().hex[:12]}"
        asyncio.run(_pg_admin(f'CREATE DATABASE "{name}" TEMPLATE template0'))
        url = f"postgresql+asyncpg://{PG_USER}@{PG_HOST}:{PG_PORT}/{name}"
        return Database(url, "postgresql", name)
    if problem not in _NOTED:
        _NOTED.add(problem)
        print(f"note: {problem}; measuring on SQLite instead (not comparable with PostgreSQL)")
    return Database(f"sqlite+aiosqlite:///{tmp / 'reelgate.db'}", "sqlite")


# ---- watching Notion -------------------------------------------------------------------


class StatusWatch:
    """Records (time.time()) when each watched page first shows each Status label."""

    def __init__(self, server: LocalNotionServer, interval_s: float = 0.05) -> None:
        self._server = server
        self._interval = interval_s
        self._pages: set[str] = set()
        self._last: dict[str, str] = {}
        self.seen: dict[tuple[str, str], float] = {}
        self.changes: list[tuple[str, str, float]] = []
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name="status-watch", daemon=True)

    def watch(self, page_id: str) -> None:
        with self._lock:
            self._pages.add(page_id)

    def start(self) -> StatusWatch:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def status(self, page_id: str) -> str:
        prop = self._server.admin.page(page_id)["properties"]["Status"]
        return str((prop.get(prop["type"]) or {}).get("name", ""))

    def first(self, page_id: str, label: str, after: float = 0.0) -> float | None:
        """When `page_id` first showed `label` at or after `after`."""
        with self._lock:
            times = [t for p, s, t in self.changes if p == page_id and s == label and t >= after]
        return min(times) if times else None

    def _run(self) -> None:
        while not self._stop.is_set():
            with self._lock:
                pages = list(self._pages)
            for page in pages:
                label = self.status(page)
                now = time.time()
                with self._lock:
                    if self._last.get(page) != label:
                        self._last[page] = label
                        self.changes.append((page, label, now))
                        self.seen.setdefault((page, label), now)
            self._stop.wait(self._interval)


# ---- the rig ---------------------------------------------------------------------------


def _storyboard(title: str, clips: int) -> str:
    return json.dumps(
        {
            "title": title,
            "shots": [
                {
                    # Unique per task and clip: the fake counts creates per prompt.
                    "visual_prompt": f"{title} shot {i}: a lighthouse keeper climbs stair {i}",
                    "motion_prompt": "slow push in",
                    "narration": f"Step {i}.",
                }
                for i in range(1, clips + 1)
            ],
        }
    )


@dataclass
class Daemon:
    proc: subprocess.Popen[bytes]
    log: Path
    started: float  # time.monotonic() at Popen

    @property
    def pid(self) -> int:
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc.poll() is None

    def tail(self, chars: int = 3000) -> str:
        return self.log.read_text(errors="replace")[-chars:]


@dataclass
class Rig:
    """Servers, database and channels for one measurement; daemons started on demand."""

    latency_s: float
    env: Mapping[str, str] = field(default_factory=dict)
    channel: Mapping[str, str] = field(default_factory=dict)  # extra TOML `key = value` lines
    # Quick runs: no Notion rate limit on either side (a check of the rig, not a figure).
    fast_notion: bool = False
    tmp: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="reelgate-bench-")))
    notion: LocalNotionServer = field(default_factory=LocalNotionServer)
    vertex: FakeVertex = field(default_factory=FakeVertex)
    daemons: list[Daemon] = field(default_factory=list)
    db: Database | None = None
    setup: SetupResult | None = None
    watch: StatusWatch | None = None
    _engine: AsyncEngine | None = None

    async def __aenter__(self) -> Rig:
        # Setting up the workspace is not measured: its token is not held to 3 req/s.
        self.notion.knobs.set_rate_limit(1000.0, 1000, token=SETUP_TOKEN)
        if self.fast_notion:
            self.notion.knobs.disable_rate_limit()
        self.notion.start()
        self.vertex.start()
        # Time alone decides when an operation is done: L seconds after its create.
        self.vertex.polls_until_done = 0
        self.vertex.seconds_until_done = self.latency_s
        settings = NotionSettings(
            _env_file=None,  # type: ignore[call-arg]
            base_url=self.notion.base_url,
            token=SETUP_TOKEN,  # type: ignore[arg-type]
            requests_per_second=1000.0,
        )
        async with NotionClient(settings) as client:
            self.setup = await setup_notion(
                client,
                self.notion.root_page_id,
                [StatusOption(n, c, g) for n, c, g in notion_status_options()],
            )
        self.db = await asyncio.to_thread(open_database, self.tmp)
        self._write_channels()
        # What `reelgate migrate` does, without a second interpreter start.
        self._engine = create_engine(self.db.url)
        await upgrade(self._engine)
        self.watch = StatusWatch(self.notion).start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        for daemon in self.daemons:
            if daemon.alive():
                daemon.proc.kill()
                daemon.proc.wait(timeout=10)
        if self.watch is not None:
            self.watch.stop()
        if self._engine is not None:
            await self._engine.dispose()
        self.vertex.release_creates()
        self.vertex.stop()
        self.notion.stop()
        if self.db is not None:
            await asyncio.to_thread(self.db.drop)
        shutil.rmtree(self.tmp, ignore_errors=True)

    @property
    def engine(self) -> AsyncEngine:
        """The benchmark's own connection to the daemon's database (for seeding, reads)."""
        assert self._engine is not None
        return self._engine

    # -- configuration --

    def _write_channels(self) -> None:
        lines = [
            "[defaults]",
            'provider = "google"',
            "[channels.default]",
            f"[channels.{CHANNEL}]",
            'auto_approve = ["storyboard", "keyframes"]',
            *(f"{k} = {v}" for k, v in self.channel.items()),
        ]
        (self.tmp / "channels.toml").write_text("\n".join(lines) + "\n")

    def daemon_env(self) -> dict[str, str]:
        assert self.db is not None
        assert self.setup is not None
        keep = {k: v for k, v in os.environ.items() if not k.startswith("REELGATE_")}
        return {
            **keep,
            "REELGATE_DATABASE_URL": self.db.url,
            "REELGATE_DATA_DIR": str(self.tmp / "data"),
            "REELGATE_CHANNELS_FILE": str(self.tmp / "channels.toml"),
            "REELGATE_LOG_JSON": "true",
            "REELGATE_HTTP_PORT": "0",
            # The task starts at once (the measured spans begin at Generating Video).
            "REELGATE_NOTION_POLL_SECONDS": "1",
            "REELGATE_NOTION_BASE_URL": self.notion.base_url,
            "REELGATE_NOTION_TOKEN": DAEMON_TOKEN,
            "REELGATE_NOTION_TASKS_DATA_SOURCE_ID": self.setup.tasks_data_source_id,
            "REELGATE_NOTION_VIDEOS_DATA_SOURCE_ID": self.setup.videos_data_source_id,
            "REELGATE_STORAGE_BACKEND": "local",
            "REELGATE_STORAGE_LOCAL_DIR": str(self.tmp / "media"),
            "REELGATE_GOOGLE_API_KEY": API_KEY,
            "REELGATE_GOOGLE_BASE_URL": self.vertex.url,
            "REELGATE_GOOGLE_TIMEOUT_MS": "30000",
            **(
                {
                    "REELGATE_NOTION_REQUESTS_PER_SECOND": "100",
                    "REELGATE_OUTBOX_DRAIN_SECONDS": "0.1",
                    "REELGATE_NOTION_POLL_SECONDS": "0.3",
                }
                if self.fast_notion
                else {}
            ),
            **self.env,
        }

    def run_cli(self, *args: str) -> None:
        done = subprocess.run(
            [*CLI, *args],
            cwd=self.tmp,
            env=self.daemon_env(),
            capture_output=True,
            timeout=120,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(f"reelgate {' '.join(args)} failed:\n{done.stderr.decode()[-3000:]}")

    # -- daemons --

    def start_daemon(self) -> Daemon:
        log = self.tmp / f"daemon-{len(self.daemons) + 1}.log"
        with log.open("wb") as out:
            proc = subprocess.Popen(
                [*CLI, "run"], cwd=self.tmp, env=self.daemon_env(), stdout=out, stderr=out
            )
        daemon = Daemon(proc, log, time.monotonic())
        self.daemons.append(daemon)
        return daemon

    @staticmethod
    def kill(daemon: Daemon) -> None:
        daemon.proc.send_signal(signal.SIGKILL)
        daemon.proc.wait(timeout=10)

    @staticmethod
    def stop(daemon: Daemon, grace_s: float = 40) -> None:
        daemon.proc.send_signal(signal.SIGTERM)
        try:
            daemon.proc.wait(timeout=grace_s)
        except subprocess.TimeoutExpired:
            daemon.proc.kill()
            daemon.proc.wait(timeout=10)

    async def wait_for(
        self, condition: Callable[[], Any], timeout: float, what: str, poll_s: float = 0.1
    ) -> None:
        """Wait until `condition()` (sync or async) is truthy; fail if the daemon died."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            result = condition()
            if asyncio.iscoroutine(result):
                result = await result
            if result:
                return
            if self.daemons and not self.daemons[-1].alive():
                raise RuntimeError(f"daemon exited waiting for {what}\n{self.daemons[-1].tail()}")
            await asyncio.sleep(poll_s)
        tail = self.daemons[-1].tail() if self.daemons else ""
        raise TimeoutError(f"timed out after {timeout:.0f}s waiting for {what}\n{tail}")

    # -- tasks --

    def create_task(self, title: str, clips: int, *, status: Status = Status.QUEUED) -> str:
        """A task page as a creator makes it; the fake will answer its storyboard."""
        assert self.setup is not None
        assert self.watch is not None
        self.vertex.json_text = _storyboard(title, clips)
        page = str(
            self.notion.admin.create_page(
                self.setup.tasks_data_source_id,
                {
                    "Name": title_value(title),
                    "Status": {"status": {"name": status.label}},
                    "Channel": {"select": {"name": CHANNEL}},
                    "Brief": {"rich_text": rich_text(f"{title}: a keeper's last night")},
                    "Clips": {"number": clips},
                    "Clip Seconds": {"number": 8},
                    "Aspect Ratio": {"select": {"name": "16:9"}},
                    "Owner": {"people": [{"id": self.notion.state.creator_id}]},
                },
                as_user="Cory Creator",
            )["id"]
        )
        self.watch.watch(page)
        return page

    def review(self, page_id: str, line: str, status: Status) -> None:
        """A reviewer types a line into Error Log, then sets Status (like the demo's)."""
        page = self.notion.admin.page(page_id)
        existing = "".join(t["plain_text"] for t in page["properties"]["Error Log"]["rich_text"])
        text = f"{existing}\n{line}" if existing else line
        self.notion.admin.update_page(
            page_id, {"Error Log": {"rich_text": [{"text": {"content": text[-2000:]}}]}}
        )
        self.notion.admin.update_page(page_id, {"Status": {"status": {"name": status.label}}})

    def prompts_of(self, title: str) -> set[str]:
        return {p for p in self.vertex.accepted_creates if p.startswith(f"{title} shot ")}

    def operations_of(self, title: str) -> list[Any]:
        return [op for op in self.vertex.operations.values() if op.prompt.startswith(f"{title} ")]

    # -- the database, read from outside --

    async def _query(self, fn: Callable[[Any], Any]) -> Any:
        assert self.db is not None
        if self._engine is None:
            self._engine = create_engine(self.db.url)
        async with session_factory(self._engine)() as session:
            return await fn(session)

    async def transitions(self, page_id: str) -> list[tuple[str, float]]:
        """(to_status, time.time()) of the task's transitions, oldest first."""

        async def read(session: Any) -> list[tuple[str, float]]:
            rows = await session.execute(
                select(Event.to_status, Event.at)
                .join(Task, Task.id == Event.task_id)
                .where(Task.notion_page_id == page_id, Event.to_status.is_not(None))
                .order_by(Event.id)
            )
            return [(str(s), _epoch(at)) for s, at in rows]

        result: list[tuple[str, float]] = await self._query(read)
        return result

    async def clips(self, page_id: str) -> list[tuple[int, str, int, str | None]]:
        """(number, status, attempt, operation_name) of the task's clips."""

        async def read(session: Any) -> list[tuple[int, str, int, str | None]]:
            rows = await session.execute(
                select(Clip.number, Clip.status, Clip.attempt, Clip.operation_name)
                .join(Task, Task.id == Clip.task_id)
                .where(Task.notion_page_id == page_id)
                .order_by(Clip.number)
            )
            return [(int(n), str(s), int(a), op) for n, s, a, op in rows]

        result: list[tuple[int, str, int, str | None]] = await self._query(read)
        return result

    async def clip_charges(self, page_id: str) -> list[float]:
        """USD of every clip charge in the cost ledger for the task, oldest first."""

        async def read(session: Any) -> list[float]:
            rows = await session.execute(
                select(CostEntry.usd)
                .join(Task, Task.id == CostEntry.task_id)
                .where(Task.notion_page_id == page_id, CostEntry.kind == "clip")
                .order_by(CostEntry.id)
            )
            return [float(u) for (u,) in rows]

        result: list[float] = await self._query(read)
        return result

    async def next_polls(self, page_id: str) -> dict[str, float]:
        """operation name -> next poll due (time.time()) of the task's polling clips."""

        async def read(session: Any) -> dict[str, float]:
            rows = await session.execute(
                select(Clip.operation_name, Clip.next_poll_at)
                .join(Task, Task.id == Clip.task_id)
                .where(Task.notion_page_id == page_id, Clip.operation_name.is_not(None))
            )
            return {str(op): _epoch(at) for op, at in rows if at is not None}

        result: dict[str, float] = await self._query(read)
        return result

    async def lease_expiry(self, page_id: str) -> float | None:
        """When the task's lease expires (time.time()); None when nobody holds it."""

        async def read(session: Any) -> float | None:
            row = await session.execute(
                select(Task.lease_owner, Task.lease_expires_at).where(
                    Task.notion_page_id == page_id
                )
            )
            owner, expires = row.one()
            return None if owner is None or expires is None else _epoch(expires)

        result: float | None = await self._query(read)
        return result

    async def status_in_db(self, page_id: str) -> str | None:
        async def read(session: Any) -> str | None:
            row = await session.execute(select(Task.status).where(Task.notion_page_id == page_id))
            value = row.scalar_one_or_none()
            return None if value is None else str(value)

        result: str | None = await self._query(read)
        return result


def _epoch(at: datetime) -> float:
    return at.timestamp()


def started_at(daemon: Daemon, event: str = '"start_daemon"') -> bool:
    """True once the daemon's log has its start line (its loops are about to run)."""
    try:
        return event in daemon.log.read_text(errors="replace")
    except FileNotFoundError:
        return False


# time.monotonic() (the fake's clock) -> time.time() (the database's), in this process.
MONOTONIC_TO_EPOCH = time.time() - time.monotonic()
