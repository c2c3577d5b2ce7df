"""Customer Insights segment snapshots in Blob Storage: find the newest one, read its columns."""

from shared.snapshot.locate import find_snapshot, load_model
from shared.snapshot.model import (
    BadRow,
    CsvFormat,
    ParquetFormat,
    Partition,
    SegmentSnapshot,
    SnapshotRows,
)
from shared.snapshot.read import resolve_attribute, stream_partition

__all__ = [
    "BadRow",
    "CsvFormat",
    "ParquetFormat",
    "Partition",
    "SegmentSnapshot",
    "SnapshotRows",
    "find_snapshot",
    "load_model",
    "resolve_attribute",
    "stream_partition",
]
