"""A CSV partition's header row: read it ourselves so that columns match by name in any case.

pyarrow matches `include_columns` against the header exactly; CI's attribute names and a
file's header may differ in case.  For encodings where a line break is the byte 0x0A (UTF-8,
Latin-1, ...) the first line is split off here, parsed with the csv module, and the rest of the
stream is handed to pyarrow as a header-less file with those names.  Header names never
contain line breaks.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Sequence
from typing import Any

from shared.errors import SnapshotError
from shared.snapshot.model import CsvFormat

HEADER_LIMIT = 1024 * 1024
READ_BYTES = 64 * 1024
BOM = "\ufeff"


def ascii_compatible(encoding: str) -> bool:
    return "\n".encode(codecs.lookup(encoding).name) == b"\n"


def parse_header_line(line: bytes, fmt: CsvFormat) -> list[str]:
    """The fields of one header line (BOM and CR removed); [] for an empty line."""
    text = line.decode(fmt.encoding, errors="replace").removeprefix(BOM).rstrip("\r")
    if not text.strip():
        return []
    if fmt.quote_char:
        return next(csv.reader([text], delimiter=fmt.delimiter, quotechar=fmt.quote_char), [])
    return next(csv.reader([text], delimiter=fmt.delimiter, quoting=csv.QUOTE_NONE), [])


def split_header(stream: Any, fmt: CsvFormat, blob_name: str) -> tuple[list[str], io.RawIOBase]:
    """Read the header line from `stream`; return its names and a stream of the rest."""
    head = b""
    while b"\n" not in head:
        piece = stream.read(READ_BYTES)
        if not piece:
            break
        head += piece
        if len(head) > HEADER_LIMIT and b"\n" not in head:
            raise SnapshotError(f"the header row of {blob_name} is longer than {HEADER_LIMIT} bytes")
    line, _, rest = head.partition(b"\n")
    return parse_header_line(line, fmt), Chain(rest, stream)


def match_columns(
    columns: Sequence[str], names: Sequence[str], attributes: Sequence[str] | None, blob_name: str
) -> list[str]:
    """The header name for each requested attribute: exact, else a unique case-insensitive match.

    A message never repeats the file's first row unless every field of it is one of the segment's
    `attributes` (then it is a header row, not a customer's data).  `attributes` is None when the
    names themselves came from a first row: then nothing is listed.
    """
    matched = []
    for column in columns:
        folded = [n for n in names if n.casefold() == column.casefold()]
        if column in names:
            matched.append(column)
        elif len(folded) == 1:
            matched.append(folded[0])
        else:
            raise SnapshotError(_mismatch(column, names, attributes, blob_name))
    return matched


def _mismatch(column: str, names: Sequence[str], attributes: Sequence[str] | None, blob_name: str) -> str:
    if attributes is None:
        return (
            f"the first row of {blob_name} has no column {column!r}: the partition does not start with the same "
            "header row as the segment's first partition (its rows are not listed here: they may be a customer's)"
        )
    known = {a.casefold() for a in attributes}
    listed = ", ".join(attributes)
    if all(n.strip().casefold() in known for n in names):
        return (
            f"the header row of {blob_name} has no column {column!r}; it names: {', '.join(names)}. The partition "
            f"does not match the segment's attributes ({listed}): re-run the Customer Insights export"
        )
    return no_header_message(blob_name, listed)


def no_header_message(blob_name: str, attributes: str) -> str:
    """A partition read as having a header row whose first row is something else (most likely a customer's row)."""
    return (
        f"model.json says {blob_name} has a header row, but its first row (row 1 of the file) does not name the "
        f"attributes ({attributes}); if the file has no header row, set columnHeaders to false in the "
        "partition's fileFormatSettings"
    )


class Chain(io.RawIOBase):
    """`prefix` followed by the rest of `stream`."""

    def __init__(self, prefix: bytes, stream: Any) -> None:
        super().__init__()
        self._prefix = memoryview(prefix)
        self._stream = stream

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        if self._prefix:
            n = len(self._prefix) if size < 0 else min(size, len(self._prefix))
            piece, self._prefix = bytes(self._prefix[:n]), self._prefix[n:]
            if size < 0:
                return piece + bytes(self._stream.read())
            return piece
        return bytes(self._stream.read(size))

    def readinto(self, target: bytearray | memoryview) -> int:  # type: ignore[override]  # RawIOBase takes a buffer
        piece = self.read(len(target))
        memoryview(target).cast("B")[: len(piece)] = piece
        return len(piece)


__all__ = ["Chain", "ascii_compatible", "match_columns", "no_header_message", "parse_header_line", "split_header"]
