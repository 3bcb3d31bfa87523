"""Settings for talking to Notion (env prefix REELGATE_NOTION_)."""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["NotionSettings"]


class NotionSettings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="REELGATE_NOTION_", env_file=".env", extra="ignore"
    )

    # notion-client appends /v1 itself: give the origin only.
    base_url: str = "https://api.notion.com"
    token: SecretStr = SecretStr("")
    tasks_data_source_id: str = ""
    videos_data_source_id: str = ""
    requests_per_second: float = Field(default=2.5, gt=0)
    # Requests that may go at once after a quiet spell, on top of the average above.
    # Notion: "an average of three requests per second. Some bursts beyond the average
    # rate are allowed" (developers.notion.com/reference/request-limits, checked
    # 2026-12-01; the burst size is not published). 8 at 2.5/s never exceeds a bucket
    # of 10 at 3/s, the local API's model of it. It lets a finished batch of clips
    # (18 row writes and the status) show in Notion seconds sooner. Replicas starting
    # beside the leader read 3 times each outside its pace: 429s at start-up, lower it.
    burst: int = Field(default=8, ge=1)
    timeout_s: float = Field(default=30.0, gt=0)
    max_retries: int = Field(default=5, ge=0)
    # First back-off step when Notion gives no Retry-After (doubled per attempt, jittered).
    retry_backoff_s: float = Field(default=1.0, ge=0)
    # Upper bound on any single wait, including a server-sent Retry-After.
    retry_max_wait_s: float = Field(default=60.0, ge=0)
    # Titles setup-notion gives the two databases (and looks for on a second run).
    tasks_database_title: str = "Reelgate Tasks"
    videos_database_title: str = "Reelgate Videos"
    # JSON object mapping logical field names to this workspace's property names,
    # e.g. {"status": "Stage", "error_log": "Review Notes"}.
    property_names: dict[str, str] = Field(default_factory=dict)
    video_property_names: dict[str, str] = Field(default_factory=dict)
