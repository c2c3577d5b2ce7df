"""The account lane is one per AC account, whatever hostname a connection spells it with."""

from __future__ import annotations

from azure.storage.blob.aio import ContainerClient

from shared.pipeline.lane import LaneBusy, LaneRegistry


async def test_two_hostnames_of_one_account_enter_one_lane(storage_connection: str, unique: str) -> None:
    async with ContainerClient.from_connection_string(storage_connection, unique) as container:
        await container.create_container()
        here = LaneRegistry(container, lease_s=15, busy_delay_s=1)
        elsewhere = LaneRegistry(container, lease_s=15, busy_delay_s=1)  # another process
        lane = await here.enter("acme.api-us1.com")
        try:
            try:
                await elsewhere.enter("ACME.activehosted.com")
                raise AssertionError("a second lane was opened for the same account")
            except LaneBusy:
                pass
            other = await elsewhere.enter("other.api-us1.com")  # another account is free
            await other.leave()
        finally:
            await lane.leave()
            await here.close()
            await elsewhere.close()
