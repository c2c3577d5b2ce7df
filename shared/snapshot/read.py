"""Read the requested columns of a segment snapshot into one pyarrow table.

Partitions are read concurrently (`PARTITION_CONCURRENCY` at a time: parsing is CPU-bound and
the Functions plan has few cores) and concatenated in the snapshot's partition order.  Only
the requested columns are materialised; a CSV partition is streamed from Blob Storage, a Parquet
partition read row group by row group through ranged reads.

The result's columns are exactly `columns`, in that order, all pa.string() (a column may be
requested twice).  null = missing value, "" = empty string.  `rows_read` counts every data row
seen, good or bad; `bad_rows` lists the unreadable ones by partition and 1-based data row.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence

import pyarrow as pa
from azure.core.exceptions import ResourceModifiedError, ResourceNotFoundError
from azure.storage.blob.aio import ContainerClient

from shared.errors import SnapshotError
from shared.snapshot.csv_reader import (
    BLOCK_BYTES,
    LARGE_BLOCK_BYTES,
    ROW_COLUMN,
    PartitionRows,
    RowTooLarge,
    Sink,
    read_csv_partition,
)
from shared.snapshot.model import CsvFormat, Partition, SegmentSnapshot, SnapshotRows
from shared.snapshot.parquet_reader import read_parquet_partition
from shared.snapshot.storage import storage_errors
from shared.snapshot.stream import QueueReader, parse_blob

logger = logging.getLogger(__name__)

PARTITION_CONCURRENCY = 2


async def read_snapshot(
    container: ContainerClient,
    snapshot: SegmentSnapshot,
    columns: Sequence[str],
    *,
    concurrency: int = PARTITION_CONCURRENCY,
) -> SnapshotRows:
    """Read `columns` (attribute names, matched exactly or else case-insensitively) of every partition."""
    if not columns:
        raise SnapshotError("no columns were requested from the snapshot")
    resolved = [resolve_attribute(snapshot, c) for c in columns]
    unique = list(dict.fromkeys(resolved))
    limit = asyncio.Semaphore(max(1, concurrency))

    async def read_one(partition: Partition) -> PartitionRows:
        async with limit:
            return await _read_partition(container, snapshot, partition, unique)

    tasks = [asyncio.create_task(read_one(p)) for p in snapshot.partitions]
    try:
        parts = await asyncio.gather(*tasks)
    except BaseException:
        # One partition failed (or we were cancelled): stop the others' downloads and parser threads too.
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise
    tables = [p.table for p in parts]
    combined = pa.concat_tables(tables) if tables else pa.table({c: pa.array([], pa.string()) for c in unique})
    table = pa.Table.from_arrays([combined.column(r) for r in resolved], names=list(columns))
    bad = [row for part in parts for row in part.bad_rows]
    rows_read = sum(p.rows_read for p in parts)
    logger.info(
        "snapshot read: partitions=%d rows_read=%d bad_rows=%d columns=%d",
        len(parts),
        rows_read,
        len(bad),
        len(columns),
    )
    return SnapshotRows(table=table, rows_read=rows_read, bad_rows=bad)


def resolve_attribute(snapshot: SegmentSnapshot, column: str) -> str:
    """The snapshot's attribute named `column` (exact, else a unique case-insensitive match)."""
    if column in snapshot.attributes:
        return column
    folded = [a for a in snapshot.attributes if a.casefold() == column.casefold()]
    if len(folded) == 1:
        return folded[0]
    if snapshot.attributes_from == "header row":
        raise SnapshotError(
            f"segment {snapshot.entity!r} has no attribute {column!r}: its columns come from the first row of its "
            f"partitions ({len(snapshot.attributes)} columns, not listed here: that row may be a customer's). "
            "Fix the export's mapping, or export the segment with model.json (CDM)"
        )
    raise SnapshotError(
        f"segment {snapshot.entity!r} has no attribute {column!r}; its attributes are: "
        f"{', '.join(snapshot.attributes)}. Fix the export's mapping"
    )


