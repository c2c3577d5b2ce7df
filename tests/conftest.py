"""Shared fixtures: a real Azurite (in memory, free ports) for the whole session."""

from __future__ import annotations

import faulthandler
import os
import sys
import threading
import uuid
from collections.abc import Iterator

import pytest

from local.azurite import Azurite, azurite

# The secret and PII leak probe watches the whole session (tests/leakprobe.py, tests/security/probe.py).
pytest_plugins = ("tests.leakprobe",)


# pytest-timeout (signal method) fails a test past its timeout with an exception, and its teardown then runs
# with no timeout.  A teardown that hangs too (a thread that never returns, joined when the loop closes) would stall
# the whole suite: past its timeout and this grace the worker prints every thread's stack and ends (make test runs
# xdist with --max-worker-restart 1, so the session stops instead of running the hung file again).
HANG_GRACE_S = 120.0


def _timeout_of(item: pytest.Item) -> float:
    marker = item.get_closest_marker("timeout")
    if marker is not None and marker.args:
        return float(marker.args[0])
    return float(item.config.getini("timeout") or 300)


def _hung(nodeid: str, limit: float) -> None:
    sys.stderr.write(f"\n{nodeid} still running {limit:.0f} s after it started: its stacks, then this worker ends\n")
    faulthandler.dump_traceback(all_threads=True)
    sys.stderr.flush()
    os._exit(70)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    limit = _timeout_of(item) + HANG_GRACE_S
    watchdog = threading.Timer(limit, _hung, args=(item.nodeid, limit))
    watchdog.daemon = True
    watchdog.start()
    try:
        yield
    finally:
        watchdog.cancel()


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
