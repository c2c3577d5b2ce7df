"""Read the requested columns of one Parquet partition.

Parquet needs random access, so the blob is downloaded whole (Parquet is compressed; CI's CSV
partitions are the large ones and those are streamed).  Columns are matched by name (exactly,
else case-insensitively) and cast to strings: nulls stay null, dates become YYYY-MM-DD and
timestamps pyarrow's ISO-like text.  Values that are not valid UTF-8 are bad rows, as for CSV.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pyarrow as pa
import pyarrow.parquet as pq
from azure.core import MatchConditions
from azure.storage.blob.aio import ContainerClient

from shared.errors import SnapshotError
from shared.snapshot.csv_reader import PartitionRows, invalid_utf8
from shared.snapshot.model import BadRow
from shared.snapshot.storage import storage_errors


async def read_parquet_partition(
    container: ContainerClient, *, blob_name: str, etag: str, columns: Sequence[str]
) -> PartitionRows:
    """Download the whole Parquet blob (If-Match `etag`) and parse it in a worker thread."""
    with storage_errors(container.container_name, f"reading {blob_name}"):
        condition = MatchConditions.IfNotModified if etag else None
        download = await container.get_blob_client(blob_name).download_blob(
            etag=etag or None, match_condition=condition
        )
        data = await download.readall()
    return await asyncio.to_thread(parse_parquet, data, blob_name, columns)


def parse_parquet(data: bytes, blob_name: str, columns: Sequence[str]) -> PartitionRows:
    try:
        file = pq.ParquetFile(pa.BufferReader(data))
        names = list(file.schema_arrow.names)
        resolved = [_resolve(c, names, blob_name) for c in columns]
        table = file.read(columns=sorted(set(resolved), key=resolved.index))
    except (pa.ArrowInvalid, OSError):
        raise SnapshotError(
            f"{blob_name} is not a readable Parquet file: re-run the Customer Insights export"
        ) from None
    arrays = []
    bad: dict[int, str] = {}
    for wanted, name in zip(columns, resolved, strict=True):
        column = table.column(name)
        if pa.types.is_binary(column.type) or pa.types.is_large_binary(column.type):
            offset = 0
            for chunk in column.chunks:
                for position in invalid_utf8(chunk):
                    bad.setdefault(offset + position, wanted)
                offset += len(chunk)
        arrays.append(column)
    rows = table.num_rows
    keep = [i for i in range(rows) if i not in bad] if bad else None
    out = []
    for column in arrays:
        if keep is not None:
            column = column.take(pa.array(keep, pa.int64()))
        out.append(column.cast(pa.string()) if column.type != pa.string() else column)
    bad_rows = [BadRow(blob_name, i + 1, f"field {c} is not valid UTF-8") for i, c in sorted(bad.items())]
    return PartitionRows(pa.Table.from_arrays(out, names=list(columns)), rows, bad_rows)


def _resolve(column: str, names: Sequence[str], blob_name: str) -> str:
    if column in names:
        return column
    folded = [n for n in names if n.casefold() == column.casefold()]
    if len(folded) == 1:
        return folded[0]
    raise SnapshotError(f"Parquet partition {blob_name} has no column {column!r}; it has: {', '.join(names)}")


__all__ = ["parse_parquet", "read_parquet_partition"]
