"""Pytest fixtures for suites that talk to the emulator.  Import them into a conftest.py:

    from local.activecampaign_emulator.testing import ac_emulator, ac_emulator_config  # noqa: F401

and override `ac_emulator_config` in a module or conftest to change switches.  The default config answers
/import/info as completed at once (no status-false window, no processing delay) and keeps AC's limits.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from local.activecampaign_emulator.config import EmulatorConfig
from local.activecampaign_emulator.server import EmulatorServer


@pytest.fixture
def ac_emulator_config() -> EmulatorConfig:
    return EmulatorConfig(initial_false_s=0.0, processing_delay_s=0.0)


@pytest.fixture
async def ac_emulator(ac_emulator_config: EmulatorConfig) -> AsyncIterator[EmulatorServer]:
    """A running emulator on 127.0.0.1 (free port): `.url`, `.api_key`, `.state`, `.config`, `.patch_config()`."""
    async with EmulatorServer(ac_emulator_config) as server:
        yield server
