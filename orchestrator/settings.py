"""Settings of the orchestrator (env prefix REELGATE_).

Built once in the CLI and passed down; nothing else reads the environment.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["Settings"]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="REELGATE_", env_file=".env", extra="ignore")

    database_url: str = "sqlite+aiosqlite:///reelgate-data/reelgate.db"
    data_dir: Path = Path("reelgate-data")
    channels_file: Path | None = None
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    # None: JSON when stdout is not a TTY, console otherwise.
    log_json: bool | None = None
    # `reelgate run` also writes JSON lines here (rotated by size); `reelgate logs`
    # reads this file and its rotations. None: stdout only.
    log_file: Path | None = None
    log_file_max_mb: float = Field(default=50.0, gt=0)
    log_file_backups: int = Field(default=5, ge=1, le=100)

    worker_id: str = ""  # empty: hostname-pid
    workers: int = Field(default=2, ge=1, le=64)
    lease_seconds: float = Field(default=120.0, gt=0)
    heartbeat_seconds: float = Field(default=30.0, gt=0)
    notion_poll_seconds: float = Field(default=60.0, gt=0)
    outbox_drain_seconds: float = Field(default=1.0, gt=0)
    operation_poll_seconds: float = Field(default=5.0, gt=0)
    # Cluster-wide cap on in-flight provider operations (counted in the database).
    provider_concurrency: int = Field(default=4, ge=1)
    # After a crash between "submitting" and saving the operation name we cannot
    # know whether the provider billed us: "flag" stops and asks a human,
    # "resubmit" accepts the risk of paying twice.
    lost_submission_policy: Literal["flag", "resubmit"] = "flag"
    shutdown_grace_seconds: float = Field(default=30.0, gt=0)
    # A loop or job that failed this many runs in a row makes /healthz answer 503.
    unhealthy_after_failures: int = Field(default=5, ge=1)
    # Clip operations: poll with jittered exponential backoff until a deadline.
    clip_poll_initial_seconds: float = Field(default=10.0, gt=0)
    clip_poll_max_seconds: float = Field(default=60.0, gt=0)
    clip_deadline_seconds: float = Field(default=1800.0, gt=0)
    # Finished-with-error operations are not billed; retry transient ones this often.
    clip_failure_retries: int = Field(default=2, ge=0)
    # Review text (Error Log, Videos rows set to Regenerate) is acted on only once it
    # has stayed the same this long, confirmed by a page read after the delay:
    # Notion saves as people type, and a half-typed line must never be acted on.
    review_settle_seconds: float = Field(default=45.0, ge=0)
    # A step that fails transiently (provider unreachable, storage 5xx) is tried again
    # after step_retry_seconds, doubling each time up to step_retry_max_seconds; the
    # count is kept in the database. After step_failures_before_comment failures in a
    # row the owner gets a comment and /readyz reports the provider down; the
    # channel's max_step_failures ends it in Failed.
    step_retry_seconds: float = Field(default=30.0, gt=0)
    step_retry_max_seconds: float = Field(default=900.0, gt=0)
    step_failures_before_comment: int = Field(default=3, ge=1)
    # How often the leader reads the task pages that are in Notion's trash, to find
    # restored ones (a restore need not change the page's edit time).
    trash_check_seconds: float = Field(default=300.0, ge=0)

    # Print the traceback under a CLI error's one-line message (also `--debug`).
    debug: bool = False

    http_host: str = "127.0.0.1"
    http_port: int = Field(default=9477, ge=0, le=65535)
