"""Shared fixtures: a real Azurite (in memory, free ports) for the whole session."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest

from local.azurite import Azurite, azurite

# The secret and PII leak probe watches the whole session (tests/leakprobe.py, tests/security/probe.py).
pytest_plugins = ("tests.leakprobe",)


@pytest.fixture(autouse=True)
def _restore_environment() -> Iterator[None]:
    """In-process stand-in hosts put app settings into os.environ (as the worker sees them); whatever a test
    leaves there is undone, so tests do not depend on their order."""
    saved = dict(os.environ)
    yield
    os.environ.clear()
    os.environ.update(saved)


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
