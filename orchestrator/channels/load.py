"""Read a channels file: tomllib parses, pydantic validates, messages name the line."""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from orchestrator.channels.lines import KeyLines
from orchestrator.channels.lines import Path as KeyPath
from orchestrator.channels.messages import (
    Issue,
    describe,
    show,
    show_path,
    syntax_message,
    unknown_key,
)
from orchestrator.channels.model import DEFAULT_CHANNEL, ChannelConfig, Channels
from orchestrator.errors import ConfigError
from orchestrator.state.labels import FORBIDDEN_CHARS, StatusLabels, fold_label
from orchestrator.state.status import Status, default_label

__all__ = ["EMBEDDED_FILE", "load_channels", "parse_channels"]

EMBEDDED_FILE = "default.toml"


def load_channels(path: Path | None = None) -> Channels:
    """Load and validate a channels file; None loads the embedded default file.

    Raises ConfigError naming the file, the line and the key at fault.
    """
    if path is None:
        text = resources.files("orchestrator.channels").joinpath(EMBEDDED_FILE).read_text("utf-8")
        return parse_channels(text, f"channels/{EMBEDDED_FILE}")
    try:
        # utf-8-sig: a BOM from a Windows editor is not a reason to refuse the file.
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise ConfigError(f"{path}: channels file not found") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: channels file is not UTF-8 text ({exc.reason})") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read channels file: {exc.strerror or exc}") from None
    return parse_channels(text, str(path))


def parse_channels(text: str, source: str = "<channels>") -> Channels:
    """Validate channels TOML text; `source` names the file in error messages."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(syntax_message(exc, text, source)) from None

    found: list[tuple[KeyPath, str]] = []

    def issue(path: KeyPath, message: str) -> None:
        found.append((path, message))

    for key in data:
        if key not in ("defaults", "channels", "statuses"):
            issue((key,), unknown_key(key, ["defaults", "channels", "statuses"]))
    labels = _status_labels(data.get("statuses", {}), issue)

    defaults = data.get("defaults", {})
    if not isinstance(defaults, dict):
        issue(("defaults",), f"must be a table (got {show(defaults)})")
        defaults = {}
    if "name" in defaults:
        issue(("defaults", "name"), "unknown key (channels are named by their table)")
        defaults = {k: v for k, v in defaults.items() if k != "name"}
    defaults_errors: set[tuple[KeyPath, str]] = set()
    try:
        ChannelConfig.model_validate({**defaults, "name": DEFAULT_CHANNEL})
    except ValidationError as exc:
        for error in exc.errors():
            loc = tuple(error["loc"])
            defaults_errors.add((loc, error["type"]))
            issue(("defaults", *loc), describe(error))

    raw_channels = data.get("channels", {})
    if not isinstance(raw_channels, dict):
        issue(("channels",), f"must be a table of channels (got {show(raw_channels)})")
        raw_channels = {}

    channels: dict[str, ChannelConfig] = {}
    for name, table in raw_channels.items():
        where: KeyPath = ("channels", name)
        if not isinstance(table, dict):
            issue(where, f"must be a table (got {show(table)})")
            continue
        if "name" in table:
            issue((*where, "name"), "unknown key (the table name is the channel name)")
            table = {k: v for k, v in table.items() if k != "name"}
        try:
            channels[name] = ChannelConfig.model_validate(
                {**_deep_merge(defaults, table), "name": name}
            )
        except ValidationError as exc:
            for error in exc.errors():
                loc = tuple(error["loc"])
                # An invalid inherited value is reported once, at [defaults].
                if (loc, error["type"]) in defaults_errors and not _has_path(table, loc):
                    continue
                issue((*where, *loc), describe(error))

    if found:
        lines = KeyLines(text)  # only a file with mistakes needs positions
        issues = [Issue(lines.line_of(path), path, message) for path, message in found]
        issues.sort(key=lambda i: (i.line or 0, show_path(i.path)))
        raise ConfigError("\n".join(i.render(source) for i in issues))

    if DEFAULT_CHANNEL not in channels:
        channels[DEFAULT_CHANNEL] = ChannelConfig.model_validate(
            {**defaults, "name": DEFAULT_CHANNEL}
        )
    return Channels(channels, source, status_labels=labels)


def _status_labels(raw: Any, issue: Any) -> StatusLabels | None:
    """`[statuses]`: internal status -> the Notion board's label, checked key by key."""
    if not isinstance(raw, dict):
        issue(("statuses",), f'must be a table of status = "Label" (got {show(raw)})')
        return None
    values = [s.value for s in Status]
    overrides: dict[str, str] = {}
    ok = True
    for key, label in raw.items():
        where: KeyPath = ("statuses", key)
        if key not in values:
            issue(where, unknown_key(key, values))
            ok = False
        elif not isinstance(label, str) or not label.strip():
            issue(where, f"must be the label as a non-empty string (got {show(label)})")
            ok = False
        elif any(c in label for c in FORBIDDEN_CHARS):
            issue(where, f"Notion does not allow a comma in a status label (got {show(label)})")
            ok = False
        else:
            overrides[key] = " ".join(label.split())
    # Two statuses with one label could not be told apart on the board.
    owner: dict[str, str] = {}
    for status in Status:
        label = overrides.get(status.value, default_label(status))
        other = owner.setdefault(fold_label(label), status.value)
        if other == status.value:
            continue
        ok = False
        # Point at the line that made the clash: the overriding key(s).
        at = status.value if status.value in overrides else other
        first = other if at == status.value else status.value
        issue(
            ("statuses", at),
            f'"{label}" is already the label of {first}: each status needs its own label'
            + ("" if first in overrides else f" (rename {first} too, or pick another label)"),
        )
    return StatusLabels.with_overrides(overrides) if ok else None


def _deep_merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """Tables merge key by key; everything else (arrays included) is replaced."""
    merged = dict(base)
    for key, value in override.items():
        current = merged.get(key)
        if isinstance(current, dict) and isinstance(value, dict):
            merged[key] = _deep_merge(current, value)
        else:
            merged[key] = value
    return merged


def _has_path(table: Any, loc: KeyPath) -> bool:
    node = table
    for part in loc:
        in_table = isinstance(node, dict) and isinstance(part, str) and part in node
        in_array = isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)
        if not (in_table or in_array):
            return False
        node = node[part]
    return True
