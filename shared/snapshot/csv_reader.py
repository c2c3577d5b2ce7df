"""Read the requested columns of one CSV partition with pyarrow's streaming CSV reader.

- Only the requested columns are converted (include_columns); they are read as binary and
  validated as UTF-8 afterwards, so one undecodable row is reported instead of failing the file.
- null = missing value (an empty unquoted field), "" = empty string (a quoted empty field `""`).
- A UTF-8 byte-order mark is skipped.  Quoted fields may hold delimiters, quotes ("") and line breaks.
- Ragged rows (too many or too few fields) go to `bad_rows` via pyarrow's invalid_row_handler.
- Rows whose requested fields are not valid UTF-8 go to `bad_rows` and are dropped from the table.
- Bad rows are numbered 1-based among the partition's data rows (records, not physical lines;
  the header row is not counted).  Reasons never quote row content.
- Parsing is single-threaded per partition (pyarrow only numbers bad rows then); the caller
  reads partitions concurrently instead.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import pyarrow as pa
import pyarrow.csv as pcsv

from shared.errors import SnapshotError
from shared.snapshot.header import ascii_compatible, match_columns, no_header_message, split_header
from shared.snapshot.model import BadRow, CsvFormat

# pyarrow's parse unit, and the largest row it can read.  Its streaming reader reads up to 32 blocks ahead in the
# background, so the block size sets the read's memory: 4 MB held a 2.5M-row partition's split at +280 MB,
# 2 MB at +180 MB (1 MB: +120 MB, for 40% more CPU in the per-block work).
BLOCK_BYTES = 2 * 1024 * 1024
LARGE_BLOCK_BYTES = 64 * 1024 * 1024  # the retry for a partition with a row larger than BLOCK_BYTES
SMALL_SLICE = 64
MISSING_COLUMN = re.compile(r"Column '(?P<name>.*)' in include_columns does not exist")


class RowTooLarge(Exception):
    """A row is larger than the block size: read the partition again with a larger one."""


ROW_COLUMN = "_row"  # a streamed chunk's 1-based data row of each of its rows, in the partition


@dataclass
class PartitionRows:
    table: pa.Table  # the requested columns, named as requested, pa.string() (+ ROW_COLUMN when streamed)
    rows_read: int
    bad_rows: list[BadRow] = field(default_factory=list)


# Streaming: a partition's rows handed over a chunk at a time (a CSV block, a Parquet row group), in order.
Sink = Callable[[PartitionRows], None]


def read_csv_partition(
    stream: Any,
    *,
    blob_name: str,
    fmt: CsvFormat,
    attributes: Sequence[str],
    columns: Sequence[str],
    block_size: int = BLOCK_BYTES,
    listed: bool = True,
    sink: Sink | None = None,
) -> PartitionRows:
    """Parse `stream` (a binary file); `columns` are attribute names, `attributes` the column order.

    `listed` is False when the attribute names came from a file's first row: messages do not repeat them.
    With `sink`, each block's rows go to it as they are parsed (with ROW_COLUMN), and the result holds
    only the count of rows read.  Raises RowTooLarge when a row does not fit in `block_size` bytes.
    """
    shown = attributes if listed else None
    names: list[str] | None = list(attributes)  # the file's columns, when we know them
    wanted = list(columns)  # the requested columns as the file spells them
    first_data_record = 1
    if fmt.header and ascii_compatible(fmt.encoding):
        names, stream = split_header(stream, fmt, blob_name)
        if not names:
            return PartitionRows(_empty(columns), 0)
        wanted = match_columns(columns, names, shown, blob_name)
    elif fmt.header:
        names, first_data_record = None, 2  # pyarrow reads the header; names must match exactly
    ragged: list[int] = []

    def on_invalid(row: pcsv.InvalidRow) -> Literal["skip"]:
        ragged.append((row.number or 0) - first_data_record + 1)
        return "skip"

    read_options = pcsv.ReadOptions(use_threads=False, block_size=block_size, column_names=names, encoding=fmt.encoding)
    parse_options = pcsv.ParseOptions(
        delimiter=fmt.delimiter,
        quote_char=fmt.quote_char or False,
        double_quote=True,
        newlines_in_values=bool(fmt.quote_char),
        ignore_empty_lines=len(names or attributes) > 1,  # with one column, an empty line is a missing value
        invalid_row_handler=on_invalid,
    )
    convert_options = pcsv.ConvertOptions(
        include_columns=wanted,
        column_types={c: pa.binary() for c in wanted},
        strings_can_be_null=True,
        null_values=[""],
        quoted_strings_can_be_null=False,
    )
    try:
        reader = pcsv.open_csv(
            stream, read_options=read_options, parse_options=parse_options, convert_options=convert_options
        )
        if sink is not None:
            return _stream(reader, sink, ragged, wanted, columns, blob_name, len(names or attributes))
        table = reader.read_all()
    except (pa.ArrowInvalid, pa.ArrowKeyError) as exc:
        if str(exc).startswith("Empty CSV file"):
            return PartitionRows(_empty(columns), 0)
        if "straddling" in str(exc):
            raise RowTooLarge(blob_name) from None
        raise _translate(exc, blob_name, fmt, shown) from None
    except UnicodeError:  # from the transcoder of a non-UTF-8 encoding; its text quotes the bytes
        raise SnapshotError(f"{blob_name} is not valid {fmt.encoding}: fix the encoding in model.json") from None
    ragged.sort()
    strings, undecodable = _decode(table, wanted)
    renamed = strings.rename_columns(list(columns))
    spelled = dict(zip(wanted, columns, strict=True))
    bad = [BadRow(blob_name, n, _ragged_reason(len(names or attributes))) for n in ragged]
    for index, column in undecodable:
        bad.append(BadRow(blob_name, _data_row(index, ragged), f"field {spelled[column]} is not valid UTF-8"))
    bad.sort(key=lambda b: b.row)
    return PartitionRows(renamed, table.num_rows + len(ragged), bad)


def _stream(
    reader: pcsv.CSVStreamingReader,
    sink: Sink,
    ragged: list[int],
    wanted: list[str],
    columns: Sequence[str],
    blob_name: str,
    width: int,
) -> PartitionRows:
    """Hand each block's readable rows to `sink`, numbered; ragged rows and undecodable ones as bad rows."""
    spelled = dict(zip(wanted, columns, strict=True))
    good = 0  # readable rows handed over so far
    reported = 0  # ragged rows reported so far
    for batch in reader:
        table = pa.Table.from_batches([batch])
        strings, undecodable = _decode(table, wanted)
        ragged.sort()
        if ragged:  # rare: each readable row's number skips the ragged ones before it
            numbers = pa.array([_data_row(good + i, ragged) for i in range(table.num_rows)], pa.int64())
        else:
            numbers = pa.array(range(good + 1, good + 1 + table.num_rows), pa.int64())
        bad = [BadRow(blob_name, n, _ragged_reason(width)) for n in ragged[reported:]]
        reported = len(ragged)
        bad += [
            BadRow(blob_name, numbers[i].as_py(), f"field {spelled[column]} is not valid UTF-8")
            for i, column in undecodable
        ]
        if undecodable:
            dropped = {i for i, _ in undecodable}
            numbers = numbers.filter(pa.array([i not in dropped for i in range(table.num_rows)]))
        rows = numbers
        chunk = strings.rename_columns(list(columns)).append_column(ROW_COLUMN, rows)
        sink(PartitionRows(chunk, table.num_rows + len(bad) - len(undecodable), sorted(bad, key=lambda b: b.row)))
        good += table.num_rows
    ragged.sort()
    tail = [BadRow(blob_name, n, _ragged_reason(width)) for n in ragged[reported:]]
    if tail:  # ragged rows after the last readable one
        sink(PartitionRows(_empty(columns).append_column(ROW_COLUMN, pa.array([], pa.int64())), len(tail), tail))
    return PartitionRows(_empty(columns), good + len(ragged))


