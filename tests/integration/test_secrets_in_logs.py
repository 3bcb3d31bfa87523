"""Secrets (Notion token, R2 keys, Google API key) never leave the process in clear.

A whole scenario runs with the daemon's logging (JSON, redactor) writing to a
buffer; servers are set up to echo credentials back in their error messages.
Then every place a secret could land is read: the log, the Notion workspace
(pages, comments, blocks), the database, `reelgate status --json`, and the
text of the exceptions raised.
"""

from __future__ import annotations

import asyncio
import dataclasses
import io
import json
import logging
import traceback
from pathlib import Path
from typing import Any

import pytest
import structlog
from pydantic import SecretStr
from sqlalchemy import select
from typer.testing import CliRunner

from notion_sync.client import NotionClient
from notion_sync.errors import NotionError
from notion_sync.local_api.server import LocalNotionServer
from notion_sync.settings import NotionSettings
from orchestrator.channels import ChannelConfig, Channels
from orchestrator.cli import app
from orchestrator.config import AppConfig
from orchestrator.db.models import Base
from orchestrator.logging import SecretRedactor, configure_logging
from orchestrator.providers.settings import GoogleSettings
from tests.fakes.vertex import FakeVertex
from tests.fixtures.pipeline import TOKEN, PipelineEnv, make_pipeline_env

pytestmark = pytest.mark.timeout(90)

API_KEY = "AIzaSyD-secret-express-key-for-logs-0123456789"
R2_KEY_ID = "r2-access-key-id-0123456789abcdef"
R2_SECRET = "r2-secret-access-key-fedcba9876543210-very-secret"
SECRETS = (TOKEN, API_KEY, R2_KEY_ID, R2_SECRET)
SHOTS = [
    ("a lighthouse on black rocks at dusk", "slow push in", "The last night."),
    ("waves climbing the rocks", "pan left", "The sea climbs."),
]


def leaked(text: str) -> list[str]:
    return [
        name
        for name, s in zip(("notion", "google", "r2 id", "r2 secret"), SECRETS, strict=True)
        if s in text
    ]


def everything_said(err: BaseException) -> str:
    return "\n".join([str(err), repr(err), "".join(traceback.format_exception(err))])


async def db_text(env: PipelineEnv) -> str:
    """Every row of every table, as text."""
    out: list[str] = []
    async with env.sessions() as session:
        for table in Base.metadata.sorted_tables:
            for row in (await session.execute(select(table))).all():
                out.append(repr(tuple(row)))
    return "\n".join(out)


