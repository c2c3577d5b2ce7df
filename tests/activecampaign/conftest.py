from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import aiohttp
import pytest

from shared.activecampaign import ActiveCampaignClient, BudgetRegistry
from shared.config import AcLimits, Secret

TEST_KEY = "test-key-3f9c2a7d1b"


class SleepRecorder:
    """A fake `sleep` for the client's backoff: records each delay, waits no real time."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as s:
        yield s


@pytest.fixture
def make_client(session: aiohttp.ClientSession) -> Callable[..., ActiveCampaignClient]:
    def build(url: str, *, limits: AcLimits | None = None, sleep: SleepRecorder | None = None) -> ActiveCampaignClient:
        limits = limits or AcLimits(
            requests_per_second=10_000, bulk_per_minute=600_000, bulk_single_per_minute=600_000, timeout_s=0.5
        )
        kwargs = {"sleep": sleep} if sleep is not None else {}
        return ActiveCampaignClient(
            session,
            host="acct.api-us1.com",
            base_url=url,
            api_key=Secret(TEST_KEY),
            budget=BudgetRegistry(limits).for_host("acct.api-us1.com"),
            limits=limits,
            **kwargs,
        )

    return build
