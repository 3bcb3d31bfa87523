"""`.env.example` documents every setting, each with a comment line above it."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic_settings import BaseSettings

from notion_sync.settings import NotionSettings
from orchestrator.daemon.webhook import WebhookSettings
from orchestrator.providers.local_settings import LocalProviderSettings
from orchestrator.providers.settings import GoogleSettings
from orchestrator.settings import Settings
from storage.settings import StorageSettings

ROOT = Path(__file__).resolve().parents[2]
CLASSES: list[type[BaseSettings]] = [
    Settings,
    NotionSettings,
    StorageSettings,
    GoogleSettings,
    LocalProviderSettings,
    WebhookSettings,
]


def _documented() -> dict[str, int]:
    lines = (ROOT / ".env.example").read_text().splitlines()
    return {
        line.split("=", 1)[0]: i
        for i, line in enumerate(lines)
        if "=" in line and not line.startswith("#")
    }


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
def test_every_setting_is_in_env_example(cls: type[BaseSettings]) -> None:
    documented = _documented()
    prefix = str(cls.model_config.get("env_prefix", ""))
    missing = [
        f"{prefix}{name}".upper()
        for name in cls.model_fields
        if f"{prefix}{name}".upper() not in documented
    ]
    assert missing == []


def test_every_documented_variable_is_a_setting() -> None:
    # A variable nothing reads misleads whoever sets it.
    known = {
        f"{cls.model_config.get('env_prefix', '')}{name}".upper()
        for cls in CLASSES
        for name in cls.model_fields
    }
    assert sorted(set(_documented()) - known) == []


def test_every_line_has_a_comment_nearby() -> None:
    lines = (ROOT / ".env.example").read_text().splitlines()
    for i, line in enumerate(lines):
        if "=" in line and not line.startswith("#"):
            above = lines[max(0, i - 2) : i]
            assert any(a.startswith("#") for a in above), f"no comment above {line}"


def test_env_example_values_load(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # The example file itself must be a valid configuration, read as the daemon reads it.
    monkeypatch.chdir(tmp_path)  # no stray .env
    for line in (ROOT / ".env.example").read_text().splitlines():
        if "=" in line and not line.startswith("#"):
            key, value = line.split("=", 1)
            if value:
                monkeypatch.setenv(key, value)
    for cls in CLASSES:
        cls()
