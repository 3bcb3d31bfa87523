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

A task naming a channel that is not in the file gets the `default` channel, which
always exists: when the file has no `[channels.default]`, it is `[defaults]` alone.

An invalid file fails at start, and the message points at the line:
`channels.toml:14: channels.shorts.defaults.clip_seconds: must be one of 4, 6, 8 (got 5)`.
"""

from __future__ import annotations

import contextlib
import difflib
import json
import re
import tomllib
import types
import typing
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from orchestrator.errors import ConfigError

__all__ = [
    "DEFAULT_CHANNEL",
    "STAGES",
    "ChannelConfig",
    "Channels",
    "ExportFormat",
    "ModelOverrides",
    "Provider",
    "Stage",
    "StorageBackend",
    "VideoDefaults",
    "load_channels",
    "parse_channels",
]

DEFAULT_CHANNEL = "default"
EMBEDDED_FILE = "channels_default.toml"

Provider = Literal["local", "google"]
Stage = Literal["storyboard", "keyframes", "video", "audio", "final"]
StorageBackend = Literal["local", "r2", "notion"]
STAGES: tuple[Stage, ...] = typing.get_args(Stage)


class _Strict(BaseModel):
    # strict: a config file saying clip_count = "6" or budget_usd = true is a mistake
    # worth reporting, not something to coerce silently.
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class ModelOverrides(_Strict):
    """Provider model names; None = the provider's default model for that capability."""

    storyboard: str | None = None
    image: str | None = None
    video: str | None = None
    tts: str | None = None


class VideoDefaults(_Strict):
    """Defaults for new tasks of the channel (a task may still set its own)."""

    clip_count: int = Field(default=6, ge=1, le=60)
    clip_seconds: Literal[4, 6, 8] = 8
    aspect_ratio: Literal["16:9", "9:16"] = "16:9"


class ExportFormat(_Strict):
    """One rendition of the final video. `height` is the 480p/720p/1080p class."""

    format: Literal["mp4", "webm", "mov"]
    height: Literal[480, 720, 1080]


class ChannelConfig(_Strict):
    """Settings of one channel, after inheriting the file's [defaults]."""

    name: str
    provider: Provider = "local"
    models: ModelOverrides = ModelOverrides()
    defaults: VideoDefaults = VideoDefaults()
    # Gates that pass without a human; TOML gives an array, so the set is built from it.
    auto_approve: frozenset[Stage] = Field(default=frozenset(), strict=False)
    budget_usd: float | None = Field(default=None, gt=0, allow_inf_nan=False)
    max_review_rounds: int = Field(default=3, ge=1, le=100)
    storage: StorageBackend | None = None  # None: the daemon's global storage setting
    voice: str = ""  # "": the provider's default voice
    exports: tuple[ExportFormat, ...] = Field(
        default=(ExportFormat(format="mp4", height=1080),), strict=False
    )
    negative_prompt: str | None = None
    rai_rephrase_retries: int | None = Field(default=None, ge=0, le=10)

    def auto_approves(self, stage: str) -> bool:
        """True when the review gate of `stage` passes without a human."""
        return stage in self.auto_approve


class Channels:
    """The channels of one file; `get` never fails (unknown names get `default`)."""

    def __init__(self, channels: Mapping[str, ChannelConfig], source: str) -> None:
        if DEFAULT_CHANNEL not in channels:
            raise ValueError("a channel set must contain the default channel")
        self._channels = dict(channels)
        self._folded: dict[str, ChannelConfig] = {}
        for name, config in channels.items():
            self._folded.setdefault(name.casefold(), config)
        self.source = source

    @property
    def default(self) -> ChannelConfig:
        return self._channels[DEFAULT_CHANNEL]

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self._channels)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self._find(name) is not None

    def __iter__(self) -> Iterator[ChannelConfig]:
        return iter(self._channels.values())

    def __len__(self) -> int:
        return len(self._channels)

    def get(self, name: str | None) -> ChannelConfig:
        """The named channel; `default` for None, blank or unknown names.

        Matching is exact first, then case-insensitive: Notion select options are
        typed by people ("Shorts" for `[channels.shorts]`).
        """
        if name is None:
            return self.default
        return self._find(name) or self.default

    def _find(self, name: str) -> ChannelConfig | None:
        name = name.strip()
        if not name:
            return None
        return self._channels.get(name) or self._folded.get(name.casefold())

    def __repr__(self) -> str:
        return f"Channels(source={self.source!r}, names={self.names!r})"


