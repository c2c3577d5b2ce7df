from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from local.azurite import azurite
from shared.services import close_services
from tests.e2e.stack import Stack, start_stack


@pytest.fixture
async def stack(tmp_path: Path) -> AsyncIterator[Stack]:
    """A fresh Azurite (queues and containers are the app's fixed names), the emulator and the host."""
    server = azurite().start()
    emulator = host = None
    try:
        emulator, host, settings = await start_stack(server, tmp_path)
        async with aiohttp.ClientSession() as http:
            yield Stack(server, emulator, settings, host, http)
    finally:
        if host is not None:
            await host.stop()
        await close_services()
        if emulator is not None:
            await emulator.stop()
        server.stop()
