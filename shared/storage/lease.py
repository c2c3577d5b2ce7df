"""A blob lease kept alive in the background: one holder at a time, across processes and instances.

Used for the account lane (one sender per AC account) and for shard exclusivity (a
duplicated shard message never runs twice at once).  If the holder dies, the lease
lapses after its duration (15-60 s) and another instance can take over.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from azure.core.exceptions import AzureError, HttpResponseError, ResourceExistsError, ResourceNotFoundError
from azure.storage.blob.aio import BlobClient, BlobLeaseClient

logger = logging.getLogger(__name__)


class LeaseBusy(Exception):
    """Someone else holds the lease."""


class RenewingLease:
    def __init__(self, blob: BlobClient, duration_s: int) -> None:
        self._blob = blob
        self._duration = duration_s
        self._lease: BlobLeaseClient | None = None
        self._renewer: asyncio.Task[None] | None = None
        self.lost = False

    async def acquire(self) -> RenewingLease:
        """Take the lease or raise LeaseBusy.  The blob is created (empty) if it does not exist."""
        for _ in range(2):
            try:
                self._lease = await self._blob.acquire_lease(lease_duration=self._duration)
                break
            except ResourceNotFoundError:
                with contextlib.suppress(ResourceExistsError):
                    await self._blob.upload_blob(b"", overwrite=False)
            except HttpResponseError as exc:
                if exc.status_code == 409:  # LeaseAlreadyPresent
                    raise LeaseBusy(self._blob.blob_name) from None
                raise
        if self._lease is None:
            raise LeaseBusy(self._blob.blob_name)
        self._renewer = asyncio.create_task(self._renew(), name=f"lease:{self._blob.blob_name}")
        return self

    async def _renew(self) -> None:
        assert self._lease is not None
        while True:
            await asyncio.sleep(self._duration / 3)
            try:
                await self._lease.renew()
            except (AzureError, OSError):  # the lease lapsed or storage failed: the holder must stop
                self.lost = True
                logger.warning("lost the lease on %s", self._blob.blob_name)
                return

    async def release(self) -> None:
        if self._renewer is not None:
            self._renewer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._renewer
            self._renewer = None
        if self._lease is not None and not self.lost:
            with contextlib.suppress(AzureError, OSError):  # it lapses by itself anyway
                await self._lease.release()
        self._lease = None


__all__ = ["LeaseBusy", "RenewingLease"]
