"""The drawing in reelgate.errors' docstring is the error tree that exists.

Every module of every package is imported first, so a ReelgateError subclass is
found wherever it is defined (and the result does not depend on which other tests
this worker ran before).
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from dataclasses import dataclass

import pytest

import reelgate.errors
from reelgate.errors import PermanentError, ReelgateError, TransientError

PACKAGES = ("reelgate", "orchestrator", "notion_sync", "storage")
MIXINS = {"+T": TransientError, "+P": PermanentError}
# One drawn line: tree characters (4 per level), a class name, then mix-in marks.
_LINE = re.compile(r"^(?P<tree>(?:[│ ] {3}|[├└]── )*)(?P<name>[A-Z]\w*)(?P<marks>(?: \+[TP])*)")


@dataclass(frozen=True)
class Drawn:
    name: str
    parent: str | None
    mixins: frozenset[str]


def _import_everything() -> None:
    for package in PACKAGES:
        root = importlib.import_module(package)
        for module in pkgutil.walk_packages(root.__path__, prefix=f"{package}."):
            if module.name.rsplit(".", 1)[-1] == "__main__":
                continue  # running it would start the CLI
            importlib.import_module(module.name)


def _existing() -> dict[str, type[ReelgateError]]:
    _import_everything()
    found: dict[str, type[ReelgateError]] = {"ReelgateError": ReelgateError}
    pending = [ReelgateError]
    while pending:
        for sub in pending.pop().__subclasses__():
            if sub.__module__.split(".")[0] not in PACKAGES:
                continue  # a test's own subclass, not part of the project
            if found.setdefault(sub.__name__, sub) is not sub:
                raise AssertionError(f"two error classes are named {sub.__name__}")
            pending.append(sub)
    return found


def _drawn() -> dict[str, Drawn]:
    doc = reelgate.errors.__doc__ or ""
    block = doc.split("::\n", 1)[1]
    drawn: dict[str, Drawn] = {}
    stack: list[str] = []  # the names on the path from the root to the current line
    for raw in block.splitlines():
        line = raw.removeprefix("    ")
        match = _LINE.match(line)
        if not match:
            continue
        depth = len(match["tree"]) // 4
        del stack[depth:]
        name = match["name"]
        assert name not in drawn, f"{name} is drawn twice"
        marks = frozenset(match["marks"].split())
        drawn[name] = Drawn(name, stack[-1] if stack else None, marks)
        stack.append(name)
    return drawn


def test_every_error_class_is_drawn_and_every_drawn_class_exists() -> None:
    existing, drawn = _existing(), _drawn()
    missing = sorted(
        f"{name} ({cls.__module__})" for name, cls in existing.items() if name not in drawn
    )
    extra = sorted(set(drawn) - set(existing))
    assert not missing, f"error classes missing from the drawing in reelgate/errors.py: {missing}"
    assert not extra, f"reelgate/errors.py draws classes that do not exist: {extra}"


@pytest.mark.parametrize("name", sorted(_drawn()))
def test_drawn_parent_and_mixins_are_the_real_bases(name: str) -> None:
    cls = _existing().get(name)
    if cls is None:
        pytest.skip("reported by the test above")
    node = _drawn()[name]
    if node.parent is None:
        assert cls is ReelgateError
        return
    real = {base.__name__ for base in cls.__bases__}
    drawn_bases = {node.parent} | {MIXINS[mark].__name__ for mark in node.mixins}
    assert drawn_bases == real, (
        f"{name} derives from {sorted(real)}; the drawing says {sorted(drawn_bases)} "
        f"(parent {node.parent}, marks {sorted(node.mixins)})"
    )


def test_package_bases_derive_from_the_root() -> None:
    from notion_sync.errors import NotionError
    from orchestrator.errors import OrchestratorError
    from storage.errors import StorageError

    for base in (NotionError, StorageError, OrchestratorError):
        assert base.__bases__ == (ReelgateError,)
    assert TransientError("x").transient is True
    assert PermanentError("x").transient is False
