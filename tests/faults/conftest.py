"""The fault matrix runs on the end-to-end stack (tests/e2e/stack.py): a fresh Azurite per test, the AC emulator
and function_app in the stand-in host, driven over its HTTP API.

`stack_options` (override per test with @pytest.mark.parametrize) takes start_stack's arguments, plus
`persistent=True` for an Azurite that keeps its data on disk (so a test can restart it).
"""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from local.azurite import azurite
from tests.e2e.stack import Stack, running_stack


@pytest.fixture
def stack_options() -> dict[str, Any]:
    return {}


@pytest.fixture
async def stack(tmp_path: Path, stack_options: dict[str, Any]) -> AsyncIterator[Stack]:
    options = dict(stack_options)
    if options.get("config") is not None:  # tests patch the emulator's config: never share it between tests
        options["config"] = copy.deepcopy(options["config"])
    location = tmp_path / "azurite" if options.pop("persistent", False) else None
    server = azurite(location=location, log_path=tmp_path / "azurite.log" if location else None).start()
    async with running_stack(server, tmp_path, **options) as fault_stack:
        yield fault_stack
