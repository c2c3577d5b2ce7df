from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from local.azurite import azurite
from tests.e2e.stack import Stack, running_stack


@pytest.fixture
def stack_options() -> dict[str, Any]:
    """Override in a test module (or with @pytest.mark.parametrize(indirect)) to change emulator/app settings."""
    return {}


@pytest.fixture
async def stack(tmp_path: Path, stack_options: dict[str, Any]) -> AsyncIterator[Stack]:
    """A fresh Azurite (queues and containers are the app's fixed names), the emulator and the host."""
    async with running_stack(azurite().start(), tmp_path, **stack_options) as started:
        yield started
