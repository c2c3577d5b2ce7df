"""What ActiveCampaign holds from us, per export: one compact record per contact.

`state/exports/<export>/contacts-<runId>.arrow` is an Arrow IPC file (zstd) with one row per
contact: normalised email, an 8-byte hash of the values we sent, and our list
status for it.  `state/exports/<export>/meta.json` names the current file and is replaced
with an ETag, so a new state becomes visible atomically and two writers cannot
interleave.  The state changes only for rows AC confirmed.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from datetime import datetime
from enum import IntEnum
from typing import Final

import pyarrow as pa
import pyarrow.compute as pc
from azure.core import MatchConditions
from azure.core.exceptions import ResourceExistsError, ResourceModifiedError, ResourceNotFoundError
from azure.storage.blob.aio import ContainerClient
from pydantic import BaseModel, Field, ValidationError

from shared.errors import CorruptDocument, PreconditionFailed
from shared.pipeline.shards import from_ipc, write_table

_STATE_TYPES: dict[str, pa.DataType] = {"email": pa.string(), "hash": pa.binary(8), "status": pa.int8()}
STATE_SCHEMA: Final = pa.schema(_STATE_TYPES)


class ListStatus(IntEnum):
    SUBSCRIBED = 1  # we put them in the list
    REMOVED = 2  # we unsubscribed them (mirror mode); re-subscribed through contactLists if they come back
    OPTED_OUT = 3  # they unsubscribed themselves in AC: never re-subscribed


class StateMeta(BaseModel):
    schema_version: int = 1
    contacts_blob: str | None = None
    rows: int = 0
    last_run_id: str | None = None
    updated_at: datetime | None = None
    snapshots: dict[str, str] = Field(default_factory=dict)  # segment -> snapshot id last sent in full
    last_scheduled_at: datetime | None = None


@dataclass
class ExportState:
    table: pa.Table
    meta: StateMeta = field(default_factory=StateMeta)
    etag: str | None = None  # of meta.json; None when the export has no state yet

    @property
    def subscribed(self) -> int:
        """How many contacts we hold subscribed in the list (the mass-removal guard's base)."""
        mask = pc.equal(self.table["status"], pa.scalar(int(ListStatus.SUBSCRIBED), pa.int8()))
        return int(pc.sum(mask).as_py() or 0)


def empty_state() -> pa.Table:
    return STATE_SCHEMA.empty_table()


class StateStore:
    def __init__(self, container: ContainerClient) -> None:
        self._container = container

    @staticmethod
    def _meta_name(export: str) -> str:
        return f"exports/{export}/meta.json"

    async def load_meta(self, export: str) -> tuple[StateMeta, str | None]:
        try:
            downloader = await self._container.download_blob(self._meta_name(export))
            data = await downloader.readall()
        except ResourceNotFoundError:
            return StateMeta(), None
        try:
            return StateMeta.model_validate_json(data), str(downloader.properties.etag)
        except ValidationError:
            raise CorruptDocument(
                f"export {export!r}: its state ({self._meta_name(export)}) cannot be read; delete it to resend everyone"
            ) from None

    async def load(self, export: str) -> ExportState:
        meta, etag = await self.load_meta(export)
        if not meta.contacts_blob:
            return ExportState(empty_state(), meta, etag)
        downloader = await self._container.download_blob(meta.contacts_blob)
        return ExportState(from_ipc(await downloader.readall()).cast(STATE_SCHEMA), meta, etag)

    async def save(self, export: str, state: ExportState, table: pa.Table, meta: StateMeta) -> str:
        """Write a new contacts file, then switch meta.json to it (refused if meta changed since load)."""
        name = f"exports/{export}/contacts-{meta.last_run_id or 'initial'}.arrow"
        await write_table(self._container, name, table.cast(STATE_SCHEMA), max_chunksize=65536)
        new_meta = meta.model_copy(update={"contacts_blob": name, "rows": table.num_rows})
        etag = await self.save_meta(export, new_meta, state.etag)
        if state.meta.contacts_blob and state.meta.contacts_blob != name:
            with contextlib.suppress(ResourceNotFoundError):
                await self._container.delete_blob(state.meta.contacts_blob)
        return etag

    async def save_meta(self, export: str, meta: StateMeta, etag: str | None) -> str:
        blob = self._container.get_blob_client(self._meta_name(export))
        body = meta.model_dump_json().encode()
        try:
            if etag is None:
                result = await blob.upload_blob(body, match_condition=MatchConditions.IfMissing)
            else:
                result = await blob.upload_blob(
                    body, overwrite=True, etag=etag, match_condition=MatchConditions.IfNotModified
                )
        except (ResourceExistsError, ResourceModifiedError):
            raise PreconditionFailed(
                f"the state of export {export!r} changed during the run; it was not saved"
            ) from None
        return str(result["etag"])

    async def delete(self, export: str) -> None:
        async for blob in self._container.list_blobs(name_starts_with=f"exports/{export}/"):
            with contextlib.suppress(ResourceNotFoundError):
                await self._container.delete_blob(blob.name)


__all__ = ["STATE_SCHEMA", "ExportState", "ListStatus", "StateMeta", "StateStore", "empty_state"]
