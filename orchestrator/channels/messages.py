"""Error messages for a channels file: pydantic errors and TOML syntax in its words."""

from __future__ import annotations

import difflib
import json
import re
import tomllib
import types
import typing
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from orchestrator.channels.lines import Path
from orchestrator.channels.model import ChannelConfig, VideoDefaults

__all__ = ["Issue", "describe", "show", "show_path", "syntax_message", "unknown_key"]


@dataclass(frozen=True, slots=True)
class Issue:
    """One thing wrong with the file, rendered as `source:line: key.path: message`."""

    line: int | None
    path: Path
    message: str

    def render(self, source: str) -> str:
        where = f"{source}:{self.line}" if self.line is not None else source
        return f"{where}: {show_path(self.path)}: {self.message}"


_AT_LINE = re.compile(r"\s*\(at line (\d+), column (\d+)\)\s*$")
_AT_END = re.compile(r"\s*\(at end of document\)\s*$")


def syntax_message(exc: tomllib.TOMLDecodeError, text: str, source: str) -> str:
    """`source:line: invalid TOML: ... (column n)` from tomllib's error."""
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


def describe(error: Any) -> str:
    """One pydantic error (an item of `ValidationError.errors()`) in the file's terms."""
    kind: str = error["type"]
    ctx: dict[str, Any] = error.get("ctx") or {}
    got = f" (got {show(error['input'])})"
    if kind == "extra_forbidden":
        loc = tuple(error["loc"])
        key = str(loc[-1])
        if len(loc) == 1 and key in VideoDefaults.model_fields:
            # The commonest slip: clip settings written at the channel level.
            return f'unknown key here ({key} goes in the "defaults" table: defaults.{key})'
        return unknown_key(key, _allowed_keys(loc[:-1]))
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


def unknown_key(key: str, allowed: list[str]) -> str:
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


def show(value: object) -> str:
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


def show_path(path: Path) -> str:
    """A key path as TOML writes it: `channels."my shorts".exports[1].format`."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            text = part if _BARE_KEY.fullmatch(part) else json.dumps(part, ensure_ascii=False)
            out += ("." if out else "") + text
    return out
