"""Stream the requested columns of one partition of a segment snapshot, a chunk at a time.

The pipeline's split (shared/pipeline/split.py) streams each partition in its own task: a CSV partition
is streamed from Blob Storage in blocks, a Parquet partition read row group by row group through ranged
reads.  Only the requested columns are materialised (attribute names, matched exactly or else
case-insensitively; a column may be requested twice).

Each chunk's columns are exactly the requested ones, in that order, all pa.string(), then ROW_COLUMN
(the 1-based data row of each row).  null = missing value, "" = empty string.  The rows read count every
data row seen, good or bad; each chunk's `bad_rows` lists its unreadable ones by partition and data row.
"""

from __future__ import annotations

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
from shared.snapshot.model import CsvFormat, Partition, SegmentSnapshot
from shared.snapshot.parquet_reader import read_parquet_partition
from shared.snapshot.storage import storage_errors
from shared.snapshot.stream import QueueReader, parse_blob

logger = logging.getLogger(__name__)


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


__all__ = ["resolve_attribute", "stream_partition"]
