"""Everything configurable, built once by the CLI and passed down."""

from __future__ import annotations

import functools
import os
import socket
from dataclasses import dataclass, field

from notion_sync.settings import NotionSettings
from orchestrator.daemon.webhook import WebhookSettings
from orchestrator.providers.local_settings import LocalProviderSettings
from orchestrator.providers.settings import GoogleSettings
from orchestrator.settings import Settings
from storage.settings import StorageSettings

__all__ = ["AppConfig"]


@dataclass
class AppConfig:
    settings: Settings = field(default_factory=Settings)
    notion: NotionSettings = field(default_factory=NotionSettings)
    storage: StorageSettings = field(default_factory=StorageSettings)
    google: GoogleSettings = field(default_factory=GoogleSettings)
    local: LocalProviderSettings = field(default_factory=LocalProviderSettings)
    webhook: WebhookSettings = field(default_factory=WebhookSettings)

    @functools.cached_property
    def worker_id(self) -> str:
        return self.settings.worker_id or f"{socket.gethostname()}-{os.getpid()}"

    def secrets(self) -> list[str]:
        """Every secret value, for the log redactor."""
        values = [
            self.notion.token.get_secret_value(),
            self.storage.r2_access_key_id.get_secret_value(),
            self.storage.r2_secret_access_key.get_secret_value(),
            self.google.api_key.get_secret_value(),
            self.webhook.verification_token.get_secret_value(),
        ]
        return [v for v in values if v]
