"""A partition read a chunk at a time gives the same rows, row numbers and bad rows as read whole."""

from __future__ import annotations

import io

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from shared.snapshot import CsvFormat
from shared.snapshot.csv_reader import ROW_COLUMN, PartitionRows, read_csv_partition

ATTRIBUTES = ["Email", "FirstName", "Plan"]


def csv_bytes(rows: int) -> bytes:
    lines = []
    for i in range(1, rows + 1):
        if i % 997 == 0:
            lines.append(f"ragged{i}@example.com,only-two")  # wrong number of fields
        elif i % 1009 == 0:
            lines.append(f"bad{i}@example.com,\xff\xfe,Gold")  # not UTF-8 (written below as latin-1 bytes)
        else:
            lines.append(f'user{i}@example.com,"Name, {i}",Gold')
    return "\n".join(lines).encode("latin-1") + b"\n"


@pytest.mark.parametrize("block_size", [1 << 12, 1 << 16, 1 << 22])
def test_streamed_chunks_add_up_to_the_whole_read(block_size: int) -> None:
    data = csv_bytes(5_000)
    fmt = CsvFormat(header=False)
    whole = read_csv_partition(
        io.BytesIO(data),
        blob_name="p.csv",
        fmt=fmt,
        attributes=ATTRIBUTES,
        columns=["Email", "FirstName"],
        block_size=block_size,
    )
    chunks: list[PartitionRows] = []
    total = read_csv_partition(
        io.BytesIO(data),
        blob_name="p.csv",
        fmt=fmt,
        attributes=ATTRIBUTES,
        columns=["Email", "FirstName"],
        block_size=block_size,
        sink=chunks.append,
    )

    streamed = pa.concat_tables([c.table for c in chunks])
    assert len(chunks) >= 1 + (block_size < len(data))
    assert total.rows_read == whole.rows_read == sum(c.rows_read for c in chunks) == 5_000
    assert streamed.column("Email").to_pylist() == whole.table.column("Email").to_pylist()
    assert sorted((b for c in chunks for b in c.bad_rows), key=lambda b: b.row) == whole.bad_rows
    # each row keeps its 1-based row in the partition: the email says which one it is
    numbers = pc.cast(pc.struct_field(pc.extract_regex(streamed["Email"], r"^\D*(?P<n>\d+)@"), "n"), pa.int64())
    assert numbers.to_pylist() == streamed.column(ROW_COLUMN).to_pylist()
