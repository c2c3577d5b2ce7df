"""What ActiveCampaign holds from an export, per target, in buckets: one compact record per contact.

State belongs to what AC holds, not to a name: it is keyed by the export's immutable id and the
target, i.e. the AC account (shared/activecampaign/account.py) and the list.  Moving an export to
another account or list (or editing its connection's hostname to another account) reaches another
target, whose state starts empty: the next run sends everyone, and mirror mode removes nobody from a
list the export never wrote to.

Each record is: normalised email, an 8-byte hash of the values we sent, and our list status.  The
records are cut into buckets by the email (shared/pipeline/buckets.py), one Arrow IPC file (zstd) per
bucket, under `state/exports/<exportId>/targets/<account>/list-<listId>/`.  `meta.json` there names
the files and the number of bucket bits; it is replaced with an ETag once a run has written every
bucket it changed, so a run's new state becomes visible at once and two writers cannot interleave.
The state changes only for rows AC confirmed.

A state written with another bucket count is read bucket by bucket all the same: a bucket at more
bits is a slice of its parent, at fewer bits the union of its children.  Older layouts are read as
one bucket: a single contacts file named by `contacts_blob` (before buckets), or the file of an
export from before ids (`state/exports/<name>/meta.json`), which the first run moves here: the
export continues incrementally, nothing is resent.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import IntEnum
from typing import Final

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.ipc as ipc
from azure.core.exceptions import ResourceNotFoundError
from azure.storage.blob.aio import ContainerClient
from pydantic import BaseModel, ConfigDict, ValidationError

from shared.activecampaign.account import account_key, storage_key
from shared.errors import CorruptDocument
from shared.models import Connection, Export, Target
from shared.pipeline.buckets import email_hashes, in_bucket
from shared.pipeline.shards import write_table
from shared.snapshot.model import ParquetFormat, Partition
from shared.snapshot.ranged import BlobRangeFile
from shared.storage import upload_if

_STATE_TYPES: dict[str, pa.DataType] = {"email": pa.string(), "hash": pa.binary(8), "status": pa.int8()}
STATE_SCHEMA: Final = pa.schema(_STATE_TYPES)
META: Final = "meta.json"
BATCH_ROWS: Final = 65_536  # rows per IPC record batch: a big single file is read this much at a time


class ListStatus(IntEnum):
    SUBSCRIBED = 1  # we put them in the list
    REMOVED = 2  # we unsubscribed them (mirror mode); re-subscribed through contactLists if they come back
    OPTED_OUT = 3  # they unsubscribed themselves in AC: never re-subscribed


class StateMeta(BaseModel):
    model_config = ConfigDict(extra="ignore")

    schema_version: int = 3
    bits: int = 0
    blobs: list[str | None] = []  # one file per bucket at `bits` (None: nobody in that bucket)
    sizes: list[int] = []  # records per bucket
    contacts_blob: str | None = None  # an older layout: every contact in one file
    rows: int = 0
    last_run_id: str | None = None
    updated_at: datetime | None = None

    @property
    def empty(self) -> bool:
        return not self.blobs and not self.contacts_blob

    def files(self) -> set[str]:
        return {b for b in self.blobs if b} | ({self.contacts_blob} if self.contacts_blob else set())


@dataclass(frozen=True)
class LoadedMeta:
    meta: StateMeta
    etag: str | None  # of meta.json where it is now; None when there is none yet
    legacy: str | None = None  # the meta.json of an export from before ids, moved here by the next commit


def target_of(export: Export, connection: Connection) -> Target:
    """Where a run of `export` on `connection` sends now."""
    return Target(connection_id=connection.id, account=account_key(connection.hostname), list_id=export.list_id)


def export_prefix(export_id: str) -> str:
    return f"exports/{export_id}/"


def target_prefix(export_id: str, target: Target) -> str:
    return f"{export_prefix(export_id)}targets/{storage_key(target.account)}/list-{target.list_id}/"


def subscribed(table: pa.Table) -> int:
    """How many contacts we hold subscribed in the list (the mass-removal guard's base)."""
    mask = pc.equal(table["status"], pa.scalar(int(ListStatus.SUBSCRIBED), pa.int8()))
    return int(pc.sum(mask).as_py() or 0)


def empty_state() -> pa.Table:
    return STATE_SCHEMA.empty_table()


class StateStore:
    def __init__(self, container: ContainerClient) -> None:
        self._container = container

    async def load_meta(self, export_id: str, target: Target, *, legacy_name: str | None = None) -> LoadedMeta:
        """The target's meta (empty when none).  `legacy_name`: for an export from before ids, where its
        state was kept under its name."""
        name = target_prefix(export_id, target) + META
        found = await self._read_meta(name, export_id)
        if found is not None:
            return LoadedMeta(*found)
        if legacy_name is not None:
            old = f"{export_prefix(legacy_name)}{META}"
            legacy = await self._read_meta(old, export_id)
            if legacy is not None and legacy[0].contacts_blob:
                return LoadedMeta(legacy[0], None, legacy=old)
        return LoadedMeta(StateMeta(), None)

    async def _read_meta(self, name: str, export_id: str) -> tuple[StateMeta, str] | None:
        try:
            downloader = await self._container.download_blob(name)
            data = await downloader.readall()
        except ResourceNotFoundError:
            return None
        try:
            return StateMeta.model_validate_json(data), str(downloader.properties.etag)
        except ValidationError:
            raise CorruptDocument(
                f"the incremental state of export {export_id} ({name}) cannot be read; delete it to resend everyone"
            ) from None

    async def load_bucket(self, meta: StateMeta, bits: int, bucket: int) -> pa.Table:
        """Every record of bucket `bucket` at `bits`, whatever bucket count the state was written with."""
        if meta.contacts_blob and not meta.blobs:
            return await self._read_slice(meta.contacts_blob, bits, bucket)
        if not meta.blobs:
            return empty_state()
        if meta.bits == bits:
            blob = meta.blobs[bucket]
            return await self._read(blob) if blob else empty_state()
        if meta.bits < bits:
            parent = meta.blobs[bucket >> (bits - meta.bits)]
            return await self._read_slice(parent, bits, bucket) if parent else empty_state()
        shift = meta.bits - bits
        children = [b for b in meta.blobs[bucket << shift : (bucket + 1) << shift] if b]
        tables = [await self._read(blob) for blob in children]
        return pa.concat_tables(tables) if tables else empty_state()

    async def _read(self, blob: str) -> pa.Table:
        downloader = await self._container.download_blob(blob)
        return ipc.open_file(pa.BufferReader(await downloader.readall())).read_all().cast(STATE_SCHEMA)

    async def _read_slice(self, blob: str, bits: int, bucket: int) -> pa.Table:
        """The records of one bucket from a bigger file, read a record batch at a time (bounded memory)."""
        properties = await self._container.get_blob_client(blob).get_blob_properties()
        partition = Partition(blob, ParquetFormat(), size=properties.size, etag=str(properties.etag))
        source = BlobRangeFile(asyncio.get_running_loop(), self._container, partition)

        def read() -> pa.Table:
            reader = ipc.open_file(pa.PythonFile(source, mode="r"))
            pieces = []
            for index in range(reader.num_record_batches):
                batch = pa.Table.from_batches([reader.get_batch(index)])
                if bits:
                    keep = in_bucket(email_hashes(batch["email"]), bits, bucket)
                    batch = batch.filter(pa.array(keep))
                pieces.append(batch.cast(STATE_SCHEMA))
            return pa.concat_tables(pieces) if pieces else empty_state()

        try:
            return await asyncio.to_thread(read)
        finally:
            source.close()

    async def write_bucket(self, export_id: str, target: Target, run_id: str, bucket: int, table: pa.Table) -> str:
        name = f"{target_prefix(export_id, target)}runs/{run_id}/bucket-{bucket:04d}.arrow"
        await write_table(self._container, name, table.cast(STATE_SCHEMA), max_chunksize=BATCH_ROWS)
        return name

    async def switch(self, export_id: str, target: Target, loaded: LoadedMeta, new: StateMeta) -> str:
        """Make `new` the target's state (refused if the meta changed since `loaded`), then delete what only the
        old state used: its files, and the meta of an export from before ids."""
        blob = self._container.get_blob_client(target_prefix(export_id, target) + META)
        etag = await upload_if(blob, new.model_dump_json().encode(), loaded.etag, what=f"the state of {export_id}")
        gone = loaded.meta.files() - new.files()
        if loaded.legacy:
            gone.add(loaded.legacy)
        await self._delete(sorted(gone))
        return etag

    async def _delete(self, names: Sequence[str]) -> None:
        for name in names:
            with contextlib.suppress(ResourceNotFoundError):
                await self._container.delete_blob(name)

    async def delete(self, export_id: str) -> None:
        """Every target's state of the export (its ledger too)."""
        async for blob in self._container.list_blobs(name_starts_with=export_prefix(export_id)):
            with contextlib.suppress(ResourceNotFoundError):
                await self._container.delete_blob(blob.name)


def merge(old: pa.Table, changed: pa.Table) -> pa.Table:
    """The old records with those in `changed` replaced by their new values."""
    kept = old.filter(pc.invert(pc.is_in(old["email"], value_set=changed["email"].combine_chunks())))
    return pa.concat_tables([kept.cast(STATE_SCHEMA), changed.cast(STATE_SCHEMA)])


def state_rows(rows: pa.Table, status: ListStatus) -> pa.Table:
    """Records for `rows` (email, hash) with one list status."""
    return pa.table(
        {
            "email": rows["email"],
            "hash": rows["hash"],
            "status": pa.repeat(pa.scalar(int(status), pa.int8()), rows.num_rows),
        }
    ).cast(STATE_SCHEMA)


__all__ = [
    "STATE_SCHEMA",
    "ListStatus",
    "LoadedMeta",
    "StateMeta",
    "StateStore",
    "Target",
    "empty_state",
    "export_prefix",
    "merge",
    "state_rows",
    "subscribed",
    "target_of",
    "target_prefix",
]
