"""Parquet partitions on Azurite: read row group by row group through ranged reads, never whole; the ETag holds
across the reads; a column type without a text form is a clear SnapshotError."""

from __future__ import annotations

import asyncio
import io
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from azure.storage.blob import BlobClient
from azure.storage.blob.aio import ContainerClient

from shared.errors import SnapshotError
from shared.snapshot import ParquetFormat, Partition, SegmentSnapshot, find_snapshot
from shared.snapshot.ranged import BlobRangeFile
from tests.snapshot.support import ROOT, FakeBlob, FakeContainer, entity, put, put_model, read_all, url

FOLDER = f"{ROOT}/Big/2026/03/01/0930"
NAME = f"{FOLDER}/Big_1.parquet"
ATTRS = ("Id", "Email", "Notes", "Filler")
ROWS_PER_GROUP = 4_000
GROUPS = 8


def parquet(table: pa.Table, **options: Any) -> bytes:
    sink = io.BytesIO()
    pq.write_table(table, sink, **options)
    return sink.getvalue()


def big_table(tag: str) -> pa.Table:
    """Incompressible text columns, so that each column chunk is tens of kilobytes."""
    n = ROWS_PER_GROUP * GROUPS
    return pa.table(
        {
            "Id": [f"{i:08d}" for i in range(n)],
            "Email": [f"{tag}{i:07d}.{(i * 7919) % 100_003:05d}@example.com" for i in range(n)],
            "Notes": [f"{(i * 2654435761) % 2**32:010d}{tag}{(i * 40503) % 65_521:05d}" for i in range(n)],
            "Filler": [f"{(i * 11400714819323198485) % 2**64:020d}" for i in range(n)],
        }
    )


@pytest.fixture
def fetches(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[tuple[int, int]]]:
    """(offset, length) of every ranged read a BlobRangeFile makes."""
    seen: list[tuple[int, int]] = []
    original = BlobRangeFile._fetch

    def counted(self: BlobRangeFile, offset: int, length: int) -> bytes:
        seen.append((offset, length))
        return original(self, offset, length)

    monkeypatch.setattr(BlobRangeFile, "_fetch", counted)
    yield seen


async def test_a_multi_row_group_partition_is_read_by_ranges_and_never_downloaded_whole(
    container: ContainerClient, fetches: list[tuple[int, int]]
) -> None:
    table = big_table("a")
    data = parquet(table, row_group_size=ROWS_PER_GROUP, compression="snappy")
    await put(container, NAME, data)
    await put_model(container, entity("Big", ATTRS, [url(container, NAME)]))
    metadata = pq.ParquetFile(io.BytesIO(data)).metadata
    assert metadata.num_row_groups == GROUPS
    wanted = [ATTRS.index("Email"), ATTRS.index("Id")]
    chunks = [
        sum(metadata.row_group(g).column(c).total_compressed_size for c in wanted) for g in range(GROUPS)
    ]  # the bytes of the requested columns in each row group

    snapshot = await find_snapshot(container, ROOT, "Big")
    rows = await read_all(container, snapshot, ["Email", "Id"])

    assert rows.table.to_pylist() == table.select(["Email", "Id"]).to_pylist()
    assert rows.rows_read == ROWS_PER_GROUP * GROUPS and rows.bad_rows == []
    fetched = sum(length for _, length in fetches)
    footer = fetches[0][1]  # pyarrow's first read: the file's tail, with the footer
    assert len(fetches) >= 1 + GROUPS  # the footer, then at least one read per row group
    assert max(length for _, length in fetches[1:]) <= max(chunks)  # never more than one row group's chunks
    assert fetched <= footer + sum(chunks) < len(data) / 2  # only the requested columns: not the whole file


async def test_a_partition_replaced_by_one_of_the_same_size_mid_read_is_refused(
    container: ContainerClient, storage_connection: str, fetches: list[tuple[int, int]], monkeypatch: pytest.MonkeyPatch
) -> None:
    first = parquet(big_table("a"), row_group_size=ROWS_PER_GROUP, compression="none")
    second = parquet(big_table("b"), row_group_size=ROWS_PER_GROUP, compression="none")
    assert len(first) == len(second) and first != second
    await put(container, NAME, first)
    await put_model(container, entity("Big", ATTRS, [url(container, NAME)]))
    snapshot = await find_snapshot(container, ROOT, "Big")
    rewrite = BlobClient.from_connection_string(storage_connection, container.container_name, NAME)
    original = BlobRangeFile._fetch

    def rewritten_after_the_footer(self: BlobRangeFile, offset: int, length: int) -> bytes:
        if len(fetches) == 2:  # the worker thread: CI writes a new version after we read the footer
            rewrite.upload_blob(second, overwrite=True)
        return original(self, offset, length)

    monkeypatch.setattr(BlobRangeFile, "_fetch", rewritten_after_the_footer)
    try:
        with pytest.raises(SnapshotError, match="was replaced or deleted while it was read") as caught:
            await read_all(container, snapshot, ["Email"])
    finally:
        rewrite.close()
    assert NAME in caught.value.message


@pytest.mark.parametrize(
    ("column", "kind"),
    [
        (pa.array([{"city": "Oslo", "zip": 150}], pa.struct([("city", pa.string()), ("zip", pa.int32())])), "struct<"),
        (pa.array([["gold", "vip"]], pa.list_(pa.string())), "list<"),
        (pa.array([[("a", 1)]], pa.map_(pa.string(), pa.int64())), "map<"),
        (pa.array([[1, 2]], pa.large_list(pa.int8())), "large_list<"),
    ],
    ids=["struct", "list", "map", "large_list"],
)
async def test_a_column_without_a_text_form_names_the_partition_the_column_and_its_type(
    container: ContainerClient, column: pa.Array[Any], kind: str
) -> None:
    table = pa.table({"Email": ["ann@example.com"], "Profile": column})
    await put(container, NAME, parquet(table))
    await put_model(container, entity("Big", ("Email", "Profile"), [url(container, NAME)]))
    snapshot = await find_snapshot(container, ROOT, "Big")

    assert (await read_all(container, snapshot, ["Email"])).table.to_pylist() == [{"Email": "ann@example.com"}]
    with pytest.raises(SnapshotError) as caught:
        await read_all(container, snapshot, ["Email", "Profile"])

    message = caught.value.message
    assert NAME in message and "column 'Profile' has type " + kind in message
    assert "flatten" in message and "ann@example.com" not in message


async def test_cancelling_a_parquet_read_stops_the_download_in_flight_and_frees_the_worker_thread() -> None:
    data = parquet(big_table("a"), row_group_size=ROWS_PER_GROUP)
    served = asyncio.Event()
    blob = FakeBlob(data, fail_at=3, error=None, served=served)  # the second row group never arrives
    partition = Partition(NAME, ParquetFormat(), size=len(data), etag='"1"')
    snapshot = SegmentSnapshot("Big", ATTRS, (partition,), "id", datetime.now(UTC), "model.json")
    task = asyncio.create_task(read_all(FakeContainer(blob), snapshot, ["Email"]))  # type: ignore[arg-type]
    await served.wait()

    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await asyncio.wait_for(blob.abandoned.wait(), timeout=10)  # the read in flight was cancelled
    # and the worker thread returned: the executor shuts down instead of hanging
    await asyncio.wait_for(asyncio.get_running_loop().shutdown_default_executor(), timeout=10)
    assert blob.calls == 3
