"""Acceptance tests run the fake Vertex server with operations that take seconds."""

from __future__ import annotations

import pytest

from tests.fakes.vertex import FakeVertex


@pytest.fixture
def fake_vertex(fake_vertex: FakeVertex) -> FakeVertex:
    """The session's fake Vertex, reset, with realistic operation latency (not instant)."""
    return fake_vertex.realistic()
