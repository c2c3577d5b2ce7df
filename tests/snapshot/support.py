"""Helpers to lay out CI-style snapshots in a test container, and to read one back whole."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from typing import Any, cast

import pyarrow as pa
from azure.storage.blob.aio import ContainerClient

from shared.snapshot import BadRow, SegmentSnapshot, SnapshotRows, stream_partition
from shared.snapshot.csv_reader import ROW_COLUMN, PartitionRows

ROOT = "CustomerInsights_0f8fad5b-d9cb-469f-a165-70867728950e/AcExport"
ACCOUNT = "devstoreaccount1"


async def put(container: ContainerClient, name: str, data: bytes | str) -> None:
    await container.upload_blob(name, data.encode() if isinstance(data, str) else data, overwrite=True)


def url(container: ContainerClient, blob: str, service: str = "blob") -> str:
    return f"https://{ACCOUNT}.{service}.core.windows.net/{container.container_name}/{blob}"


def csv_settings(*, header: bool = False, **extra: Any) -> dict[str, Any]:
    return {
        "$type": "CsvFormatSettings",
        "columnHeaders": header,
        "delimiter": ",",
        "quoteStyle": "QuoteStyle.Csv",
        "csvStyle": "CsvStyle.QuoteAlways",
        "encoding": "UTF-8",
        **extra,
    }


def entity(
    name: str, attributes: Sequence[str], locations: Sequence[str], settings: dict[str, Any] | None = None
) -> dict[str, Any]:
    """A model.json LocalEntity; a location ending in .parquet gets ParquetFormatSettings."""
    return {
        "$type": "LocalEntity",
        "name": name,
        "attributes": [{"name": a, "dataType": "string"} for a in attributes],
        "partitions": [
            {
                "name": f"{name}_{i}",
                "location": loc,
                "fileFormatSettings": {"$type": "ParquetFormatSettings"}
                if loc.endswith(".parquet")
                else (settings or csv_settings()),
            }
            for i, loc in enumerate(locations, start=1)
        ],
    }


async def put_model(container: ContainerClient, *entities: dict[str, Any], root: str = ROOT) -> None:
    doc = {"name": "AcExport", "version": "1.0", "entities": list(entities)}
    await put(container, f"{root}/model.json", json.dumps(doc))


async def read_all(container: ContainerClient, snapshot: SegmentSnapshot, columns: Sequence[str]) -> SnapshotRows:
    """Every partition of `snapshot` streamed as the pipeline's split streams one (stream_partition with a sink and
    a restart), a partition at a time in the snapshot's order, put back together: the requested columns as one
    table (without the row numbers), the rows read, and the bad rows by partition and row.

    It also checks what the stream promises about each partition: the count returned is the chunks' rows read,
    and the rows handed over (by their numbers, in order) and the bad rows are each data row exactly once."""
    tables: list[pa.Table] = []
    bad: list[BadRow] = []
    rows_read = 0
    for partition in snapshot.partitions:
        chunks: list[PartitionRows] = []

        async def restart(taken: list[PartitionRows] = chunks) -> None:  # the read starts over: forget its chunks
            taken.clear()

        count = await stream_partition(container, snapshot, partition, columns, chunks.append, restart)
        numbers: list[int] = []
        for chunk in chunks:
            last = chunk.table.num_columns - 1  # ROW_COLUMN comes last, whatever the requested columns are named
            assert chunk.table.schema.names == [*columns, ROW_COLUMN], chunk.table.schema.names
            row_numbers = chunk.table.column(last)
            assert row_numbers.type == pa.int64() and row_numbers.null_count == 0, row_numbers.type
            numbers += cast("list[int]", row_numbers.to_pylist())
            tables.append(chunk.table.remove_column(last))
        partition_bad = sorted((b for c in chunks for b in c.bad_rows), key=lambda b: b.row)
        where = partition.shown
        assert count == sum(c.rows_read for c in chunks), (
            f"{where}: returned {count}, chunks {[c.rows_read for c in chunks]}"
        )
        assert numbers == sorted(numbers), f"{where}: rows handed over out of order"
        covered = sorted(numbers + [b.row for b in partition_bad])
        missing = sorted(set(range(1, count + 1)) - set(covered))[:10]
        assert covered == list(range(1, count + 1)), (
            f"{where}: {count} rows read, {len(numbers)} kept and {len(partition_bad)} bad; rows missing: {missing}"
        )
        assert all(b.partition == partition.blob_name for b in partition_bad), f"{where}: {partition_bad}"
        bad += partition_bad
        rows_read += count
    empty = pa.Table.from_arrays([pa.array([], pa.string()) for _ in columns], names=list(columns))
    return SnapshotRows(pa.concat_tables(tables) if tables else empty, rows_read, bad)


class FakeDownload:
    def __init__(self, data: bytes) -> None:
        self.data = data

    async def readall(self) -> bytes:
        return self.data


class FakeBlob:
    """Serves ranges of `data`; range number `fail_at` raises `error`, or waits forever when error is None."""

    def __init__(self, data: bytes, fail_at: int, error: BaseException | None, served: asyncio.Event) -> None:
        self.data, self.fail_at, self.error, self.served, self.calls = data, fail_at, error, served, 0
        self.abandoned = asyncio.Event()  # the range that never arrives was cancelled

    async def download_blob(self, *, offset: int, length: int, **_: Any) -> FakeDownload:
        self.calls += 1
        if self.calls == self.fail_at:
            self.served.set()
            if self.error is None:
                try:
                    await asyncio.Event().wait()
                except asyncio.CancelledError:
                    self.abandoned.set()
                    raise
            raise self.error  # type: ignore[misc]
        return FakeDownload(self.data[offset : offset + length])


class FakeContainer:
    container_name = "cont"
    account_name = "acct"

    def __init__(self, blob: FakeBlob) -> None:
        self.blob = blob

    def get_blob_client(self, name: str, snapshot: str | None = None) -> FakeBlob:
        return self.blob
