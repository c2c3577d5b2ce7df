from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from local.azurite import azurite
from shared.services import close_services
from tests.e2e.stack import Stack, start_stack


@pytest.fixture
def stack_options() -> dict[str, Any]:
    """Override in a test module (or with @pytest.mark.parametrize(indirect)) to change emulator/app settings."""
    return {}


@pytest.fixture
async def stack(tmp_path: Path, stack_options: dict[str, Any]) -> AsyncIterator[Stack]:
    """A fresh Azurite (queues and containers are the app's fixed names), the emulator and the host."""
    server = azurite().start()
    emulator = host = None
    try:
        emulator, host, settings = await start_stack(server, tmp_path, **stack_options)
        async with aiohttp.ClientSession() as http:
            yield Stack(server, emulator, settings, host, http)
    finally:
        if host is not None:
            await host.stop()
        await close_services()
        if emulator is not None:
            await emulator.stop()
        server.stop()
