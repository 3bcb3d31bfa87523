"""Settings of the Google (Vertex AI) provider (env prefix REELGATE_GOOGLE_)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["GoogleSettings"]


class GoogleSettings(BaseSettings):
    """How to reach Vertex AI and which models to use.

    Authentication, first match wins: `api_key` (Vertex AI express mode), then
    `credentials_file` (a service-account JSON), then Application Default
    Credentials. `project` and `location` are required unless `api_key` is set.
    """

    model_config = SettingsConfigDict(
        env_prefix="REELGATE_GOOGLE_", env_file=".env", extra="ignore"
    )

    project: str = ""
    location: str = "us-central1"
    api_key: SecretStr = SecretStr("")
    credentials_file: Path | None = None
    # Replaces https://{location}-aiplatform.googleapis.com/ (tests, proxies).
    base_url: str | None = None
    # google-genai's HttpOptions.timeout is in milliseconds.
    timeout_ms: int = Field(default=120_000, gt=0)

    storyboard_model: str = "gemini-2.5-flash"
    image_model: str = "gemini-2.5-flash-image"
    video_model: str = "veo-3.1-generate-001"
    tts_model: str = "gemini-2.5-flash-tts"
    # Veo 3.x can add its own soundtrack; narration is made separately, and
    # video-only seconds cost about half.
    video_generate_audio: bool = False
    video_resolution: str | None = None  # "720p" | "1080p"; None = model default
    default_voice: str = "Kore"

    # Read calls (operation polls) are retried by the SDK with these settings;
    # create calls never are.
    read_retry_attempts: int = Field(default=3, ge=1)
    read_retry_initial_s: float = Field(default=1.0, ge=0)
    read_retry_max_s: float = Field(default=10.0, ge=0)
    read_retry_jitter_s: float = Field(default=1.0, ge=0)

    # Automatic rephrased resubmissions after a safety-filtered clip (a channel may override).
    rai_rephrase_retries: int = Field(default=1, ge=0)
