"""Shared fixtures: a real Azurite (in memory, free ports) for the whole session."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from local.azurite import Azurite, azurite

# The secret and PII leak probe watches the whole session (tests/leakprobe.py, tests/security/probe.py).
pytest_plugins = ("tests.leakprobe",)


@pytest.fixture(scope="session")
def azurite_server() -> Iterator[Azurite]:
    server = azurite().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def storage_connection(azurite_server: Azurite) -> str:
    return azurite_server.connection_string


@pytest.fixture
def unique() -> str:
    """A short unique, storage-safe prefix for queue and container names in one test."""
    return "t" + uuid.uuid4().hex[:10]
