"""What ActiveCampaign holds from an export, per target: one compact record per contact.

State belongs to what AC holds, not to a name: it is keyed by the export's immutable id and the
target, i.e. the AC account (shared/activecampaign/account.py) and the list.  Moving an export to
another account or list (or editing its connection's hostname to another account) reaches another
target, whose state starts empty: the next run sends everyone, and mirror mode removes nobody from a
list the export never wrote to.

`state/exports/<exportId>/targets/<account>/list-<listId>/contacts-<runId>.arrow` is an Arrow IPC
file (zstd) with one row per contact: normalised email, an 8-byte hash of the values we sent, and
our list status for it.  `meta.json` next to it names the current file and is replaced with an
ETag, so a new state becomes visible atomically and two writers cannot interleave.  The state
changes only for rows AC confirmed.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from datetime import datetime
from enum import IntEnum
from typing import Final

import pyarrow as pa
import pyarrow.compute as pc
from azure.core.exceptions import ResourceNotFoundError
from azure.storage.blob.aio import ContainerClient
from pydantic import BaseModel, ValidationError

from shared.activecampaign.account import account_key, storage_key
from shared.errors import CorruptDocument
from shared.models import Connection, Export, Target
from shared.pipeline.shards import from_ipc, write_table
from shared.storage import upload_if

_STATE_TYPES: dict[str, pa.DataType] = {"email": pa.string(), "hash": pa.binary(8), "status": pa.int8()}
STATE_SCHEMA: Final = pa.schema(_STATE_TYPES)


class ListStatus(IntEnum):
    SUBSCRIBED = 1  # we put them in the list
    REMOVED = 2  # we unsubscribed them (mirror mode); re-subscribed through contactLists if they come back
    OPTED_OUT = 3  # they unsubscribed themselves in AC: never re-subscribed


def target_of(export: Export, connection: Connection) -> Target:
    """Where a run of `export` on `connection` sends now."""
    return Target(connection_id=connection.id, account=account_key(connection.hostname), list_id=export.list_id)


class StateMeta(BaseModel):
    schema_version: int = 2
    contacts_blob: str | None = None
    rows: int = 0
    last_run_id: str | None = None
    updated_at: datetime | None = None


@dataclass
class ExportState:
    table: pa.Table
    meta: StateMeta = field(default_factory=StateMeta)
    etag: str | None = None  # of meta.json; None when the target has no state yet

    @property
    def subscribed(self) -> int:
        """How many contacts we hold subscribed in the list (the mass-removal guard's base)."""
        mask = pc.equal(self.table["status"], pa.scalar(int(ListStatus.SUBSCRIBED), pa.int8()))
        return int(pc.sum(mask).as_py() or 0)


def empty_state() -> pa.Table:
    return STATE_SCHEMA.empty_table()


def export_prefix(export_id: str) -> str:
    return f"exports/{export_id}/"


def target_prefix(export_id: str, target: Target) -> str:
    return f"{export_prefix(export_id)}targets/{storage_key(target.account)}/list-{target.list_id}/"


class StateStore:
    def __init__(self, container: ContainerClient) -> None:
        self._container = container

    async def load_meta(self, export_id: str, target: Target) -> tuple[StateMeta, str | None]:
        name = target_prefix(export_id, target) + "meta.json"
        try:
            downloader = await self._container.download_blob(name)
            data = await downloader.readall()
        except ResourceNotFoundError:
            return StateMeta(), None
        try:
            return StateMeta.model_validate_json(data), str(downloader.properties.etag)
        except ValidationError:
            raise CorruptDocument(
                f"the incremental state of export {export_id} ({name}) cannot be read; delete it to resend everyone"
            ) from None

    async def load(self, export_id: str, target: Target) -> ExportState:
        meta, etag = await self.load_meta(export_id, target)
        if not meta.contacts_blob:
            return ExportState(empty_state(), meta, etag)
        downloader = await self._container.download_blob(meta.contacts_blob)
        return ExportState(from_ipc(await downloader.readall()).cast(STATE_SCHEMA), meta, etag)

    async def save(self, export_id: str, target: Target, state: ExportState, table: pa.Table, meta: StateMeta) -> str:
        """Write a new contacts file, then switch meta.json to it (refused if meta changed since load)."""
        prefix = target_prefix(export_id, target)
        name = f"{prefix}contacts-{meta.last_run_id or 'initial'}.arrow"
        await write_table(self._container, name, table.cast(STATE_SCHEMA), max_chunksize=65536)
        new_meta = meta.model_copy(update={"contacts_blob": name, "rows": table.num_rows})
        blob = self._container.get_blob_client(prefix + "meta.json")
        etag = await upload_if(
            blob, new_meta.model_dump_json().encode(), state.etag, what=f"the state of export {export_id}"
        )
        if state.meta.contacts_blob and state.meta.contacts_blob != name:
            with contextlib.suppress(ResourceNotFoundError):
                await self._container.delete_blob(state.meta.contacts_blob)
        return etag

    async def delete(self, export_id: str) -> None:
        """Every target's state of the export (its ledger too)."""
        async for blob in self._container.list_blobs(name_starts_with=export_prefix(export_id)):
            with contextlib.suppress(ResourceNotFoundError):
                await self._container.delete_blob(blob.name)


__all__ = [
    "STATE_SCHEMA",
    "ExportState",
    "ListStatus",
    "StateMeta",
    "StateStore",
    "Target",
    "empty_state",
    "export_prefix",
    "target_of",
    "target_prefix",
]