def load_channels(path: Path | None = None) -> Channels:
    """Load and validate a channels file; None loads the embedded default file.

    Raises ConfigError naming the file, the line and the key at fault.
    """
    if path is None:
        text = resources.files("orchestrator").joinpath(EMBEDDED_FILE).read_text("utf-8")
        return parse_channels(text, EMBEDDED_FILE)
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
        raise ConfigError(_syntax_message(exc, text, source)) from None

    locator = _KeyLocator(text)
    issues: list[_Issue] = []

    def issue(path: tuple[str | int, ...], message: str) -> None:
        issues.append(_Issue(locator.line_of(path), path, message))

    for key in data:
        if key not in ("defaults", "channels"):
            issue((key,), _unknown_key(key, ["defaults", "channels"]))

    defaults = data.get("defaults", {})
    if not isinstance(defaults, dict):
        issue(("defaults",), f"must be a table (got {_show(defaults)})")
        defaults = {}
    if "name" in defaults:
        issue(("defaults", "name"), "unknown key (channels are named by their table)")
        defaults = {k: v for k, v in defaults.items() if k != "name"}
    defaults_errors: set[tuple[tuple[str | int, ...], str]] = set()
    try:
        ChannelConfig.model_validate({**defaults, "name": DEFAULT_CHANNEL})
    except ValidationError as exc:
        for error in exc.errors():
            loc = tuple(error["loc"])
            defaults_errors.add((loc, error["type"]))
            issue(("defaults", *loc), _describe(error))

    raw_channels = data.get("channels", {})
    if not isinstance(raw_channels, dict):
        issue(("channels",), f"must be a table of channels (got {_show(raw_channels)})")
        raw_channels = {}

    channels: dict[str, ChannelConfig] = {}
    for name, table in raw_channels.items():
        where: tuple[str | int, ...] = ("channels", name)
        if not isinstance(table, dict):
            issue(where, f"must be a table (got {_show(table)})")
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
                issue((*where, *loc), _describe(error))

    if issues:
        issues.sort(key=lambda i: (i.line or 0, _show_path(i.path)))
        raise ConfigError("\n".join(i.render(source) for i in issues))

    if DEFAULT_CHANNEL not in channels:
        channels[DEFAULT_CHANNEL] = ChannelConfig.model_validate(
            {**defaults, "name": DEFAULT_CHANNEL}
        )
    return Channels(channels, source)


# --- errors ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Issue:
    line: int | None
    path: tuple[str | int, ...]
    message: str

    def render(self, source: str) -> str:
        where = f"{source}:{self.line}" if self.line is not None else source
        return f"{where}: {_show_path(self.path)}: {self.message}"


_AT_LINE = re.compile(r"\s*\(at line (\d+), column (\d+)\)\s*$")
_AT_END = re.compile(r"\s*\(at end of document\)\s*$")


def _syntax_message(exc: tomllib.TOMLDecodeError, text: str, source: str) -> str:
    message = str(exc)
    if m := _AT_LINE.search(message):
        detail = message[: m.start()]
        return f"{source}:{m.group(1)}: invalid TOML: {detail} (column {m.group(2)})"
    if m := _AT_END.search(message):
        last = text.count("\n") + (0 if text.endswith("\n") else 1)
        return f"{source}:{max(last, 1)}: invalid TOML: {message[: m.start()]} (at end of file)"
    return f"{source}: invalid TOML: {message}"


_TYPE_WORDS = {
    "int_type": "must be an integer",
    "int_from_float": "must be a whole number",
    "float_type": "must be a number",
    "finite_number": "must be a finite number",
    "string_type": "must be a string",
    "bool_type": "must be true or false",
    "list_type": "must be an array",
    "tuple_type": "must be an array",
    "set_type": "must be an array",
    "frozen_set_type": "must be an array",
    "model_type": "must be a table",
    "model_attributes_type": "must be a table",
    "dict_type": "must be a table",
}


