"""Settings of the Google (Vertex AI) provider (env prefix REELGATE_GOOGLE_)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr, field_validator
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

    # Current GA ids on Vertex AI, checked 2026-12-01 against "Model versions and
    # lifecycle" (docs.cloud.google.com/gemini-enterprise-agent-platform/models/
    # model-versions) and the Cloud TTS Gemini-TTS page. Every id must be in
    # orchestrator/providers/catalogue.py (its prices, retirement and quota).
    # gemini-3.5-flash: GA 2026-05-19, retires no earlier than 2027-05-19.
    storyboard_model: str = "gemini-3.5-flash"
    # gemini-3.1-flash-image: GA 2026-05-28, retires no earlier than 2027-05-28.
    image_model: str = "gemini-3.1-flash-image"
    # veo-3.1-generate-001: GA 2025-11-17, no retirement date announced; 50 RPM.
    video_model: str = "veo-3.1-generate-001"
    # gemini-2.5-flash-tts: GA, no retirement date published (the 3.8 TTS models are
    # Preview on Vertex and global-only).
    tts_model: str = "gemini-2.5-flash-tts"
    # Veo 3.x can add its own soundtrack; narration is made separately, and
    # video-only seconds cost half.
    video_generate_audio: bool = False
    # "720p" | "1080p" | "4k" (4k only with audio); None = the model's default (720p).
    # Veo renders 1080p and 4k as 8-second clips only.
    video_resolution: str | None = None
    default_voice: str = "Kore"
    # Where Veo writes finished clips (parameters.storageUri), e.g. gs://bucket/veo/.
    # Empty: the video bytes come back in the operation. With a bucket, clips are
    # downloaded with the project's credentials (not with an express-mode API key).
    output_gcs_uri: str | None = None
    # Cloud Storage JSON API endpoint for those downloads (tests, proxies).
    gcs_base_url: str = "https://storage.googleapis.com"

    # Read calls (operation polls) are retried by the SDK with these settings;
    # create calls never are.
    read_retry_attempts: int = Field(default=3, ge=1)
    read_retry_initial_s: float = Field(default=1.0, ge=0)
    read_retry_max_s: float = Field(default=10.0, ge=0)
    read_retry_jitter_s: float = Field(default=1.0, ge=0)

    # Automatic rephrased resubmissions after a safety-filtered clip (a channel may override).
    rai_rephrase_retries: int = Field(default=1, ge=0)

    # 429 RESOURCE_EXHAUSTED on a paid call means Vertex did not take the request, so
    # it is retried after a backoff (the only error a create is ever retried on).
    rate_limit_retries: int = Field(default=4, ge=0)
    rate_limit_initial_s: float = Field(default=2.0, ge=0)
    rate_limit_max_s: float = Field(default=30.0, ge=0)

    @field_validator("output_gcs_uri", "video_resolution", mode="before")
    @classmethod
    def _empty_is_none(cls, value: object) -> object:
        return None if value == "" else value

    @field_validator("output_gcs_uri")
    @classmethod
    def _gcs_uri(cls, value: str | None) -> str | None:
        if value is not None and not (value.startswith("gs://") and len(value) > 5):
            raise ValueError("must look like gs://bucket/prefix/")
        if value is not None and not value.endswith("/"):
            value += "/"
        return value
