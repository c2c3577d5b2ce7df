"""The export's ledger: what the scheduler decided last, and where the export last wrote.

`state/exports/<exportId>/ledger.json`, replaced with ETags (one per export id, so a new export that
reuses a name starts with an empty ledger):
- `decided`: the plan key (the export's revision, its target and the snapshots it read) of the last run
  that settled it: Skipped (mass-removal guard, empty snapshot, nothing new) or sent in full.  The timer
  starts nothing more for the same key: a run is planned again only when a new snapshot lands, the
  export or its target changes, or someone starts a run by hand;
- `last_scheduled_at`: when the timer last started the export on its cron schedule;
- `target`: where the export's state was last committed.  A run to another target is a move: it sends
  everyone (full), whatever that target's old state says.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from datetime import UTC, datetime

from azure.core.exceptions import ResourceNotFoundError
from azure.storage.blob.aio import ContainerClient
from pydantic import BaseModel, ValidationError

from shared.errors import CorruptDocument, PreconditionFailed
from shared.models import Export, Run
from shared.pipeline.state import Target, export_prefix
from shared.storage import upload_if

UPDATE_ATTEMPTS = 20


class Decision(BaseModel):
    key: str
    run_id: str
    status: str
    at: datetime


class ExportLedger(BaseModel):
    schema_version: int = 1
    decided: Decision | None = None
    last_scheduled_at: datetime | None = None
    target: Target | None = None


def plan_key(export: Export, target: Target, snapshots: Mapping[str, str]) -> str:
    """What a run's plan depends on besides AC: the export as saved, where it sends, and what it reads."""
    parts = {
        "export": export.id,
        "revision": export.updated_at.isoformat(),
        "target": target.model_dump(),
        "snapshots": dict(sorted(snapshots.items())),
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:32]


class LedgerStore:
    def __init__(self, container: ContainerClient) -> None:
        self._container = container

    @staticmethod
    def _name(export_id: str) -> str:
        return export_prefix(export_id) + "ledger.json"

    async def load(self, export_id: str) -> tuple[ExportLedger, str | None]:
        try:
            downloader = await self._container.download_blob(self._name(export_id))
            data = await downloader.readall()
        except ResourceNotFoundError:
            return ExportLedger(), None
        try:
            return ExportLedger.model_validate_json(data), str(downloader.properties.etag)
        except ValidationError:
            raise CorruptDocument(
                f"the ledger of export {export_id} ({self._name(export_id)}) cannot be read; delete it and the "
                "export is planned again on the next tick"
            ) from None

    async def update(self, export_id: str, change: Callable[[ExportLedger], ExportLedger]) -> ExportLedger:
        """Read-modify-write, retried when another writer got there first."""
        blob = self._container.get_blob_client(self._name(export_id))
        for _ in range(UPDATE_ATTEMPTS):
            ledger, etag = await self.load(export_id)
            new = change(ledger)
            try:
                await upload_if(blob, new.model_dump_json().encode(), etag, what=f"the ledger of export {export_id}")
            except PreconditionFailed:
                continue
            return new
        raise PreconditionFailed(f"the ledger of export {export_id} kept changing; gave up")


async def record_decision(ledgers: LedgerStore, run: Run) -> None:
    """The run settled its plan key (Skipped, or everything sent): the timer does not plan it again."""
    if run.plan_key is None:
        return
    decision = Decision(key=run.plan_key, run_id=run.id, status=run.status.value, at=datetime.now(UTC))
    await ledgers.update(run.export_id, lambda ledger: ledger.model_copy(update={"decided": decision}))


__all__ = ["Decision", "ExportLedger", "LedgerStore", "plan_key", "record_decision"]
