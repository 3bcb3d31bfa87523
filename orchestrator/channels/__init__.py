"""Channels: per-channel production settings, from a TOML file.

A task's Channel column names a channel; the channel says which provider and models
to use, the clip defaults, which review gates pass by themselves, the budget, where
media is stored and how the final video is exported.

File shape::

    [defaults]                  # every channel inherits these (same keys as a channel)
    provider = "local"

    [channels.shorts]           # one table per channel; the table name is the channel name
    auto_approve = ["storyboard"]

    [channels.shorts.defaults]  # clip defaults of new tasks
    clip_seconds = 6

    [statuses]                  # optional: the Notion board's own status labels
    video_ready = "Videos Ready"

A task naming a channel that is not in the file gets the `default` channel, which
always exists: when the file has no `[channels.default]`, it is `[defaults]` alone.

An invalid file fails at start, and the message points at the line:
`channels.toml:14: channels.shorts.defaults.clip_seconds: must be one of 4, 6, 8 (got 5)`.

Modules: `model` (the pydantic models and `Channels`), `load` (tomllib, then
pydantic), `messages` (errors in the file's terms), `lines` (key path -> line).
The embedded file is `default.toml` next to them.
"""

from __future__ import annotations

from orchestrator.channels.load import load_channels, parse_channels
from orchestrator.channels.model import (
    DEFAULT_CHANNEL,
    STAGE_NAMES,
    ChannelConfig,
    Channels,
    ExportFormat,
    ModelOverrides,
    Provider,
    ReviewLabels,
    StageName,
    StorageBackend,
    StuckAfter,
    VideoDefaults,
)

__all__ = [
    "DEFAULT_CHANNEL",
    "STAGE_NAMES",
    "ChannelConfig",
    "Channels",
    "ExportFormat",
    "ModelOverrides",
    "Provider",
    "ReviewLabels",
    "StageName",
    "StorageBackend",
    "StuckAfter",
    "VideoDefaults",
    "load_channels",
    "parse_channels",
]
