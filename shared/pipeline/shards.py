"""Shards: a few thousand contacts each, as compact Arrow IPC files (zstd) in the runs container.

A shard holds one operation for every row (upsert-and-subscribe, re-subscribe, or
unsubscribe), the rows' mapped values as columns, and in its schema metadata the
operation and what every contact gets (list, tags, exclude_automations).  The worker
serialises the bulk-import payloads from it; the same shard always gives the same
bytes, so a resumed shard cuts its batches the same way.  After sending, the worker
writes the shard's outcome file: one code per row.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from enum import IntEnum
from typing import Final

import pyarrow as pa
import pyarrow.ipc as ipc
from azure.storage.blob.aio import ContainerClient

from shared.activecampaign import ContactColumns, contact_payloads
from shared.errors import CorruptDocument

_OUTCOME_TYPES: dict[str, pa.DataType] = {"outcome": pa.int8(), "reason": pa.string()}
OUTCOME_SCHEMA: Final = pa.schema(_OUTCOME_TYPES)
IPC_OPTIONS: Final = ipc.IpcWriteOptions(compression="zstd")
STANDARD_COLUMNS: Final = ("first_name", "last_name", "phone")
FIELD_PREFIX: Final = "field_"


class Op(IntEnum):
    UPSERT = 1  # bulk import with subscribe (adds and updates)
    RESUBSCRIBE = 2  # bulk import without subscribe, then contactLists status 1 (someone we removed came back)
    UNSUBSCRIBE = 3  # bulk import with unsubscribe (a leaver, mirror mode)


class Outcome(IntEnum):
    CONFIRMED = 1
    REJECTED = 2
    NOT_SENT = 3  # cancelled, failed run, or lost with a poisoned shard: retried next run
    OPTED_OUT = 4  # AC refused it because the person unsubscribed themselves
    UNCONFIRMED = 5  # AC accepted the batch, but the run stopped before import/info confirmed it: retried next run


@dataclass(frozen=True)
class PayloadSpec:
    """What every contact of a run gets, besides its own values."""

    list_id: int
    tags: tuple[str, ...]
    exclude_automations: bool


def shard_table(rows: pa.Table, op: Op, spec: PayloadSpec) -> pa.Table:
    """The rows to send (email, mapped values, hash), with the operation and spec in the metadata."""
    keep = [c for c in rows.column_names if c in ("email", "hash", *STANDARD_COLUMNS) or c.startswith(FIELD_PREFIX)]
    metadata = {"op": str(int(op)), "spec": json.dumps([spec.list_id, list(spec.tags), spec.exclude_automations])}
    return rows.select(keep).replace_schema_metadata(metadata)


def shard_op(table: pa.Table) -> Op:
    """The shard's operation, from its metadata (a shard without it is unreadable, never an upsert by default)."""
    raw = (table.schema.metadata or {}).get(b"op")
    try:
        return Op(int(raw or b""))
    except ValueError:
        raise CorruptDocument("the shard file has no valid operation in its metadata; it cannot be sent") from None


def shard_spec(table: pa.Table) -> PayloadSpec:
    """What every contact of the shard gets (list, tags, exclude_automations), from its metadata."""
    raw = (table.schema.metadata or {}).get(b"spec")
    try:
        list_id, tags, exclude = json.loads(raw or b"")
        if not (isinstance(list_id, int) and list_id > 0 and isinstance(tags, list) and isinstance(exclude, bool)):
            raise ValueError(raw)
    except (ValueError, TypeError):
        raise CorruptDocument("the shard file has no valid list and tags in its metadata; it cannot be sent") from None
    return PayloadSpec(list_id, tuple(str(t) for t in tags), exclude)


def shard_payloads(table: pa.Table) -> list[bytes]:
    """Each row's bulk-import contact, serialised once (leavers carry only their email)."""
    op = shard_op(table)
    spec = shard_spec(table)
    list_id, exclude = spec.list_id, spec.exclude_automations
    emails: list[str] = [e or "" for e in table["email"].to_pylist()]
    if op is Op.UNSUBSCRIBE:
        return contact_payloads(ContactColumns(emails), unsubscribe_list=list_id, exclude_automations=exclude)
    names = table.column_names
    first, last, phone = (table[c].to_pylist() if c in names else None for c in STANDARD_COLUMNS)
    columns = ContactColumns(
        emails,
        first,
        last,
        phone,
        [(int(c.removeprefix(FIELD_PREFIX)), table[c].to_pylist()) for c in names if c.startswith(FIELD_PREFIX)],
        spec.tags,
    )
    subscribe = list_id if op is Op.UPSERT else None
    return contact_payloads(columns, subscribe_list=subscribe, exclude_automations=exclude)


def shard_name(stem: str) -> str:
    """The shard's file; `stem` is ShardProgress.name(index) (its outcome and checkpoint share it)."""
    return f"{stem}.arrow"


def outcome_name(stem: str) -> str:
    return f"{stem}.outcome.arrow"


def checkpoint_name(stem: str) -> str:
    return f"{stem}.ckpt.json"


def to_ipc(table: pa.Table, max_chunksize: int | None = None) -> bytes:
    """Arrow IPC file bytes, zstd-compressed."""
    sink = pa.BufferOutputStream()
    with ipc.new_file(sink, table.schema, options=IPC_OPTIONS) as writer:
        writer.write_table(table, max_chunksize=max_chunksize)
    data: bytes = sink.getvalue().to_pybytes()
    return data


def from_ipc(data: bytes, columns: Sequence[str] | None = None) -> pa.Table:
    """Only the named columns are decompressed (the finaliser never needs the payloads)."""
    if not columns:
        return ipc.open_file(pa.BufferReader(data)).read_all()
    schema = ipc.open_file(pa.BufferReader(data)).schema
    wanted = [schema.get_field_index(name) for name in columns]
    options = ipc.IpcReadOptions(included_fields=wanted)
    table = ipc.open_file(pa.BufferReader(data), options=options).read_all()
    return table.select(list(columns))


async def write_table(container: ContainerClient, blob: str, table: pa.Table, max_chunksize: int | None = None) -> None:
    await container.upload_blob(blob, to_ipc(table, max_chunksize), overwrite=True)


async def read_table(container: ContainerClient, blob: str, columns: Sequence[str] | None = None) -> pa.Table:
    downloader = await container.download_blob(blob)
    return from_ipc(await downloader.readall(), columns)


def outcome_table(codes: Sequence[int], reasons: Sequence[str | None]) -> pa.Table:
    return pa.table({"outcome": pa.array(codes, pa.int8()), "reason": pa.array(reasons, pa.string())}).cast(
        OUTCOME_SCHEMA
    )


__all__ = [
    "OUTCOME_SCHEMA",
    "Op",
    "Outcome",
    "PayloadSpec",
    "checkpoint_name",
    "from_ipc",
    "outcome_name",
    "outcome_table",
    "read_table",
    "shard_name",
    "shard_op",
    "shard_payloads",
    "shard_spec",
    "shard_table",
    "to_ipc",
    "write_table",
]
