"""`reelgate doctor`: is this installation ready to run? Each check says how to fix it.

For Google channels it checks each configured model twice: against the catalogue
(known, of the right capability, not retired; a warning within 30 days of its
retirement date) and against Vertex itself with `models.get` (GET
publishers/google/models/{id}: a cheap auth-and-existence check that costs nothing).
"""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from google.genai import errors as genai_errors
from google.genai import types

from notion_sync.client import NotionClient
from notion_sync.schema import check_schema
from orchestrator.channels import Channels, load_channels
from orchestrator.config import AppConfig
from orchestrator.daemon.health import database_readiness
from orchestrator.db.engine import create_engine, redact_url
from orchestrator.media.ffmpeg import ffmpeg_exe
from orchestrator.notion_setup import label_mapping
from orchestrator.providers.catalogue import (
    CAPABILITIES,
    ENV_VARS,
    Capability,
    model_entry,
    retirement_problem,
)
from orchestrator.providers.google_client import build_client, map_error, read_http_options
from orchestrator.providers.registry import ProviderRegistry
from orchestrator.state.labels import install_labels
from reelgate.errors import ReelgateError

__all__ = ["Check", "run_checks"]


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str
    # ok for now, but act soon (a model within 30 days of its retirement date).
    warning: bool = False


async def _database(config: AppConfig) -> Check:
    url = config.settings.database_url
    engine = create_engine(url)
    try:
        ready, details = await database_readiness(engine)()
    finally:
        await engine.dispose()
    if ready:
        return Check("database", True, f"{redact_url(url)} at the newest schema")
    if details.get("database") == "unreachable":
        return Check(
            "database", False, f"cannot reach {redact_url(url)}: check REELGATE_DATABASE_URL"
        )
    return Check("database", False, f"{redact_url(url)} is behind: run `reelgate migrate`")


def _channels(config: AppConfig) -> tuple[Check, Channels | None]:
    try:
        channels = load_channels(config.settings.channels_file)
    except ReelgateError as exc:
        return Check("channels", False, str(exc)), None
    install_labels(channels.status_labels)  # the Notion check reads the board's labels
    return Check("channels", True, f"{len(channels)} channels from {channels.source}"), channels


async def _ffmpeg() -> Check:
    exe = ffmpeg_exe()
    proc = await asyncio.create_subprocess_exec(
        exe, "-version", stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL
    )
    out, _ = await proc.communicate()
    if proc.returncode != 0:
        return Check("ffmpeg", False, f"{exe} does not run: reinstall imageio-ffmpeg")
    return Check("ffmpeg", True, out.decode(errors="replace").splitlines()[0])


async def _notion(config: AppConfig) -> Check:
    if not config.notion.token.get_secret_value():
        return Check("notion", False, "REELGATE_NOTION_TOKEN is not set")
    if not (config.notion.tasks_data_source_id and config.notion.videos_data_source_id):
        return Check(
            "notion",
            False,
            "data source ids are not set: run `reelgate setup-notion --parent-page <id>`",
        )
    async with NotionClient(config.notion) as client:
        try:
            report = await check_schema(client, config.notion, status_labels=label_mapping())
        except ReelgateError as exc:
            return Check("notion", False, str(exc))
    if report.problems:
        return Check("notion", False, "\n".join(report.problems))
    return Check("notion", True, f"{config.notion.base_url}: Tasks and Videos schema complete")


async def _storage(config: AppConfig) -> Check:
    settings = config.storage
    if settings.backend == "local":
        folder = settings.local_dir
        try:
            folder.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(dir=folder):
                pass
        except OSError as exc:
            return Check("storage", False, f"cannot write to {folder}: {exc.strerror}")
        return Check("storage", True, f"local folder {folder} is writable")
    if settings.backend == "r2":
        from storage.r2 import R2Storage

        storage = R2Storage(settings)
        try:
            await asyncio.to_thread(storage.client.head_bucket, Bucket=settings.r2_bucket)
        except Exception as exc:  # boto3's error tree is wide; the message is what matters
            return Check(
                "storage", False, f"R2 bucket {settings.r2_bucket!r}: {type(exc).__name__}"
            )
        return Check("storage", True, f"R2 bucket {settings.r2_bucket!r} reachable")
    return Check("storage", True, "Notion file uploads (checked with the Notion token)")


