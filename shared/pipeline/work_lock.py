"""One piece of a run's work (a split, a bucket's plan, a commit, a shard's sending) done by one worker at a time:
a renewed blob lease.  Held elsewhere (a duplicated message, or a holder that died): a retriable error, and the
message looks again later (once a dead holder's lease has lapsed)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from azure.storage.blob.aio import BlobClient

from shared.errors import RetriableError, WorkBusy
from shared.services import Services
from shared.storage.lease import LeaseBusy, RenewingLease


@asynccontextmanager
async def held(blob: BlobClient, lease_s: int, busy: RetriableError) -> AsyncIterator[None]:
    """Hold a renewed lease on `blob` for the block; `busy` is raised when another worker holds it."""
    lease = RenewingLease(blob, lease_s)
    try:
        await lease.acquire()
    except LeaseBusy:
        raise busy from None
    try:
        yield
    finally:
        await lease.release()


@asynccontextmanager
async def run_work(services: Services, export_id: str, run_id: str, lock: str, what: str) -> AsyncIterator[None]:
    """Hold `lock` (a name under the run) while doing `what` (for the message when it is held elsewhere)."""
    lease_s = services.settings.lane_lease_s
    blob = services.runs_container.get_blob_client(services.runs.path(export_id, run_id, lock))
    busy = WorkBusy(f"{what} of run {run_id} is being done by another worker", retry_after=lease_s)
    async with held(blob, lease_s, busy):
        yield


__all__ = ["held", "run_work"]
