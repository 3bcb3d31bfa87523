"""Building a google-genai client for Vertex AI, and turning its errors into ours.

Verified against google-genai 3.4 (`_api_client.py`):
- `vertexai=True` with `project` + `location` sends `Authorization: Bearer` from the
  credentials; with only `api_key` (express mode) it sends `x-goog-api-key` and
  paths lose the `projects/{p}/locations/{l}/` prefix.
- `HttpOptions.base_url` replaces the regional endpoint; the path keeps the API
  version (`v1beta1/...`).
- The client's own `retry_options` would apply to every call, create included, so
  the client gets none; read calls pass `HttpRetryOptions` per request instead.
- Static-token credentials (`google.oauth2.credentials.Credentials(token=...)`,
  no expiry) are never refreshed, so no request goes to Google's token endpoint.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterable
from typing import Any

import google.auth
import google.auth.credentials
import google.auth.exceptions
import httpx
from google import genai
from google.genai import errors as genai_errors
from google.genai import types

from orchestrator.errors import (
    ConfigError,
    ProviderError,
    ProviderPermanentError,
    ProviderTransientError,
    SubmitOutcomeUnknown,
)
from orchestrator.providers.settings import GoogleSettings

__all__ = [
    "build_client",
    "create_http_options",
    "error_message",
    "hide_secrets_in_sdk_logs",
    "is_rate_limited",
    "is_safety_block",
    "is_safety_text",
    "load_credentials",
    "map_error",
    "read_http_options",
    "redact",
    "retry_delay_s",
]

_CLOUD_SCOPE = "https://www.googleapis.com/auth/cloud-platform"
# HTTP statuses worth another try: timeouts, rate limits, server trouble.
_TRANSIENT_HTTP = frozenset({408, 429, 500, 502, 503, 504})
# On a create, these mean the request reached Vertex and its fate is unknown: a 500
# INTERNAL or a 502/504 from the front end may come after the operation was started
# (and billed). 429 and 503 mean Vertex did not take the request.
_CREATE_OUTCOME_UNKNOWN_HTTP = frozenset({500, 502, 504})
# How Vertex words an input-side safety block (a 400 on create or generate, or a
# finished operation's error): "The prompt could not be submitted. This prompt contains
# words that violate Vertex AI's usage guidelines. ... Support codes: 29310472", or an
# input image "blocked by your current safety settings". The support codes are listed
# at docs.cloud.google.com/vertex-ai/generative-ai/docs/multimodal/gemini-image-responsible-ai
# (checked 2026-12-01).
_SAFETY_WORDING = re.compile(
    r"support codes?:|usage guidelines|could not be submitted|safety (?:settings|filter)"
    r"|responsible ai|prohibited content",
    re.IGNORECASE,
)
_DURATION = re.compile(r"^(\d+(?:\.\d+)?)s$")

try:  # google-genai prefers httpx2 when it is installed.
    import httpx2

    _TRANSPORT_ERRORS: tuple[type[Exception], ...] = (httpx.TransportError, httpx2.TransportError)
    _CONNECT_ERRORS: tuple[type[Exception], ...] = (httpx.ConnectError, httpx2.ConnectError)
except ImportError:  # pragma: no cover - depends on the environment
    _TRANSPORT_ERRORS = (httpx.TransportError,)
    _CONNECT_ERRORS = (httpx.ConnectError,)


def build_client(
    settings: GoogleSettings,
    *,
    credentials: google.auth.credentials.Credentials | None = None,
) -> genai.Client:
    """A Vertex AI client from settings; `credentials` overrides file / ADC."""
    http_options = types.HttpOptions(timeout=settings.timeout_ms)
    if settings.base_url:
        http_options.base_url = settings.base_url
        if settings.base_url.startswith("http://"):
            # Plain HTTP (a loopback fake or a local proxy): no TLS, so skip the
            # trust-store load the SDK otherwise does for every client (~0.1 s each).
            http_options.client_args = {"verify": False}
            http_options.async_client_args = {"verify": False}
    api_key = settings.api_key.get_secret_value()
    if api_key and credentials is None:
        # Express mode: the key alone; project/location must not be passed with it.
        return genai.Client(vertexai=True, api_key=api_key, http_options=http_options)
    if not settings.project or not settings.location:
        raise ConfigError(
            "REELGATE_GOOGLE_PROJECT and REELGATE_GOOGLE_LOCATION are required "
            "unless REELGATE_GOOGLE_API_KEY (Vertex AI express mode) is set"
        )
    if credentials is None and settings.credentials_file is not None:
        credentials = load_credentials(settings)
    return genai.Client(
        vertexai=True,
        project=settings.project,
        location=settings.location,
        credentials=credentials,
        http_options=http_options,
    )


def load_credentials(settings: GoogleSettings) -> google.auth.credentials.Credentials:
    """The project's credentials: the service-account file, else Application Default."""
    path = settings.credentials_file
    try:
        if path is not None:
            creds, _ = google.auth.load_credentials_from_file(str(path), scopes=[_CLOUD_SCOPE])  # type: ignore[no-untyped-call]
        else:
            creds, _ = google.auth.default(scopes=[_CLOUD_SCOPE])  # type: ignore[no-untyped-call]
    except (OSError, google.auth.exceptions.DefaultCredentialsError) as exc:
        # The message names the file, never its contents.
        where = (
            f"credentials file {path}" if path is not None else "application default credentials"
        )
        raise ConfigError(f"cannot load Google {where}: {type(exc).__name__}") from None
    return creds  # type: ignore[no-any-return]


