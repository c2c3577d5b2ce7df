"""The account lane: only one process calls an AC account at a time for runs, across exports and instances.

The lane is a blob lease on `state/lanes/<account>` (the account key of shared/activecampaign/account.py, so
two hostnames of one account share one lane).  Inside the process that holds it,
every shard and planner for that account shares the lease and the account's one lane
budget (shared/activecampaign/budget.py), so scaling out never multiplies AC traffic.
A shard or planner that finds the lane held elsewhere goes back to the queue with a delay.

Calls a person waits on (the API's key, list and field checks) must not wait for a long
run's lane.  They are guests: `guest(host)` takes the account's short guest lease
(`state/lanes/<account>.guest`; one process at a time, waiting at most GUEST_WAIT_S for
another process's guest calls to end, else GuestBusy: 503), and its clients pace at the
guest budget, the GUEST_SHARE of the general rate that every lane holder leaves free.
Lane and guests together stay inside the account's budget, whichever processes they run in.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Final

from azure.storage.blob.aio import ContainerClient

from shared.activecampaign.account import storage_key
from shared.errors import RetriableError
from shared.storage.lease import LeaseBusy, RenewingLease

LINGER_S = 2.0  # keep the lease this long after the last shard leaves, for the next one
GUEST_LEASE_S: Final = 15  # the shortest blob lease: a crashed guest frees the account this fast
GUEST_WAIT_S: Final = 10.0  # how long a guest waits for another process's guest calls to the account
GUEST_RETRY_S: Final = 0.2


class LaneBusy(RetriableError):
    code = "lane_busy"


class GuestBusy(RetriableError):
    code = "activecampaign_busy"


@dataclass
class _Held:
    lease: RenewingLease
    users: int = 0
    release_task: asyncio.Task[None] | None = None


class Lane:
    def __init__(self, registry: LaneRegistry, host: str, held: _Held) -> None:
        self.host = host
        self._registry = registry
        self._held = held

    @property
    def lost(self) -> bool:
        return self._held.lease.lost

    async def leave(self) -> None:
        await self._registry._leave(self.host)


class LaneRegistry:
    def __init__(self, container: ContainerClient, *, lease_s: int, busy_delay_s: int) -> None:
        self._container = container
        self._lease_s = lease_s
        self._busy_delay_s = busy_delay_s
        self._held: dict[str, _Held] = {}
        self._lock = asyncio.Lock()
        self._guests: dict[str, _Held] = {}
        self._guest_locks: dict[str, asyncio.Lock] = {}

    async def enter(self, host: str) -> Lane:
        """Join the account's lane, or raise LaneBusy (retry_after = the busy delay)."""
        key = storage_key(host)
        async with self._lock:
            held = self._held.get(key)
            if held is not None and held.lease.lost:
                await held.lease.release()
                del self._held[key]
                held = None
            if held is None:
                blob = self._container.get_blob_client(f"lanes/{key}")
                try:
                    lease = await RenewingLease(blob, self._lease_s).acquire()
                except LeaseBusy:
                    raise LaneBusy(
                        f"another instance is sending to {host}; trying again in {self._busy_delay_s}s",
                        retry_after=self._busy_delay_s,
                    ) from None
                held = self._held[key] = _Held(lease)
            if held.release_task is not None:
                held.release_task.cancel()
                held.release_task = None
            held.users += 1
            return Lane(self, key, held)

    async def _leave(self, key: str) -> None:
        async with self._lock:
            held = self._held.get(key)
            if held is None:
                return
            held.users -= 1
            if held.users <= 0:
                held.release_task = asyncio.create_task(self._release_later(key, held))

    async def _release_later(self, key: str, held: _Held) -> None:
        await asyncio.sleep(LINGER_S)
        async with self._lock:
            if held.users > 0 or self._held.get(key) is not held:
                return
            del self._held[key]
        await held.lease.release()

    @contextlib.asynccontextmanager
    async def guest(self, host: str) -> AsyncIterator[None]:
        """Hold the account's guest lease (shared by this process's guests) while the block calls AC."""
        key = storage_key(host)
        lock = self._guest_locks.setdefault(key, asyncio.Lock())
        async with lock:
            held = self._guests.get(key)
            if held is None or held.lease.lost:
                lease = await self._guest_lease(key, host)
                held = self._guests[key] = _Held(lease)
            held.users += 1
        try:
            yield
        finally:
            async with lock:
                held.users -= 1
                if held.users <= 0 and self._guests.get(key) is held:
                    del self._guests[key]
                    await held.lease.release()

    async def _guest_lease(self, key: str, host: str) -> RenewingLease:
        blob = self._container.get_blob_client(f"lanes/{key}.guest")
        loop = asyncio.get_running_loop()
        deadline = loop.time() + GUEST_WAIT_S
        while True:
            try:
                return await RenewingLease(blob, GUEST_LEASE_S).acquire()
            except LeaseBusy:
                if loop.time() >= deadline:
                    raise GuestBusy(
                        f"another instance is checking ActiveCampaign account {host}; try again in a few seconds",
                        retry_after=GUEST_LEASE_S,
                    ) from None
                await asyncio.sleep(GUEST_RETRY_S)

    async def close(self) -> None:
        async with self._lock:
            held_all = list(self._held.values()) + list(self._guests.values())
            self._held.clear()
            self._guests.clear()
        for held in held_all:
            if held.release_task is not None:
                held.release_task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await held.release_task
            await held.lease.release()


__all__ = ["GuestBusy", "Lane", "LaneBusy", "LaneRegistry"]