async def test_no_secret_in_logs_notion_db_status_or_errors(
    tmp_path: Path,
    local_notion: LocalNotionServer,
    fake_vertex: FakeVertex,
    captured_logs: io.StringIO,
) -> None:
    fake_vertex.json_text = json.dumps(
        {
            "title": "Keeper",
            "shots": [
                {"visual_prompt": v, "motion_prompt": m, "narration": n} for v, m, n in SHOTS
            ],
        }
    )
    # Servers that repeat the caller's credentials in their error messages.
    fake_vertex.echo_credentials_in_errors = True
    # One clip's create fails for good (which one depends on which create arrives
    # first: the creates of a task go out together).
    fake_vertex.fail_next("create", 400, times=1)
    fake_vertex.fail_next("poll", 503, times=1)  # a transient read error
    local_notion.knobs.inject(
        status=400,
        method="POST",
        path_prefix="/v1/comments",
        times=1,
        message=f"bad request (Authorization: Bearer {TOKEN})",
    )

    def configure(config: AppConfig) -> AppConfig:
        google = GoogleSettings(
            _env_file=None,  # type: ignore[call-arg]
            api_key=API_KEY,  # type: ignore[arg-type]
            base_url=fake_vertex.url,
            timeout_ms=10_000,
            read_retry_attempts=1,
        )
        storage = config.storage.model_copy(
            update={
                "r2_endpoint_url": "http://127.0.0.1:9",
                "r2_access_key_id": SecretStr(R2_KEY_ID),
                "r2_secret_access_key": SecretStr(R2_SECRET),
                "r2_bucket": "unused",
            }
        )
        return dataclasses.replace(config, google=google, storage=storage)

    channel = ChannelConfig(
        name="x", provider="google", auto_approve=frozenset({"storyboard", "keyframes"})
    )
    channels = Channels({"default": ChannelConfig(name="default"), "x": channel}, "test")
    async with make_pipeline_env(
        tmp_path, local_notion, channels=channels, configure=configure
    ) as env:
        config = env.runtime.config
        assert set(SECRETS) <= set(config.secrets())
        configure_logging(level="debug", json=True, secrets=config.secrets(), stream=captured_logs)

        page = env.create_task(clips=2, seconds=4, channel="x")
        await env.drive_to(page, "Video Ready")
        clips = await env.clips(page)
        assert sorted(c.status for c in clips) == ["complete", "failed"]
        (failed,) = (c for c in clips if c.status == "failed")
        assert failed.error  # the echoed message was kept, scrubbed

        # A Notion 401 from a server that wants another token.
        other = LocalNotionServer(token="the-right-token-0123456789")
        other.start()
        try:
            settings = NotionSettings(
                _env_file=None, base_url=other.base_url, token=TOKEN, max_retries=0
            )  # type: ignore[call-arg]
            async with NotionClient(settings) as client:
                with pytest.raises(NotionError) as info:
                    await client.retrieve_page(page)
        finally:
            other.stop()
        assert info.value.status == 401
        assert not leaked(everything_said(info.value))
        structlog.get_logger("test").error("notion_call_failed", error=info.value, token_was=TOKEN)

        # stdlib logging (libraries) goes through the same redaction, tracebacks too.
        try:
            raise RuntimeError(f"boom with key={API_KEY} and r2={R2_SECRET}")
        except RuntimeError:
            logging.getLogger("some.library").exception("library said %s", TOKEN)
        structlog.get_logger("test").warning("nested", cfg={"r2": [R2_KEY_ID, {"k": R2_SECRET}]})

        # The CLI runs its own event loop: give it a thread.
        result = await asyncio.to_thread(
            CliRunner().invoke,
            app,
            ["status", "--json"],
            env={
                "REELGATE_DATABASE_URL": config.settings.database_url,
                "REELGATE_NOTION_TOKEN": TOKEN,
                "REELGATE_GOOGLE_API_KEY": API_KEY,
                "REELGATE_STORAGE_R2_ACCESS_KEY_ID": R2_KEY_ID,
                "REELGATE_STORAGE_R2_SECRET_ACCESS_KEY": R2_SECRET,
            },
        )
        assert result.exit_code == 0, result.output
        rows = json.loads(result.stdout)
        assert [r["notion_page_id"] for r in rows] == [page]
        assert not leaked(result.output)

        database = await db_text(env)

    logs = captured_logs.getvalue()
    lines = [json.loads(line) for line in logs.splitlines() if line.startswith("{")]
    assert len(lines) > 20
    events = {line.get("event") for line in lines}
    # The echoing errors really were logged (so the checks below saw them).
    assert "***" in logs
    assert any("library said" in str(e) for e in events)
    assert "notion_call_failed" in events
    assert not leaked(logs), [line for line in logs.splitlines() if leaked(line)][:3]

    notion_state = json.dumps(local_notion.state.snapshot(), default=str)
    assert "Keeper" in notion_state or "lighthouse" in notion_state
    assert not leaked(notion_state)
    assert not leaked(database)
    assert not leaked("\n".join(env.comments(page)))


def test_secret_redactor_masks_nested_values_and_exceptions() -> None:
    redactor = SecretRedactor([TOKEN, API_KEY, "short", ""])
    error = ValueError(f"request failed: Bearer {TOKEN}")
    event: dict[str, Any] = {
        "event": f"calling with {API_KEY}",
        "headers": {"authorization": f"Bearer {TOKEN}", "nested": {"deep": [API_KEY, (TOKEN, 3)]}},
        "error": error,
        "count": 7,
        "none": None,
        "word": "short words stay",  # values under 6 characters are not treated as secrets
    }
    out = redactor(None, "info", event)

    assert out["event"] == "calling with ***"
    assert out["headers"] == {
        "authorization": "Bearer ***",
        "nested": {"deep": ["***", ("***", 3)]},
    }
    assert isinstance(out["headers"]["nested"]["deep"][1], tuple)
    assert out["error"] == "ValueError('request failed: Bearer ***')"
    assert out["count"] == 7
    assert out["none"] is None
    assert out["word"] == "short words stay"
    assert not leaked(repr(out))
    # The input was not modified in place.
    assert TOKEN in event["headers"]["authorization"]
    # A secret that contains another is masked whole (longest first).
    inner = TOKEN[:20]
    assert SecretRedactor([inner, TOKEN]).redact(f"x {TOKEN} y") == "x *** y"
    # Nothing configured: values pass through untouched.
    assert SecretRedactor([]).redact({"a": TOKEN}) == {"a": TOKEN}
