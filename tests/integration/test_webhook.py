"""Notion webhook receiver on a real server: HMAC-verified events trigger a page poll."""

from __future__ import annotations

import asyncio
import contextlib
import json
import stat
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from orchestrator.daemon.health import HealthServer, build_health_app
from orchestrator.daemon.webhook import (
    DEFAULT_WEBHOOK_PATH,
    SIGNATURE_HEADER,
    NotionWebhookReceiver,
    WebhookSettings,
    sign_body,
    verify_signature,
)
from orchestrator.metrics import Metrics

TOKEN = "secret_vt_0123456789abcdef0123456789abcdef"
PAGE_ID = "1a2b3c4d-0000-4000-8000-00000000abcd"


def _event(event_type: str = "page.properties_updated", *, event_id: str = "evt-1") -> bytes:
    body: dict[str, Any] = {
        "id": event_id,
        "timestamp": "2025-06-01T12:00:00.000Z",
        "workspace_id": "ws-1",
        "subscription_id": "sub-1",
        "integration_id": "int-1",
        "type": event_type,
        "authors": [{"id": "user-1", "type": "person"}],
        "attempt_number": 1,
        "entity": {"id": PAGE_ID, "type": "page"},
        "data": {"parent": {"id": "ds-1", "type": "database"}, "updated_properties": ["abc"]},
    }
    return json.dumps(body).encode()


class Recorder:
    def __init__(self) -> None:
        self.pages: list[str] = []
        self.tokens: list[str] = []
        self.seen = asyncio.Event()

    async def on_page(self, page_id: str) -> None:
        self.pages.append(page_id)
        self.seen.set()

    async def on_token(self, token: str) -> None:
        self.tokens.append(token)


@contextlib.asynccontextmanager
async def _serve(receiver: NotionWebhookReceiver) -> AsyncIterator[httpx.AsyncClient]:
    app = build_health_app(Metrics(), extra_routes=receiver.routes())
    async with HealthServer(app) as server, httpx.AsyncClient(base_url=server.base_url) as client:
        yield client
    await receiver.aclose()


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
async def client(recorder: Recorder) -> AsyncIterator[httpx.AsyncClient]:
    receiver = NotionWebhookReceiver(SecretStr(TOKEN), recorder.on_page)
    async with _serve(receiver) as c:
        yield c


def test_signature_helpers() -> None:
    body = b'{"a":1}'
    sig = sign_body(TOKEN, body)
    assert sig.startswith("sha256=")
    assert len(sig) == 7 + 64
    assert verify_signature(TOKEN, body, sig)
    assert not verify_signature(TOKEN, body + b" ", sig)
    assert not verify_signature("other-token", body, sig)
    assert not verify_signature(TOKEN, body, None)
    assert not verify_signature("", body, sig)
    assert not verify_signature(TOKEN, body, "sha256=é")


async def test_valid_signature_triggers_the_page_callback(
    client: httpx.AsyncClient, recorder: Recorder
) -> None:
    body = _event()
    response = await client.post(
        DEFAULT_WEBHOOK_PATH,
        content=body,
        headers={SIGNATURE_HEADER: sign_body(TOKEN, body), "content-type": "application/json"},
    )
    assert response.status_code == 200
    assert response.json() == {"status": "accepted"}
    await asyncio.wait_for(recorder.seen.wait(), timeout=5)
    assert recorder.pages == [PAGE_ID]

    # A retried delivery of the same event is acknowledged but polls nothing again.
    again = await client.post(
        DEFAULT_WEBHOOK_PATH, content=body, headers={SIGNATURE_HEADER: sign_body(TOKEN, body)}
    )
    assert again.status_code == 200
    assert again.json() == {"status": "duplicate"}

    created = _event("page.created", event_id="evt-2")
    recorder.seen.clear()
    ok = await client.post(
        DEFAULT_WEBHOOK_PATH, content=created, headers={SIGNATURE_HEADER: sign_body(TOKEN, created)}
    )
    assert ok.status_code == 200
    await asyncio.wait_for(recorder.seen.wait(), timeout=5)
    assert recorder.pages == [PAGE_ID, PAGE_ID]


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {SIGNATURE_HEADER: "sha256=" + "0" * 64},
        {SIGNATURE_HEADER: sign_body("wrong-token-123456", _event())},
        {SIGNATURE_HEADER: "garbage"},
    ],
    ids=["missing", "zeros", "wrong-key", "garbage"],
)
async def test_bad_or_missing_signature_is_401_and_triggers_nothing(
    client: httpx.AsyncClient, recorder: Recorder, headers: dict[str, str]
) -> None:
    response = await client.post(DEFAULT_WEBHOOK_PATH, content=_event(), headers=headers)
    assert response.status_code == 401
    await asyncio.sleep(0.05)
    assert recorder.pages == []


