"""Turn a sample into CI-format files: partitions (CSV or Parquet) and the model.json document.

CSV is written the way CI does (CsvStyle.QuoteAlways): every present value quoted, a missing
value as an empty unquoted field, an empty string as `""`; optionally without a header row
and with a UTF-8 byte-order mark.  Each segment's rows are split evenly over its partitions;
the last `parquet_partitions` of them are Parquet.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Final

import pyarrow as pa
import pyarrow.csv as pcsv
import pyarrow.parquet as pq

from local.sample_data.generate import COLUMNS, Sample
from local.sample_data.oracle import partition_bounds

BOM: Final = b"\xef\xbb\xbf"
DATA_TYPES: Final = {"BirthDate": "dateTime"}
APPLICATION: Final = "local.sample_data"


@dataclass(frozen=True)
class PartitionFile:
    entity: str
    index: int  # 1-based
    parquet: bool

    @property
    def name(self) -> str:
        return f"{self.entity}_{self.index}.{'parquet' if self.parquet else 'csv'}"

    @property
    def relative(self) -> str:
        return f"{self.entity}/{self.name}"


def partitions(sample: Sample) -> Iterator[tuple[PartitionFile, pa.Table]]:
    """Each partition of each segment, with its rows (only the CI columns)."""
    options = sample.options
    first_parquet = options.partitions - options.parquet_partitions + 1
    for segment, entity in enumerate(options.segments):
        rows = sample.segment_table(segment).select(list(COLUMNS))
        for index, (start, stop) in enumerate(partition_bounds(rows.num_rows, options.partitions), start=1):
            yield PartitionFile(entity, index, index >= first_parquet), rows.slice(start, stop - start)


def write_partition(sample: Sample, part: PartitionFile, rows: pa.Table, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if part.parquet:
        pq.write_table(rows, str(path))
        return
    with pa.OSFile(str(path), "wb") as sink:
        if sample.options.bom:
            sink.write(BOM)
        options = pcsv.WriteOptions(include_header=sample.options.header, quoting_style="all_valid")
        pcsv.write_csv(rows, sink, write_options=options)


def write_partitions(sample: Sample, directory: Path) -> list[tuple[PartitionFile, Path]]:
    """Write every partition under `directory/<Entity>/<Entity>_<n>.<ext>`."""
    written = []
    for part, rows in partitions(sample):
        path = directory / part.relative
        write_partition(sample, part, rows, path)
        written.append((part, path))
    return written


def format_settings(sample: Sample, part: PartitionFile) -> dict[str, Any]:
    if part.parquet:
        return {"$type": "ParquetFormatSettings"}
    return {
        "$type": "CsvFormatSettings",
        "columnHeaders": sample.options.header,
        "delimiter": ",",
        "quoteStyle": "QuoteStyle.Csv",
        "csvStyle": "CsvStyle.QuoteAlways",
        "encoding": "UTF-8",
    }


def model_document(
    sample: Sample,
    parts: list[PartitionFile],
    *,
    name: str,
    written_at: datetime,
    location: Callable[[PartitionFile], str],
    existing: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """model.json for the sample's entities, merged into `existing` (its other entities are kept)."""
    stamp = written_at.isoformat().replace("+00:00", "Z")
    entities = []
    for entity in sample.options.segments:
        entities.append(
            {
                "$type": "LocalEntity",
                "name": entity,
                "description": f"Customer Insights segment {entity} (sample data)",
                "attributes": [{"name": c, "dataType": DATA_TYPES.get(c, "string")} for c in COLUMNS],
                "partitions": [
                    {
                        "name": p.name.rsplit(".", 1)[0],
                        "refreshTime": stamp,
                        "location": location(p),
                        "fileFormatSettings": format_settings(sample, p),
                    }
                    for p in parts
                    if p.entity == entity
                ],
            }
        )
    ours = {e["name"] for e in entities}
    kept = [e for e in (existing or {}).get("entities", []) if isinstance(e, dict) and e.get("name") not in ours]
    return {
        "name": name,
        "description": "Customer Insights export (sample data for local development)",
        "version": "1.0",
        "application": APPLICATION,
        "modifiedTime": stamp,
        "entities": kept + entities,
    }


__all__ = ["BOM", "PartitionFile", "format_settings", "model_document", "partitions", "write_partitions"]
