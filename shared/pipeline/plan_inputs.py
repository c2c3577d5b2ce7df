"""What a run's planning tasks share, fixed when planning starts: `plan/inputs.json` next to the run record.

Split and bucket tasks run in any process, possibly while someone edits the export: they read these inputs,
never the export's current document, so every task of a run plans the same thing.
"""

from __future__ import annotations

from datetime import datetime
from typing import Final, Literal

from azure.storage.blob.aio import ContainerClient
from pydantic import BaseModel

from shared.models import AttributeMapping, Target
from shared.pipeline.rules import FieldSpec, Origin
from shared.pipeline.shards import PayloadSpec
from shared.snapshot import CsvFormat, ParquetFormat, Partition, SegmentSnapshot

INPUTS: Final = "plan/inputs.json"


class PartitionRef(BaseModel):
    blob_name: str
    size: int
    etag: str
    snapshot: str | None = None
    format: Literal["csv", "parquet"]
    header: bool = False
    delimiter: str = ","
    quote_char: str = '"'
    encoding: str = "utf-8"

    @classmethod
    def of(cls, partition: Partition) -> PartitionRef:
        fmt = partition.format
        name, size, etag = partition.blob_name, partition.size, partition.etag
        if isinstance(fmt, ParquetFormat):
            return cls(blob_name=name, size=size, etag=etag, snapshot=partition.snapshot, format="parquet")
        return cls(
            blob_name=name,
            size=size,
            etag=etag,
            snapshot=partition.snapshot,
            format="csv",
            header=fmt.header,
            delimiter=fmt.delimiter,
            quote_char=fmt.quote_char,
            encoding=fmt.encoding,
        )

    def partition(self) -> Partition:
        fmt = (
            ParquetFormat()
            if self.format == "parquet"
            else CsvFormat(self.header, self.delimiter, self.quote_char, self.encoding)
        )
        return Partition(self.blob_name, fmt, self.size, self.etag, self.snapshot)


class SegmentRef(BaseModel):
    entity: str
    attributes: list[str]
    partitions: list[PartitionRef]
    snapshot_id: str
    written_at: datetime
    source: Literal["model.json", "folder"]
    attributes_from: Literal["model.json", "header row", "Parquet schema"]

    @classmethod
    def of(cls, snapshot: SegmentSnapshot) -> SegmentRef:
        return cls(
            entity=snapshot.entity,
            attributes=list(snapshot.attributes),
            partitions=[PartitionRef.of(p) for p in snapshot.partitions],
            snapshot_id=snapshot.snapshot_id,
            written_at=snapshot.written_at,
            source=snapshot.source,
            attributes_from=snapshot.attributes_from,
        )

    def snapshot(self) -> SegmentSnapshot:
        return SegmentSnapshot(
            self.entity,
            tuple(self.attributes),
            tuple(p.partition() for p in self.partitions),
            self.snapshot_id,
            self.written_at,
            self.source,
            self.attributes_from,
        )


class FieldRef(BaseModel):
    attribute: str
    field_id: int
    field_type: str


class PlanInputs(BaseModel):
    segments: list[SegmentRef]
    mapping: AttributeMapping
    fields: list[FieldRef]
    fingerprint: str
    list_id: int
    tags: list[str]
    exclude_automations: bool
    mirror: bool
    full: bool
    max_removal_percent: float
    target: Target
    bits: int
    shard_size: int
    legacy_name: str | None = None  # an export from before ids: its state may still be under its name
    state_etag: str | None = None  # of the state's meta.json the plan was diffed against (None: no state yet)
    notes: list[str] = []

    def field_specs(self) -> list[FieldSpec]:
        return [FieldSpec(f.attribute, f.field_id, f.field_type) for f in self.fields]

    def spec(self) -> PayloadSpec:
        return PayloadSpec(self.list_id, tuple(self.tags), self.exclude_automations)

    def partitions(self) -> list[tuple[SegmentSnapshot, Partition, Origin]]:
        """Every partition to split, in reading order, with where its rows come from."""
        out = []
        for s_index, segment in enumerate(self.segments):
            snapshot = segment.snapshot()
            for p_index, partition in enumerate(snapshot.partitions):
                name = partition.blob_name.rsplit("/", 1)[-1]
                out.append((snapshot, partition, Origin(s_index, segment.entity, p_index, name)))
        return out

    def origins(self) -> list[Origin]:
        return [origin for _, _, origin in self.partitions()]


async def save_inputs(container: ContainerClient, path: str, inputs: PlanInputs) -> None:
    await container.upload_blob(path, inputs.model_dump_json().encode(), overwrite=True)


async def load_inputs(container: ContainerClient, path: str) -> PlanInputs:
    downloader = await container.download_blob(path)
    return PlanInputs.model_validate_json(await downloader.readall())


__all__ = ["INPUTS", "FieldRef", "PartitionRef", "PlanInputs", "SegmentRef", "load_inputs", "save_inputs"]