def _decode(table: pa.Table, columns: Sequence[str]) -> tuple[pa.Table, list[tuple[int, str]]]:
    """Cast binary columns to string; rows with invalid UTF-8 are dropped and returned as (index, column)."""
    undecodable: dict[int, str] = {}
    for name in columns:
        offset = 0
        for chunk in table.column(name).chunks:
            for position in invalid_utf8(chunk):
                undecodable.setdefault(offset + position, name)
            offset += len(chunk)
    if undecodable:
        starts = [0, *(i + 1 for i in sorted(undecodable))]
        ends = [*sorted(undecodable), table.num_rows]
        pieces = [table.slice(a, b - a) for a, b in zip(starts, ends, strict=True) if b > a]
        table = pa.concat_tables(pieces) if pieces else table.slice(0, 0)
    arrays = [pa.chunked_array([c.cast(pa.string()) for c in table.column(n).chunks], pa.string()) for n in columns]
    return pa.Table.from_arrays(arrays, names=list(columns)), sorted(undecodable.items())


def invalid_utf8(chunk: pa.Array) -> list[int]:  # type: ignore[type-arg]
    """Positions of values that are not valid UTF-8 (bisects, so a clean chunk costs one validation)."""
    try:
        chunk.cast(pa.string())
        return []
    except pa.ArrowInvalid:
        pass
    if len(chunk) <= SMALL_SLICE:
        found = []
        for i, value in enumerate(chunk.to_pylist()):
            try:
                if value is not None:
                    value.decode("utf-8")
            except UnicodeDecodeError:
                found.append(i)
        return found
    half = len(chunk) // 2
    return invalid_utf8(chunk.slice(0, half)) + [half + i for i in invalid_utf8(chunk.slice(half))]


def _data_row(good_index: int, ragged: Sequence[int]) -> int:
    """The 1-based data row of the `good_index`-th readable row, given the ragged rows before it."""
    row = good_index + 1
    while True:
        shifted = good_index + 1 + bisect.bisect_right(ragged, row)
        if shifted == row:
            return row
        row = shifted


def _ragged_reason(expected: int) -> str:
    return f"wrong number of fields (expected {expected})"


def _translate(
    exc: pa.ArrowException, blob_name: str, fmt: CsvFormat, attributes: Sequence[str] | None
) -> SnapshotError:
    """A SnapshotError for a pyarrow failure; pyarrow's own text may quote row content, so it is not used."""
    if MISSING_COLUMN.search(str(exc)):  # pyarrow read the header row (encodings other than UTF-8 and kin)
        return SnapshotError(no_header_message(blob_name, ", ".join(attributes or ["not listed"])))
    return SnapshotError(
        f"{blob_name} cannot be read as CSV with delimiter {fmt.delimiter!r}, "
        f"quoting {'on' if fmt.quote_char else 'off'} and encoding {fmt.encoding}: check fileFormatSettings"
    )


def _empty(columns: Sequence[str]) -> pa.Table:
    return pa.table({c: pa.array([], pa.string()) for c in columns})


__all__ = [
    "BLOCK_BYTES",
    "LARGE_BLOCK_BYTES",
    "ROW_COLUMN",
    "PartitionRows",
    "RowTooLarge",
    "Sink",
    "invalid_utf8",
    "read_csv_partition",
]