async def stream_partition(
    container: ContainerClient,
    snapshot: SegmentSnapshot,
    partition: Partition,
    columns: Sequence[str],
    sink: Sink,
    restart: Callable[[], Awaitable[None]],
) -> int:
    """Hand `columns` of one partition to `sink` a chunk at a time (in a worker thread), each chunk with the
    rows' numbers (ROW_COLUMN); returns the rows read.  A CSV row larger than the block size makes the read
    start over with larger blocks: `restart` is awaited first, to forget what the sink took."""
    if not columns:
        raise SnapshotError("no columns were requested from the snapshot")
    resolved = [resolve_attribute(snapshot, c) for c in columns]
    unique = list(dict.fromkeys(resolved))

    def named(chunk: PartitionRows) -> None:  # the chunk's columns as requested (one may be requested twice)
        table = chunk.table
        arrays = [table.column(r) for r in resolved] + [table.column(ROW_COLUMN)]
        sink(PartitionRows(pa.Table.from_arrays(arrays, names=[*columns, ROW_COLUMN]), chunk.rows_read, chunk.bad_rows))

    if partition.size == 0:
        return 0
    try:
        with storage_errors(container.container_name, f"reading {partition.shown}"):
            if not isinstance(partition.format, CsvFormat):
                return (await read_parquet_partition(container, partition, unique, named)).rows_read
            fmt = partition.format
            for attempt, block_size in enumerate((BLOCK_BYTES, LARGE_BLOCK_BYTES)):
                if attempt:
                    await restart()

                def parse(stream: QueueReader, block_size: int = block_size) -> PartitionRows:
                    return read_csv_partition(
                        stream,
                        blob_name=partition.blob_name,
                        fmt=fmt,
                        attributes=snapshot.attributes,
                        columns=unique,
                        block_size=block_size,
                        listed=snapshot.attributes_from != "header row",
                        sink=named,
                    )

                try:
                    return (await parse_blob(container, partition, parse)).rows_read
                except RowTooLarge:
                    logger.warning("a row exceeds %d bytes; reading the partition again with larger blocks", block_size)
    except (ResourceNotFoundError, ResourceModifiedError):
        raise SnapshotError(
            f"partition {partition.shown} of segment {snapshot.entity!r} was replaced or deleted while it was "
            "read: Customer Insights wrote a new snapshot; run again"
        ) from None
    raise SnapshotError(
        f"{partition.blob_name} has a row larger than {LARGE_BLOCK_BYTES // 2**20} MB: check the CSV quoting "
        "settings in model.json (an unclosed quote makes one huge row)"
    )


async def _read_partition(
    container: ContainerClient, snapshot: SegmentSnapshot, partition: Partition, columns: list[str]
) -> PartitionRows:
    if partition.size == 0:
        return PartitionRows(pa.table({c: pa.array([], pa.string()) for c in columns}), 0)
    try:
        with storage_errors(container.container_name, f"reading {partition.shown}"):
            if isinstance(partition.format, CsvFormat):
                return await _read_csv(container, snapshot, partition, partition.format, columns)
            return await read_parquet_partition(container, partition, columns)
    except (ResourceNotFoundError, ResourceModifiedError):
        raise SnapshotError(
            f"partition {partition.shown} of segment {snapshot.entity!r} was replaced or deleted while it was "
            "read: Customer Insights wrote a new snapshot; run again"
        ) from None


async def _read_csv(
    container: ContainerClient, snapshot: SegmentSnapshot, partition: Partition, fmt: CsvFormat, columns: list[str]
) -> PartitionRows:
    """Stream one CSV partition; a row larger than the block size gets one retry with larger blocks."""
    for block_size in (BLOCK_BYTES, LARGE_BLOCK_BYTES):

        def parse(stream: QueueReader, block_size: int = block_size) -> PartitionRows:
            return read_csv_partition(
                stream,
                blob_name=partition.blob_name,
                fmt=fmt,
                attributes=snapshot.attributes,
                columns=columns,
                block_size=block_size,
                listed=snapshot.attributes_from != "header row",
            )

        try:
            return await parse_blob(container, partition, parse)
        except RowTooLarge:
            logger.warning("a row exceeds %d bytes; reading the partition again with larger blocks", block_size)
    raise SnapshotError(
        f"{partition.blob_name} has a row larger than {LARGE_BLOCK_BYTES // 2**20} MB: check the CSV quoting "
        "settings in model.json (an unclosed quote makes one huge row)"
    )


__all__ = ["PARTITION_CONCURRENCY", "read_snapshot", "resolve_attribute", "stream_partition"]