def read_http_options(settings: GoogleSettings) -> types.HttpOptions:
    """Per-request options for idempotent reads (polls): SDK-level retries."""
    return types.HttpOptions(
        retry_options=types.HttpRetryOptions(
            attempts=settings.read_retry_attempts,
            initial_delay=settings.read_retry_initial_s,
            max_delay=settings.read_retry_max_s,
            jitter=settings.read_retry_jitter_s,
            http_status_codes=sorted(_TRANSIENT_HTTP),
        )
    )


def create_http_options() -> types.HttpOptions:
    """Per-request options for paid create calls: exactly one attempt.

    Explicit per-request retry options also switch off the SDK's implicit resend on
    aiohttp connection errors (`implicit_retry=False` in `_async_request`).
    """
    return types.HttpOptions(retry_options=types.HttpRetryOptions(attempts=1))


# SDK loggers that can print a server's error text (tenacity logs each retried
# APIError at INFO through `google_genai._api_client`).
_SDK_LOGGERS = (
    "google_genai._api_client",
    "google_genai._common",
    "google_genai.models",
    "google_genai.operations",
)


class _SecretFilter(logging.Filter):
    """Masks known secrets in SDK log records before any handler sees them."""

    def __init__(self) -> None:
        super().__init__()
        self.secrets: set[str] = set()
        self.lock = threading.Lock()

    def filter(self, record: logging.LogRecord) -> bool:
        with self.lock:
            secrets = tuple(self.secrets)
        if secrets:
            message = record.getMessage()
            cleaned = redact(message, secrets)
            if cleaned != message:
                record.msg, record.args = cleaned, None
        return True


_SDK_LOG_FILTER = _SecretFilter()


def hide_secrets_in_sdk_logs(secrets: Iterable[str]) -> None:
    """Register secrets to mask in google-genai's own log lines (idempotent)."""
    with _SDK_LOG_FILTER.lock:
        _SDK_LOG_FILTER.secrets.update(s for s in secrets if s)
    for name in _SDK_LOGGERS:
        logger = logging.getLogger(name)
        if _SDK_LOG_FILTER not in logger.filters:
            logger.addFilter(_SDK_LOG_FILTER)


def redact(text: str, secrets: Iterable[str]) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text


def error_message(exc: BaseException) -> str:
    """The server's own words for an APIError ('' otherwise)."""
    return str(exc.message or "") if isinstance(exc, genai_errors.APIError) else ""


def is_safety_text(message: str) -> bool:
    """Whether an error text is Vertex's safety-filter wording (a refused input)."""
    return bool(_SAFETY_WORDING.search(message))


def is_safety_block(exc: BaseException) -> bool:
    """A 400 INVALID_ARGUMENT whose message is Vertex's safety-filter wording."""
    return (
        isinstance(exc, genai_errors.APIError)
        and exc.code == 400
        and is_safety_text(error_message(exc))
    )


def is_rate_limited(exc: BaseException) -> bool:
    return isinstance(exc, genai_errors.APIError) and exc.code == 429


def retry_delay_s(exc: BaseException) -> float | None:
    """The delay a 429's google.rpc.RetryInfo detail asks for ("3s"), if any."""
    if not isinstance(exc, genai_errors.APIError) or not isinstance(exc.details, dict):
        return None
    error: Any = exc.details.get("error", exc.details)
    details = error.get("details") if isinstance(error, dict) else None
    for detail in details if isinstance(details, list) else []:
        if isinstance(detail, dict) and str(detail.get("@type", "")).endswith("RetryInfo"):
            match = _DURATION.match(str(detail.get("retryDelay", "")))
            if match:
                return float(match.group(1))
    return None


def map_error(
    exc: BaseException, *, action: str, secrets: Iterable[str] = (), submit: bool = False
) -> ProviderError | None:
    """Our error for a library error raised during `action`; None if not ours to map.

    `submit=True` marks a paid create call: a timeout, a dropped connection or a
    500/502/504 there means the outcome is unknown (`SubmitOutcomeUnknown`), not merely
    transient.
    """
    secrets = tuple(secrets)
    if isinstance(exc, genai_errors.APIError):
        message = redact(
            f"{action}: HTTP {exc.code} {exc.status or ''}: {exc.message or ''}", secrets
        )
        if submit and exc.code in _CREATE_OUTCOME_UNKNOWN_HTTP:
            return SubmitOutcomeUnknown(
                f"{message.strip()}; the operation may exist - do not resubmit blindly"
            )
        if exc.code in _TRANSIENT_HTTP:
            return ProviderTransientError(message.strip())
        return ProviderPermanentError(message.strip(), detail=redact(str(exc.details), secrets))
    if isinstance(exc, _CONNECT_ERRORS):
        # Nothing was sent: safe to call again later, even for a create.
        return ProviderTransientError(f"{action}: cannot connect ({type(exc).__name__})")
    if isinstance(exc, _TRANSPORT_ERRORS):
        name = type(exc).__name__
        if submit:
            return SubmitOutcomeUnknown(
                f"{action}: {name} after sending; the operation may exist - do not resubmit blindly"
            )
        return ProviderTransientError(f"{action}: {name}")
    if isinstance(exc, google.auth.exceptions.RefreshError):
        return ProviderPermanentError(f"{action}: credentials could not be refreshed")
    if isinstance(exc, google.auth.exceptions.DefaultCredentialsError):
        return ProviderPermanentError(f"{action}: no usable Google credentials")
    return None
