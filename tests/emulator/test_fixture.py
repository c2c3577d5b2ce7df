"""The pytest fixtures other suites import from local.activecampaign_emulator.testing."""

from __future__ import annotations

import aiohttp
import pytest

from local.activecampaign_emulator import ConfigError, EmulatorConfig, EmulatorServer
from local.activecampaign_emulator.testing import ac_emulator, ac_emulator_config  # noqa: F401


async def test_fixture_emulator_completes_batches_at_once(ac_emulator: EmulatorServer) -> None:  # noqa: F811
    headers = {"Api-Token": ac_emulator.api_key}
    async with aiohttp.ClientSession(ac_emulator.url, headers=headers) as session:
        body = {"contacts": [{"email": "a@example.com"}, {"email": "b@example.com"}]}
        async with session.post("/api/3/import/bulk_import", json=body) as resp:
            batch_id = (await resp.json())["batchId"]
        async with session.get("/api/3/import/info", params={"batchId": batch_id}) as resp:
            assert (await resp.json())["status"] == "completed"


def test_a_bad_config_is_refused_up_front() -> None:
    with pytest.raises(ConfigError, match="error_503_probability"):
        EmulatorServer(EmulatorConfig(error_503_probability=1.5))