async def test_tampered_body_is_401(client: httpx.AsyncClient, recorder: Recorder) -> None:
    body = _event()
    tampered = body.replace(PAGE_ID.encode(), b"ffffffff-0000-4000-8000-000000000000")
    response = await client.post(
        DEFAULT_WEBHOOK_PATH, content=tampered, headers={SIGNATURE_HEADER: sign_body(TOKEN, body)}
    )
    assert response.status_code == 401
    assert recorder.pages == []


async def test_non_page_events_are_acknowledged_and_ignored(
    client: httpx.AsyncClient, recorder: Recorder
) -> None:
    body = json.dumps(
        {"id": "evt-c", "type": "comment.created", "entity": {"id": "c-1", "type": "comment"}}
    ).encode()
    response = await client.post(
        DEFAULT_WEBHOOK_PATH, content=body, headers={SIGNATURE_HEADER: sign_body(TOKEN, body)}
    )
    assert response.status_code == 200
    assert response.json() == {"status": "ignored"}
    assert recorder.pages == []


async def test_oversized_body_is_refused(client: httpx.AsyncClient) -> None:
    response = await client.post(DEFAULT_WEBHOOK_PATH, content=b"x" * (300 * 1024))
    assert response.status_code == 413


async def test_verification_request_stores_token_and_is_then_used(
    tmp_path: Path, recorder: Recorder, capsys: pytest.CaptureFixture[str]
) -> None:
    token_file = tmp_path / "secrets" / "notion-webhook-token"
    receiver = NotionWebhookReceiver(
        None, recorder.on_page, on_verification_token=recorder.on_token, token_file=token_file
    )
    async with _serve(receiver) as client:
        # Before any token exists, events cannot be verified.
        early = await client.post(
            DEFAULT_WEBHOOK_PATH, content=_event(), headers={SIGNATURE_HEADER: "sha256=00"}
        )
        assert early.status_code == 401

        response = await client.post(DEFAULT_WEBHOOK_PATH, json={"verification_token": TOKEN})
        assert response.status_code == 200
        assert recorder.tokens == [TOKEN]
        assert token_file.read_text().strip() == TOKEN
        assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
        assert receiver.has_token

        # Once the admin verifies the subscription in Notion, events arrive signed.
        body = _event(event_id="evt-after-verify")
        ok = await client.post(
            DEFAULT_WEBHOOK_PATH, content=body, headers={SIGNATURE_HEADER: sign_body(TOKEN, body)}
        )
        assert ok.status_code == 200
        await asyncio.wait_for(recorder.seen.wait(), timeout=5)
        assert recorder.pages == [PAGE_ID]
    captured = capsys.readouterr()
    assert TOKEN not in captured.out + captured.err


async def test_configured_token_is_not_replaced_by_a_verification_request(
    tmp_path: Path, recorder: Recorder
) -> None:
    receiver = NotionWebhookReceiver(TOKEN, recorder.on_page, token_file=tmp_path / "t")
    async with _serve(receiver) as client:
        forged = "attacker-token-0000000000"
        assert (
            await client.post(DEFAULT_WEBHOOK_PATH, json={"verification_token": forged})
        ).status_code == 200
        body = _event()
        rejected = await client.post(
            DEFAULT_WEBHOOK_PATH, content=body, headers={SIGNATURE_HEADER: sign_body(forged, body)}
        )
        assert rejected.status_code == 401
        bad = await client.post(DEFAULT_WEBHOOK_PATH, json={"verification_token": 5})
        assert bad.status_code == 400
    assert recorder.pages == []


def test_settings_read_the_token_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REELGATE_NOTION_WEBHOOK_ENABLED", "true")
    monkeypatch.setenv("REELGATE_NOTION_WEBHOOK_VERIFICATION_TOKEN", TOKEN)
    settings = WebhookSettings(_env_file=None)
    assert settings.enabled
    assert settings.verification_token.get_secret_value() == TOKEN
    assert TOKEN not in repr(settings)
