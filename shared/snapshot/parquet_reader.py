"""Read the requested columns of one Parquet partition, one row group at a time, through ranged reads.

The blob is never downloaded whole: pyarrow reads the footer, then, for each row group in turn,
only the column chunks of the requested columns (BlobRangeFile: ranged downloads with If-Match on
the snapshot's ETag).  Memory holds one row group's requested chunks plus the strings made so far.

Columns are matched by name (exactly, else case-insensitively) and cast to strings: nulls stay
null, dates become YYYY-MM-DD and timestamps pyarrow's ISO-like text.  A column whose type has no
text form (struct, list, map, ...) is a SnapshotError naming the partition, the column and its
type.  Values that are not valid UTF-8 are bad rows, as for CSV.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, Final

import pyarrow as pa
import pyarrow.parquet as pq
from azure.storage.blob.aio import ContainerClient

from shared.errors import SnapshotError
from shared.snapshot.csv_reader import ROW_COLUMN, PartitionRows, Sink, invalid_utf8
from shared.snapshot.model import BadRow, Partition
from shared.snapshot.ranged import BlobRangeFile

TYPE_SHOWN: Final = 120  # characters of a column type repeated in a message


async def read_parquet_partition(
    container: ContainerClient, partition: Partition, columns: Sequence[str], sink: Sink | None = None
) -> PartitionRows:
    """Read `columns` of the partition in a worker thread, row group by row group (to `sink`, when given)."""
    file = BlobRangeFile(asyncio.get_running_loop(), container, partition)
    try:
        return await asyncio.to_thread(parse_parquet, file, partition.blob_name, columns, sink)
    finally:
        file.close()  # when cancelled: stops the download in flight, and the worker thread with it


async def parquet_columns(container: ContainerClient, partition: Partition) -> list[str]:
    """The column names of a Parquet partition, read from its footer only."""
    file = BlobRangeFile(asyncio.get_running_loop(), container, partition)

    def names() -> list[str]:
        with _unreadable(file, partition.blob_name):
            return list(pq.ParquetFile(pa.PythonFile(file, mode="r")).schema_arrow.names)

    try:
        return await asyncio.to_thread(names)
    finally:
        file.close()


def parse_parquet(
    file: BlobRangeFile, blob_name: str, columns: Sequence[str], sink: Sink | None = None
) -> PartitionRows:
    with _unreadable(file, blob_name):
        parquet = pq.ParquetFile(pa.PythonFile(file, mode="r"))
        schema = parquet.schema_arrow
    resolved = [_resolve(c, schema.names, blob_name) for c in columns]
    for name in dict.fromkeys(resolved):
        _check_type(schema.field(name), blob_name)
    unique = list(dict.fromkeys(resolved))
    pieces: list[pa.Table] = []
    bad: list[BadRow] = []
    rows = 0
    for group in range(parquet.num_row_groups):
        with _unreadable(file, blob_name):
            table = parquet.read_row_group(group, columns=unique)
        piece, bad_at = _strings(table, columns, resolved)
        group_bad = [BadRow(blob_name, rows + i + 1, f"field {column} is not valid UTF-8") for i, column in bad_at]
        if sink is not None:
            numbers = pa.array(range(rows + 1, rows + 1 + table.num_rows), pa.int64())
            if bad_at:
                skipped = {i for i, _ in bad_at}
                numbers = numbers.filter(pa.array([i not in skipped for i in range(table.num_rows)]))
            sink(PartitionRows(piece.append_column(ROW_COLUMN, numbers), table.num_rows, group_bad))
        else:
            bad.extend(group_bad)
            pieces.append(piece)
        rows += table.num_rows
    if not pieces:
        pieces.append(pa.Table.from_arrays([pa.array([], pa.string()) for _ in columns], names=list(columns)))
    return PartitionRows(pa.concat_tables(pieces), rows, bad)


def _strings(
    table: pa.Table, columns: Sequence[str], resolved: Sequence[str]
) -> tuple[pa.Table, list[tuple[int, str]]]:
    """One row group's columns as strings, named as requested, without its rows of invalid UTF-8 (returned)."""
    bad: dict[int, str] = {}
    for wanted, name in zip(columns, resolved, strict=True):
        column = table.column(name)
        if pa.types.is_binary(column.type) or pa.types.is_large_binary(column.type):
            offset = 0
            for chunk in column.chunks:
                for position in invalid_utf8(chunk):
                    bad.setdefault(offset + position, wanted)
                offset += len(chunk)
    keep = pa.array([i for i in range(table.num_rows) if i not in bad], pa.int64()) if bad else None
    out = []
    for name in resolved:
        column = table.column(name) if keep is None else table.column(name).take(keep)
        out.append(column.cast(pa.string()) if column.type != pa.string() else column)
    return pa.Table.from_arrays(out, names=list(columns)), sorted(bad.items())


def _check_type(field: pa.Field[Any], blob_name: str) -> None:
    """A column whose type has no text form cannot be sent: say which, and what to do."""
    try:
        pa.array([], field.type).cast(pa.string())
    except (pa.ArrowNotImplementedError, pa.ArrowInvalid, pa.ArrowTypeError):
        raise SnapshotError(
            f"Parquet partition {blob_name}: column {field.name!r} has type {str(field.type)[:TYPE_SHOWN]}, "
            "which has no text form to send to ActiveCampaign: map an attribute of a plain type (text, number, "
            "date or true/false), or flatten this one in Customer Insights"
        ) from None


@contextmanager
def _unreadable(file: BlobRangeFile, blob_name: str) -> Iterator[None]:
    """pyarrow's failure to parse becomes a SnapshotError; a storage failure under it goes up as it was."""
    try:
        yield
    except (pa.ArrowException, OSError) as exc:
        if file.failure is exc:
            raise
        if file.failure is not None:
            raise file.failure from None
        raise SnapshotError(
            f"{blob_name} is not a readable Parquet file: re-run the Customer Insights export"
        ) from None


def _resolve(column: str, names: Sequence[str], blob_name: str) -> str:
    if column in names:
        return column
    folded = [n for n in names if n.casefold() == column.casefold()]
    if len(folded) == 1:
        return folded[0]
    raise SnapshotError(f"Parquet partition {blob_name} has no column {column!r}; it has: {', '.join(names)}")


__all__ = ["parquet_columns", "parse_parquet", "read_parquet_partition"]
