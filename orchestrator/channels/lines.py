"""Which line of a TOML text sets each key path, found with tomllib itself.

tomllib returns values, not positions. Rather than scan TOML by hand, this cuts
the (already valid) text into statements and parses each one alone: a statement
is the shortest run of lines, from where the previous one ended, that parses. A
value spanning lines (an array, a multi-line string) leaves a delimiter open on
every line but its last, so no shorter run parses. Each statement is either a
table header (`[a.b]`, `[[a.b]]`) or `key = value`; every path it sets is
recorded at its first line.

Elements of an array written over several lines get their own lines: the
statement cut after line m and closed with `]` parses exactly when one array is
open there, and then holds the elements finished by line m.
"""

from __future__ import annotations

import tomllib
from typing import Any

__all__ = ["KeyLines", "Path"]

Path = tuple[str | int, ...]


class KeyLines:
    """Line (1-based) of every key path in a valid TOML text."""

    def __init__(self, text: str) -> None:
        self._lines: dict[Path, int] = {}
        lines = text.split("\n")
        table: Path = ()
        array_tables: dict[Path, int] = {}  # [[path]] -> index of its current element
        start = 0
        while start < len(lines):
            statement = _statement(lines, start)
            if statement is None:
                return  # cannot happen for text tomllib accepted; lines stay unknown
            end, fragment = statement
            head = lines[start].lstrip()
            if head.startswith("["):
                keys = _header_keys(fragment)
                table = _with_indices(keys, array_tables)
                if head.startswith("[["):
                    index = array_tables.get(table, -1) + 1
                    array_tables[table] = index
                    table = (*table, index)
                self._record(table, start + 1)
            elif fragment:
                element_lines = _element_lines(lines, start, end, fragment, table)
                self._walk(fragment, table, start + 1, element_lines)
            start = end

    def line_of(self, path: Path) -> int | None:
        """The line of ``path``, else of its longest recorded prefix, else None."""
        for end in range(len(path), 0, -1):
            line = self._lines.get(path[:end])
            if line is not None:
                return line
        return None

    def _record(self, path: Path, line: int) -> None:
        for end in range(1, len(path) + 1):
            self._lines.setdefault(path[:end], line)

    def _walk(self, value: Any, path: Path, line: int, element_lines: dict[Path, int]) -> None:
        if path:
            self._record(path, line)
        if isinstance(value, dict):
            for key, inner in value.items():
                self._walk(inner, (*path, key), line, element_lines)
        elif isinstance(value, list):
            for index, inner in enumerate(value):
                element = (*path, index)
                self._walk(inner, element, element_lines.get(element, line), element_lines)


def _statement(lines: list[str], start: int) -> tuple[int, dict[str, Any]] | None:
    """(end, parsed) of the shortest run ``lines[start:end]`` that parses."""
    for end in range(start + 1, len(lines) + 1):
        try:
            return end, tomllib.loads("\n".join(lines[start:end]))
        except tomllib.TOMLDecodeError:
            continue
    return None


def _header_keys(fragment: dict[str, Any]) -> Path:
    """The keys of a header parsed alone: ``[a."b c"]`` gives {"a": {"b c": {}}}."""
    keys: list[str] = []
    node: Any = fragment
    while True:
        if isinstance(node, list):  # [[a.b]] parses as {"a": {"b": [{}]}}
            node = node[0]
        if not isinstance(node, dict) or not node:
            return tuple(keys)
        (key, node), *_ = node.items()
        keys.append(key)


def _with_indices(keys: Path, array_tables: dict[Path, int]) -> Path:
    """``keys`` with the current element index after each array-of-tables prefix."""
    out: list[str | int] = []
    for position, key in enumerate(keys):
        out.append(key)
        index = array_tables.get(tuple(out))
        if index is not None and position < len(keys) - 1:
            out.append(index)
    return tuple(out)


def _element_lines(
    lines: list[str], start: int, end: int, fragment: dict[str, Any], table: Path
) -> dict[Path, int]:
    """First line by which each array element of a statement (under ``table``) is complete."""
    found: dict[Path, int] = {}
    for last in range(start, end - 1):
        try:
            partial = tomllib.loads("\n".join(lines[start : last + 1]) + "\n]")
        except tomllib.TOMLDecodeError:
            continue
        for element in _elements(partial, table):
            found.setdefault(element, last + 1)
    for element in _elements(fragment, table):
        found.setdefault(element, end)  # finished on the statement's last line
    return found


def _elements(value: Any, path: Path) -> list[Path]:
    if isinstance(value, dict):
        return [e for key, inner in value.items() for e in _elements(inner, (*path, key))]
    if isinstance(value, list):
        out: list[Path] = []
        for index, inner in enumerate(value):
            out.append((*path, index))
            out.extend(_elements(inner, (*path, index)))
        return out
    return []
