"""Settings of the orchestrator (env prefix REELGATE_).

Built once in the CLI and passed down; nothing else reads the environment.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
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
    # An idle worker looks for work after 0.5 s, then 1, 2, ... up to this; a Notion
    # change or a finished operation in this process wakes it at once. Other
    # replicas' changes (and `reelgate retry` from a shell) wait at most this long.
    worker_idle_max_seconds: float = Field(default=5.0, gt=0)
    lease_seconds: float = Field(default=120.0, gt=0)
    heartbeat_seconds: float = Field(default=30.0, gt=0)
    notion_poll_seconds: float = Field(default=60.0, gt=0)
    outbox_drain_seconds: float = Field(default=1.0, gt=0)
    # An empty outbox is looked at less often, up to this; a write queued in this
    # process wakes the drainer at once, one queued by another replica waits for it.
    outbox_idle_max_seconds: float = Field(default=5.0, gt=0)
    # The operation loop sleeps until the next operation is due, or until a submit in
    # this process wakes it; this is only its longest sleep (it also picks up
    # operations submitted by other replicas).
    operation_poll_seconds: float = Field(default=30.0, gt=0)
    # Cluster-wide cap on in-flight provider operations (counted in the database).
    # Generous: creates are paced by the model's quota (create_requests_per_minute),
    # so an 18-clip task fans out in one go.
    provider_concurrency: int = Field(default=100, ge=1)
    # Creates per minute per model, cluster-wide; None: the model's published quota
    # from the catalogue (Veo 3.1 on Vertex: 50).
    create_requests_per_minute: int | None = Field(default=None, ge=1)
    # How long a replica's claim on an operation's poll lasts (the poll, download
    # and store must fit). A dead process's claims are re-adopted at start.
    operation_claim_seconds: float = Field(default=300.0, gt=0)
    # After a crash between "submitting" and saving the operation name we cannot
    # know whether the provider billed us: "flag" stops and asks a human,
    # "resubmit" accepts the risk of paying twice.
    lost_submission_policy: Literal["flag", "resubmit"] = "flag"
    shutdown_grace_seconds: float = Field(default=30.0, gt=0)
    # A loop or job that failed this many runs in a row makes /healthz answer 503.
    unhealthy_after_failures: int = Field(default=5, ge=1)
    # Clip operations are polled on a cadence from L, the model's expected latency
    # (catalogue, a channel's expected_clip_latency_s, or learned): the first poll at
    # first_fraction x L, then a back-off capped at cap_fraction x L, so a finished
    # operation waits at most ~10 % of L (orchestrator/providers/backoff.py).
    clip_poll_first_fraction: float = Field(default=0.5, gt=0, le=1)
    clip_poll_cap_fraction: float = Field(default=0.1, gt=0, le=1)
    clip_poll_jitter: float = Field(default=0.2, ge=0, lt=1)
    # Learn L per model from the median of the latest observed clips (submit to
    # stored); needs this many samples, else the catalogue's figure holds.
    clip_latency_learning: bool = True
    clip_latency_samples: int = Field(default=5, ge=1, le=200)
    # Fixed figures instead (seconds): the first poll delay and the back-off cap.
    clip_poll_initial_seconds: float | None = Field(default=None, gt=0)
    clip_poll_max_seconds: float | None = Field(default=None, gt=0)
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

    @field_validator(
        "create_requests_per_minute",
        "clip_poll_initial_seconds",
        "clip_poll_max_seconds",
        mode="before",
    )
    @classmethod
    def _empty_is_none(cls, value: object) -> object:
        # `REELGATE_CREATE_REQUESTS_PER_MINUTE=` (as in .env.example) means "not set".
        return None if value == "" else value