def _providers(config: AppConfig, channels: Channels | None) -> Check:
    if channels is None:
        return Check("providers", False, "channels file is invalid (see above)")
    google = [c.name for c in channels if c.provider == "google"]
    if not google:
        return Check("providers", True, "all channels use the local provider")
    g = config.google
    if not (g.api_key.get_secret_value() or g.project):
        return Check(
            "providers",
            False,
            f"channels {', '.join(google)} use google: set REELGATE_GOOGLE_PROJECT "
            "(with credentials) or REELGATE_GOOGLE_API_KEY",
        )
    return Check("providers", True, f"google for {', '.join(google)}")


@dataclass(frozen=True)
class _Use:
    """One configured model: which capability, and the setting that chose it."""

    capability: Capability
    model: str
    setting: str


def _model_uses(config: AppConfig, channels: Channels) -> list[_Use]:
    registry = ProviderRegistry(config.google, config.local)
    uses: dict[tuple[str, str, str], _Use] = {}
    for channel in channels:
        if channel.provider != "google":
            continue
        settings = registry.google_settings(channel)
        overridden = channel.models.model_dump(exclude_none=True) if channel.models else {}
        for cap in CAPABILITIES:
            model = str(getattr(settings, f"{cap}_model"))
            setting = (
                f"[channels.{channel.name}.models] {cap}" if cap in overridden else ENV_VARS[cap]
            )
            uses.setdefault((cap, model, setting), _Use(cap, model, setting))
    return list(uses.values())


async def _models(config: AppConfig, channels: Channels, today: date) -> list[Check]:
    """One row per configured Google model: catalogue, retirement, and Vertex models.get."""
    uses = _model_uses(config, channels)
    if not uses:
        return []
    try:
        client = build_client(config.google)
    except ReelgateError as exc:
        return [Check("models", False, str(exc))]
    rows: list[Check] = []
    try:
        for use in uses:
            rows.append(await _model_row(client, config, use, today))
    finally:
        await client.aio.aclose()
    return rows


async def _model_row(client: Any, config: AppConfig, use: _Use, today: date) -> Check:
    name = f"model {use.capability}"
    try:
        entry = model_entry(use.model, capability=use.capability, setting=use.setting)
    except ReelgateError as exc:
        return Check(name, False, str(exc))
    problem = retirement_problem(entry, today, setting=use.setting)
    try:
        found = await client.aio.models.get(
            model=entry.id,
            config=types.GetModelConfig(http_options=read_http_options(config.google)),
        )
    except genai_errors.APIError as exc:
        # The status says it all (404: unknown or retired, 403: no access); Vertex's
        # full message would only repeat the model path.
        vertex = f"models.get answered HTTP {exc.code} {exc.status or ''}".rstrip()
        found = None
    except Exception as exc:  # transport and auth errors: map what we know
        secret = config.google.api_key.get_secret_value()
        err = map_error(exc, action="models.get", secrets=[secret])
        vertex = str(err) if err is not None else f"models.get: {type(exc).__name__}"
        found = None
    else:
        vertex = f"Vertex knows it ({found.name or entry.id})"
    if problem is not None and problem[0] == "retired":
        return Check(name, False, f"{problem[1]} [{vertex}]")
    if found is None:
        return Check(
            name,
            False,
            f"{entry.id}: {vertex}. Fix: check the id, the project's access, or "
            f"set {use.setting} to another catalogued model",
        )
    if problem is not None:
        return Check(name, True, f"{problem[1]} [{vertex}]", warning=True)
    retires = f"retires {entry.retires_on}" if entry.retires_on else "no retirement date announced"
    return Check(name, True, f"{entry.id}: {vertex}; {retires}")


async def run_checks(config: AppConfig, *, today: date | None = None) -> list[Check]:
    channels_check, channels = _channels(config)
    checks: list[Callable[[], Awaitable[Check]]] = [
        lambda: _database(config),
        _ffmpeg,
        lambda: _notion(config),
        lambda: _storage(config),
    ]
    results = [channels_check]
    for check in checks:
        try:
            results.append(await check())
        except Exception as exc:  # doctor reports, it never crashes
            results.append(Check(check.__name__, False, f"{type(exc).__name__}: {exc}"))
    providers = _providers(config, channels)
    results.append(providers)
    if providers.ok and channels is not None:
        try:
            results.extend(await _models(config, channels, today or date.today()))
        except Exception as exc:  # doctor reports, it never crashes
            results.append(Check("models", False, f"{type(exc).__name__}: {exc}"))
    return results
