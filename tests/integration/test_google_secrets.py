"""Credentials never reach error messages or logs, even when the server echoes them."""

from __future__ import annotations

import logging
import traceback

import pytest
import structlog

from orchestrator.errors import ProviderError
from orchestrator.providers import ClipRequest, GoogleProvider, Image
from tests.fakes.vertex import FakeVertex, tiny_png
from tests.fixtures.vertex import MakeGoogleSettings, static_credentials

API_KEY = "AIzaSyD-very-secret-express-key-0123456789"
TOKEN = "ya29.very-secret-bearer-token-abcdef"


def _everything_said(err: BaseException) -> str:
    parts = [str(err), repr(err), "".join(traceback.format_exception(err))]
    detail = getattr(err, "detail", None)
    if detail:
        parts.append(detail)
    return "\n".join(parts)


async def _fail_every_call(provider: GoogleProvider, fake: FakeVertex) -> list[ProviderError]:
    errors: list[ProviderError] = []
    frame = Image(tiny_png("x"))
    clip = ClipRequest(start_frame=frame, end_frame=frame, prompt="p", seconds=8, aspect="16:9")
    fake.fail_next("generate", 400)
    with pytest.raises(ProviderError) as info:
        await provider.plan_storyboard("brief", 2, 8, "16:9")
    errors.append(info.value)
    fake.fail_next("create", 403)
    with pytest.raises(ProviderError) as info:
        await provider.start_clip(clip)
    errors.append(info.value)
    name = await provider.start_clip(clip)
    fake.fail_next("poll", 503, times=provider.settings.read_retry_attempts)
    with pytest.raises(ProviderError) as info:
        await provider.poll_clip(name)
    errors.append(info.value)
    fake.fail_operations(r"^q$", code=7, message="denied")
    return errors


@pytest.mark.parametrize("mode", ["api_key", "bearer"])
async def test_credentials_never_appear_in_errors_or_logs(
    fake_vertex: FakeVertex,
    google_settings: MakeGoogleSettings,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
    mode: str,
) -> None:
    fake_vertex.echo_credentials_in_errors = True
    caplog.set_level(logging.DEBUG)
    if mode == "api_key":
        settings = google_settings(project="", api_key=API_KEY)
        provider = GoogleProvider(settings)
        secret = API_KEY
    else:
        settings = google_settings()
        provider = GoogleProvider(settings, credentials=static_credentials(TOKEN))
        secret = TOKEN
    try:
        with structlog.testing.capture_logs() as events:
            errors = await _fail_every_call(provider, fake_vertex)
    finally:
        await provider.aclose()

    # The fake really did send the secret back, so redaction was exercised.
    assert any(
        secret in (r.headers.get("x-goog-api-key", "") + r.headers.get("authorization", ""))
        for r in fake_vertex.requests
    )
    assert all("***" in str(e) for e in errors)
    for err in errors:
        assert secret not in _everything_said(err)
    assert secret not in repr(events)
    assert secret not in caplog.text
    captured = capsys.readouterr()
    assert secret not in captured.out + captured.err
    assert secret not in repr(settings)
    assert secret not in str(settings.model_dump())
