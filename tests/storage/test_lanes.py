"""The account lane and its guest lease in Azurite, with two registries standing for two processes."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from azure.storage.blob.aio import ContainerClient

from shared.pipeline import lane as lanes
from shared.pipeline.lane import GuestBusy, LaneBusy, LaneRegistry

HOST = "acme.api-us1.com"


@pytest.fixture
async def two(container: ContainerClient) -> AsyncIterator[tuple[LaneRegistry, LaneRegistry]]:
    first, second = (LaneRegistry(container, lease_s=15, busy_delay_s=1) for _ in range(2))
    yield first, second
    await first.close()
    await second.close()


async def test_a_guest_never_waits_for_the_lane_held_elsewhere(two: tuple[LaneRegistry, LaneRegistry]) -> None:
    first, second = two
    lane = await first.enter(HOST)
    with pytest.raises(LaneBusy):
        await second.enter("ACME.activehosted.com")  # the same account: its one lane is held
    async with second.guest("acme.activehosted.com"):  # but a guest gets in at once
        pass
    await lane.leave()


async def test_guests_share_the_lease_in_a_process_and_wait_for_another_process(
    two: tuple[LaneRegistry, LaneRegistry], monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second = two
    monkeypatch.setattr(lanes, "GUEST_WAIT_S", 0.5)
    async with first.guest(HOST), first.guest(HOST):  # two guests of one process: one lease
        with pytest.raises(GuestBusy) as busy:
            async with second.guest(HOST):
                pass
    assert busy.value.status == 503 and busy.value.retry_after
    async with second.guest(HOST):  # released when the process's last guest left
        pass