def _describe(error: Any) -> str:
    kind: str = error["type"]
    ctx: dict[str, Any] = error.get("ctx") or {}
    got = f" (got {_show(error['input'])})"
    if kind == "extra_forbidden":
        loc = tuple(error["loc"])
        key = str(loc[-1])
        if len(loc) == 1 and key in VideoDefaults.model_fields:
            # The commonest slip: clip settings written at the channel level.
            return f'unknown key here ({key} goes in the "defaults" table: defaults.{key})'
        return _unknown_key(key, _allowed_keys(loc[:-1]))
    if kind == "missing":
        return "missing required key"
    if kind == "literal_error":
        choices = str(ctx.get("expected", "")).replace("'", '"').replace(" or ", ", ")
        return f"must be one of {choices}{got}"
    if kind == "greater_than":
        return f"must be greater than {_num(ctx.get('gt'))}{got}"
    if kind == "greater_than_equal":
        return f"must be at least {_num(ctx.get('ge'))}{got}"
    if kind == "less_than":
        return f"must be less than {_num(ctx.get('lt'))}{got}"
    if kind == "less_than_equal":
        return f"must be at most {_num(ctx.get('le'))}{got}"
    if kind in _TYPE_WORDS:
        return _TYPE_WORDS[kind] + got
    msg: str = error["msg"]
    return (msg[:1].lower() + msg[1:]) + got


def _unknown_key(key: str, allowed: list[str]) -> str:
    close = difflib.get_close_matches(key, allowed, n=1)
    if close:
        return f'unknown key (did you mean "{close[0]}"?)'
    if allowed:
        return "unknown key (expected one of: " + ", ".join(allowed) + ")"
    return "unknown key"


def _allowed_keys(loc: tuple[str | int, ...]) -> list[str]:
    """Field names of the model at `loc` inside ChannelConfig, for suggestions."""
    model: type[BaseModel] = ChannelConfig
    for part in loc:
        if isinstance(part, int):
            continue
        field = model.model_fields.get(part)
        found = _model_in(field.annotation) if field is not None else None
        if found is None:
            return []
        model = found
    return [name for name in model.model_fields if name != "name"]


