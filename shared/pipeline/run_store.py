"""Run records and the one-active-run-per-export lock, in the runs container.

Layout, under the export's immutable id (never its name, which a later export may reuse):
`<exportId>/<runId>/run.json` (the record), `<exportId>/active.json` (which run holds the
export), and the run's working files next to its record (shards, checkpoints, results,
report, the finaliser's lock).  Run ids sort by time.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from azure.core import MatchConditions
from azure.core.exceptions import ResourceExistsError, ResourceModifiedError
from azure.storage.blob.aio import ContainerClient
from pydantic import BaseModel

from shared.errors import CorruptDocument, NotFound, PreconditionFailed
from shared.models import Run
from shared.storage import DocumentStore, Versioned

logger = logging.getLogger(__name__)


class ActiveRun(BaseModel):
    run_id: str


class RunStore:
    def __init__(self, container: ContainerClient) -> None:
        self.container = container
        self._runs: DocumentStore[Run] = DocumentStore(container, "", Run, "run")
        self._active: DocumentStore[ActiveRun] = DocumentStore(container, "", ActiveRun, "active run")

    @staticmethod
    def _key(export_id: str, run_id: str) -> str:
        return f"{export_id}/{run_id}/run"

    @staticmethod
    def path(export_id: str, run_id: str, name: str) -> str:
        """A working file of the run: path(export_id, run_id, 'shards/3.arrow')."""
        return f"{export_id}/{run_id}/{name}"

    async def create(self, run: Run) -> str:
        return await self._runs.create(self._key(run.export_id, run.id), run)

    async def get(self, export_id: str, run_id: str) -> Versioned[Run]:
        try:
            return await self._runs.get(self._key(export_id, run_id))
        except NotFound:
            raise NotFound(f"run {run_id!r} does not exist") from None

    async def update(self, export_id: str, run_id: str, change: Callable[[Run], Awaitable[Run] | Run]) -> Run:
        """Every change to a run makes a new record (model_copy); one that returns the record unchanged (a shard
        already counted, an error already recorded) writes nothing."""
        return (await self._runs.update(self._key(export_id, run_id), change, attempts=50, skip_unchanged=True)).doc

    async def list(self, export_id: str, *, limit: int = 20) -> list[Run]:
        """The newest `limit` runs of an export, newest first."""
        ids: list[str] = []
        async for item in self.container.walk_blobs(name_starts_with=f"{export_id}/", delimiter="/"):
            name = item.name.rstrip("/").rsplit("/", 1)[-1]
            if item.name.endswith("/"):
                ids.append(name)
        ids.sort(reverse=True)
        found = await asyncio.gather(
            *(self._runs.find(self._key(export_id, i)) for i in ids[:limit]), return_exceptions=True
        )
        for result in found:
            if isinstance(result, CorruptDocument):
                logger.warning("a run record of export %s cannot be read: %s", export_id, result.message)
            elif isinstance(result, BaseException):
                raise result
        return [f.doc for f in found if isinstance(f, Versioned)]

    # -- one active run per export -------------------------------------------------------------

    async def active_run_id(self, export_id: str) -> str | None:
        found = await self._active.find(f"{export_id}/active")
        return found.doc.run_id if found else None

    async def claim_active(self, export_id: str, run_id: str) -> str | None:
        """Make `run_id` the export's active run.  Returns the id of a run that still holds it, or None."""
        key = f"{export_id}/active"
        blob = self.container.get_blob_client(self._active.blob_name(key))
        body = ActiveRun(run_id=run_id).model_dump_json().encode()
        for _ in range(5):
            try:
                await blob.upload_blob(body, match_condition=MatchConditions.IfMissing)
                return None
            except ResourceExistsError:
                pass
            current = await self._active.find(key)
            if current is None:
                continue
            holder = await self._runs.find(self._key(export_id, current.doc.run_id))
            if holder is not None and not holder.doc.status.final:
                return current.doc.run_id
            try:  # the holder finished (or vanished): take over, unless someone else just did
                await blob.upload_blob(
                    body, overwrite=True, etag=current.etag, match_condition=MatchConditions.IfNotModified
                )
                return None
            except ResourceModifiedError:
                continue
        return await self.active_run_id(export_id)

    async def release_active(self, export_id: str, run_id: str) -> None:
        current = await self._active.find(f"{export_id}/active")
        if current is None or current.doc.run_id != run_id:
            return
        with contextlib.suppress(NotFound, PreconditionFailed):  # gone, or a new run already claimed it
            await self._active.delete(f"{export_id}/active", current.etag)


__all__ = ["ActiveRun", "RunStore"]
