"""One piece of a run's work (a split, a bucket's plan, a commit) done by one worker at a time: a blob lease on a
lock file under the run.  Held elsewhere (a duplicated message, or a holder that died): WorkBusy, and the message
looks again once that lease has lapsed."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from shared.errors import WorkBusy
from shared.services import Services
from shared.storage.lease import LeaseBusy, RenewingLease


@asynccontextmanager
async def run_work(services: Services, export_id: str, run_id: str, lock: str, what: str) -> AsyncIterator[None]:
    """Hold `lock` (a name under the run) while doing `what` (for the message when it is held elsewhere)."""
    blob = services.runs_container.get_blob_client(services.runs.path(export_id, run_id, lock))
    lease = RenewingLease(blob, services.settings.lane_lease_s)
    try:
        await lease.acquire()
    except LeaseBusy:
        raise WorkBusy(
            f"{what} of run {run_id} is being done by another worker", retry_after=services.settings.lane_lease_s
        ) from None
    try:
        yield
    finally:
        await lease.release()


__all__ = ["run_work"]
