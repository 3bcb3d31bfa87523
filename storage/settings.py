"""Settings for where media goes (env prefix REELGATE_STORAGE_)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["StorageSettings"]


class StorageSettings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="REELGATE_STORAGE_", env_file=".env", extra="ignore"
    )

    backend: Literal["local", "r2", "notion"] = "local"
    # local
    local_dir: Path = Path("reelgate-data/media")
    local_base_url: str = ""  # empty: the daemon's own file server decides
    # r2
    r2_endpoint_url: str = ""
    r2_access_key_id: SecretStr = SecretStr("")
    r2_secret_access_key: SecretStr = SecretStr("")
    r2_bucket: str = ""
    r2_public_base_url: str = ""  # custom domain or r2.dev; empty: presigned GETs
    r2_presign_seconds: int = Field(default=6 * 24 * 3600, gt=0, le=7 * 24 * 3600)
    multipart_threshold_mb: int = Field(default=16, gt=4)
    # S3/R2 parts must be >= 5 MiB (except the last); R2 also wants equal-sized parts,
    # which boto3's TransferConfig produces.
    multipart_chunk_mb: int = Field(default=16, ge=5, le=512)
    # R2 copes badly with many concurrent parts of one upload; keep it small.
    r2_max_concurrency: int = Field(default=3, ge=1, le=16)
    r2_max_attempts: int = Field(default=5, ge=1, le=20)
    r2_connect_timeout_s: float = Field(default=10.0, gt=0)
    r2_read_timeout_s: float = Field(default=60.0, gt=0)
