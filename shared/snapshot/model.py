"""What a segment snapshot is: its partitions, their formats, and the rows read from them.

A segment is one entity of Customer Insights' CDM export.  Its newest snapshot is a set of
partitions (CSV or Parquet blobs) plus the attribute names in column order.  Reading gives a
pyarrow table of the requested columns, all strings, with null for a missing value and ""
for an empty string, and the rows that could not be read (without their content).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Final, Literal

import pyarrow as pa

SOURCE_MODEL: Final = "model.json"
SOURCE_FOLDER: Final = "folder"
SnapshotSource = Literal["model.json", "folder"]
AttributeSource = Literal["model.json", "header row", "Parquet schema"]


@dataclass(frozen=True)
class CsvFormat:
    """How one CSV partition is written.  `quote_char` is "" when quoting is off (QuoteStyle.None)."""

    header: bool = False
    delimiter: str = ","
    quote_char: str = '"'
    encoding: str = "utf-8"


@dataclass(frozen=True)
class ParquetFormat:
    """A Parquet partition: the column names and types come from the file itself."""


PartitionFormat = CsvFormat | ParquetFormat


@dataclass(frozen=True)
class Partition:
    blob_name: str
    format: PartitionFormat
    size: int = 0
    etag: str = ""
    snapshot: str | None = None  # a blob snapshot's time (the location's ?snapshot=): read it, not the blob

    @property
    def shown(self) -> str:
        """The partition as messages name it."""
        return f"{self.blob_name} (snapshot {self.snapshot})" if self.snapshot else self.blob_name


@dataclass(frozen=True)
class SegmentSnapshot:
    entity: str
    attributes: tuple[str, ...]  # column order
    partitions: tuple[Partition, ...]
    snapshot_id: str  # sha256 hex; changes whenever CI writes a new snapshot of this entity
    written_at: datetime  # newest last_modified of the partitions (UTC)
    source: SnapshotSource
    # where the attribute names come from: names taken from a file's first row are never repeated in messages
    # (without model.json, a first row that looks like names may still be a customer's row)
    attributes_from: AttributeSource = "model.json"


@dataclass(frozen=True)
class BadRow:
    """A row that could not be read.  `row` is the 1-based data row (header excluded) in `partition`."""

    partition: str
    row: int
    reason: str  # never contains row content


@dataclass
class SnapshotRows:
    table: pa.Table  # exactly the requested columns, in that order, all pa.string()
    rows_read: int  # data rows seen: table.num_rows + len(bad_rows)
    bad_rows: list[BadRow] = field(default_factory=list)


__all__ = [
    "SOURCE_FOLDER",
    "SOURCE_MODEL",
    "AttributeSource",
    "BadRow",
    "CsvFormat",
    "ParquetFormat",
    "Partition",
    "PartitionFormat",
    "SegmentSnapshot",
    "SnapshotRows",
    "SnapshotSource",
]