def _model_in(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is not None:
        for arg in typing.get_args(annotation):
            found = _model_in(arg)
            if found is not None:
                return found
    return None


def _num(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _show(value: object) -> str:
    """A value as it would be written in TOML."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list | tuple):
        return "an array"
    return str(value)


_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")


def _show_path(path: tuple[str | int, ...]) -> str:
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            text = part if _BARE_KEY.fullmatch(part) else json.dumps(part, ensure_ascii=False)
            out += ("." if out else "") + text
    return out


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


def _has_path(table: Any, loc: tuple[str | int, ...]) -> bool:
    node = table
    for part in loc:
        in_table = isinstance(node, dict) and isinstance(part, str) and part in node
        in_array = isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)
        if not (in_table or in_array):
            return False
        node = node[part]
    return True


# --- key -> line ------------------------------------------------------------------------


class _KeyLocator:
    """Line of every key path in a (syntactically valid) TOML text.

    tomllib gives values, not positions, so this scans the text once: table headers
    (`[a.b]`, `[[a.b]]` with element indices), dotted keys, quoted keys, inline
    tables and array elements, skipping strings and comments. Lookups fall back to
    the longest known prefix, so an error inside a value lands on its key's line.
    """

    def __init__(self, text: str) -> None:
        self._text = text
        self._i = 0
        self._line = 1
        self._lines: dict[tuple[str | int, ...], int] = {}
        self._aot_index: dict[tuple[str | int, ...], int] = {}
        # Best effort: a key the scan missed falls back to a shorter prefix.
        with contextlib.suppress(IndexError, ValueError, tomllib.TOMLDecodeError):
            self._scan()

    def line_of(self, path: tuple[str | int, ...]) -> int | None:
        for end in range(len(path), 0, -1):
            line = self._lines.get(path[:end])
            if line is not None:
                return line
        return None

    # The scanner. Positions only move forward; the text is known to be valid TOML.

    def _record(self, path: tuple[str | int, ...]) -> None:
        for end in range(1, len(path) + 1):
            self._lines.setdefault(path[:end], self._line)

    def _peek(self, offset: int = 0) -> str:
        j = self._i + offset
        return self._text[j] if j < len(self._text) else ""

    def _skip_blank(self, newlines: bool) -> None:
        """Skip spaces (and, in arrays or between statements, newlines and comments)."""
        while self._i < len(self._text):
            c = self._text[self._i]
            if c in " \t":
                self._i += 1
            elif newlines and c in "\r\n":
                if c == "\n":
                    self._line += 1
                self._i += 1
            elif newlines and c == "#":
                while self._i < len(self._text) and self._text[self._i] != "\n":
                    self._i += 1
            else:
                return

    def _scan(self) -> None:
        table: tuple[str | int, ...] = ()
        while True:
            self._skip_blank(newlines=True)
            if self._i >= len(self._text):
                return
            if self._text.startswith("[[", self._i):
                self._i += 2
                path = self._resolve(self._key())
                self._aot_index[path] = self._aot_index.get(path, -1) + 1
                table = (*path, self._aot_index[path])
                self._expect("]]")
                self._record(table)
            elif self._peek() == "[":
                self._i += 1
                table = self._resolve(self._key())
                self._expect("]")
                self._record(table)
            else:
                path = (*table, *self._key())
                self._expect("=")
                self._record(path)
                self._value(path)
            self._skip_blank(newlines=False)
            if self._peek() == "#":
                self._skip_blank(newlines=True)

    def _resolve(self, keys: list[str]) -> tuple[str | int, ...]:
        """A header path with the current element index after each array-of-tables parent."""
        out: list[str | int] = []
        for position, key in enumerate(keys):
            out.append(key)
            index = self._aot_index.get(tuple(out))
            if index is not None and position < len(keys) - 1:
                out.append(index)
        return tuple(out)

    def _expect(self, token: str) -> None:
        self._skip_blank(newlines=False)
        if not self._text.startswith(token, self._i):
            raise ValueError(f"expected {token!r} at {self._i}")
        self._i += len(token)

    def _key(self) -> list[str]:
        keys: list[str] = []
        while True:
            self._skip_blank(newlines=False)
            c = self._peek()
            if c == '"':
                start = self._i
                self._basic_string()
                keys.append(tomllib.loads("k = " + self._text[start : self._i])["k"])
            elif c == "'":
                start = self._i
                self._literal_string()
                keys.append(self._text[start + 1 : self._i - 1])
            else:
                m = _BARE_KEY.match(self._text, self._i)
                if not m:
                    raise ValueError(f"no key at {self._i}")
                keys.append(m.group())
                self._i = m.end()
            self._skip_blank(newlines=False)
            if self._peek() != ".":
                return keys
            self._i += 1

    def _value(self, path: tuple[str | int, ...]) -> None:
        self._skip_blank(newlines=False)
        text = self._text
        if text.startswith('"""', self._i) or text.startswith("'''", self._i):
            self._multiline_string(text[self._i])
        elif self._peek() == '"':
            self._basic_string()
        elif self._peek() == "'":
            self._literal_string()
        elif self._peek() == "[":
            self._i += 1
            index = 0
            while True:
                self._skip_blank(newlines=True)
                if self._peek() == "]":
                    self._i += 1
                    return
                self._record((*path, index))
                self._value((*path, index))
                self._skip_blank(newlines=True)
                if self._peek() == ",":
                    self._i += 1
                    index += 1
        elif self._peek() == "{":
            self._i += 1
            while True:
                self._skip_blank(newlines=False)
                if self._peek() == "}":
                    self._i += 1
                    return
                if self._peek() == ",":
                    self._i += 1
                    continue
                inner = (*path, *self._key())
                self._expect("=")
                self._record(inner)
                self._value(inner)
        else:
            # Numbers, booleans, dates: up to the next delimiter.
            while self._i < len(text) and text[self._i] not in ",]}\n#":
                self._i += 1

    def _basic_string(self) -> None:
        self._i += 1
        while self._text[self._i] != '"':
            self._i += 2 if self._text[self._i] == "\\" else 1
        self._i += 1

    def _literal_string(self) -> None:
        self._i = self._text.index("'", self._i + 1) + 1

    def _multiline_string(self, quote: str) -> None:
        delimiter = quote * 3
        self._i += 3
        while not self._text.startswith(delimiter, self._i):
            c = self._text[self._i]
            if c == "\n":
                self._line += 1
            self._i += 2 if (c == "\\" and quote == '"' and self._peek(1) != "\n") else 1
        self._i += 3
        # Up to two more quotes belong to the string: `""""` ends with one quote inside.
        for _ in range(2):
            if self._peek() == quote:
                self._i += 1
