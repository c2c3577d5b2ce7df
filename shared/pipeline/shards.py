"""Shards: a few thousand contacts each, ready to send, as compact Arrow IPC files in the runs container.

A shard holds one operation for every row (upsert-and-subscribe, re-subscribe, or
unsubscribe) and each row's bulk-import payload, serialised once by the planner,
so the worker's batches are deterministic: a resumed shard cuts them the same way.
After sending, the worker writes the shard's outcome file: one code per row.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import IntEnum
from typing import Any, Final

import pyarrow as pa
import pyarrow.ipc as ipc
from azure.storage.blob.aio import ContainerClient

from shared.activecampaign import ContactFields, contact_payload
from shared.pipeline.rules import FieldSpec

_SHARD_TYPES: dict[str, pa.DataType] = {"email": pa.string(), "payload": pa.binary(), "hash": pa.binary(8)}
SHARD_SCHEMA: Final = pa.schema(_SHARD_TYPES)
_OUTCOME_TYPES: dict[str, pa.DataType] = {"outcome": pa.int8(), "reason": pa.string()}
OUTCOME_SCHEMA: Final = pa.schema(_OUTCOME_TYPES)
IPC_OPTIONS: Final = ipc.IpcWriteOptions(compression="zstd")


class Op(IntEnum):
    UPSERT = 1  # bulk import with subscribe (adds and updates)
    RESUBSCRIBE = 2  # bulk import without subscribe, then contactLists status 1 (someone we removed came back)
    UNSUBSCRIBE = 3  # bulk import with unsubscribe (a leaver, mirror mode)


class Outcome(IntEnum):
    CONFIRMED = 1
    REJECTED = 2
    NOT_SENT = 3  # cancelled, failed run, or lost with a poisoned shard: retried next run
    OPTED_OUT = 4  # AC refused it because the person unsubscribed themselves


@dataclass(frozen=True)
class PayloadSpec:
    list_id: int
    tags: tuple[str, ...]
    exclude_automations: bool
    fields: tuple[FieldSpec, ...]


def build_shard(rows: pa.Table, op: Op, spec: PayloadSpec) -> pa.Table:
    """Serialise each row's bulk-import contact once (leavers carry only their email)."""
    emails: list[str] = [e or "" for e in rows["email"].to_pylist()]
    if op is Op.UNSUBSCRIBE:
        payloads = [
            contact_payload(
                ContactFields(email), unsubscribe_list=spec.list_id, exclude_automations=spec.exclude_automations
            )
            for email in emails
        ]
    else:
        payloads = _contact_payloads(rows, emails, op, spec)
    return pa.table(
        {"email": pa.array(emails, pa.string()), "payload": pa.array(payloads, pa.binary()), "hash": rows["hash"]}
    ).cast(SHARD_SCHEMA)


def _contact_payloads(rows: pa.Table, emails: list[str], op: Op, spec: PayloadSpec) -> list[bytes]:
    first: list[str | None] = rows["first_name"].to_pylist()
    last: list[str | None] = rows["last_name"].to_pylist()
    phone: list[str | None] = rows["phone"].to_pylist()
    field_columns: list[tuple[int, list[Any]]] = [(f.field_id, rows[f.column].to_pylist()) for f in spec.fields]
    subscribe = spec.list_id if op is Op.UPSERT else None
    out: list[bytes] = []
    for i, email in enumerate(emails):
        fields = tuple((fid, values[i]) for fid, values in field_columns if values[i] is not None)
        contact = ContactFields(email, first[i], last[i], phone[i], fields, spec.tags)
        out.append(contact_payload(contact, subscribe_list=subscribe, exclude_automations=spec.exclude_automations))
    return out


def shard_name(index: int) -> str:
    return f"shards/{index:05d}.arrow"


def outcome_name(index: int) -> str:
    return f"shards/{index:05d}.outcome.arrow"


def to_ipc(table: pa.Table) -> bytes:
    sink = pa.BufferOutputStream()
    with ipc.new_file(sink, table.schema, options=IPC_OPTIONS) as writer:
        writer.write_table(table)
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


async def write_table(container: ContainerClient, blob: str, table: pa.Table) -> None:
    await container.upload_blob(blob, to_ipc(table), overwrite=True)


async def read_table(container: ContainerClient, blob: str, columns: Sequence[str] | None = None) -> pa.Table:
    downloader = await container.download_blob(blob)
    return from_ipc(await downloader.readall(), columns)


def outcome_table(codes: Sequence[int], reasons: Sequence[str | None]) -> pa.Table:
    return pa.table({"outcome": pa.array(codes, pa.int8()), "reason": pa.array(reasons, pa.string())}).cast(
        OUTCOME_SCHEMA
    )


__all__ = [
    "OUTCOME_SCHEMA",
    "SHARD_SCHEMA",
    "Op",
    "Outcome",
    "PayloadSpec",
    "build_shard",
    "from_ipc",
    "outcome_name",
    "outcome_table",
    "read_table",
    "shard_name",
    "to_ipc",
    "write_table",
]
