"""Shared test configuration: each area keeps its fixtures in tests/fixtures/<area>.py."""

from __future__ import annotations

pytest_plugins = [
    "tests.fixtures.db",
    "tests.fixtures.notion",
    "tests.fixtures.vertex",
    "tests.fixtures.s3",
    "tests.fixtures.media",
    "tests.fixtures.pipeline",
    "tests.fixtures.labels",
]
