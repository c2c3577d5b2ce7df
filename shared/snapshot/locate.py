"""Find the newest snapshot of one segment (entity) under a snapshot root.

The snapshot root is the folder that holds model.json (`CustomerInsights_<id>/<ExportName>`).
- If model.json lists the entity with partitions, those partitions are the snapshot (source "model.json").
- Otherwise (model.json missing, entity absent, or listed without partitions) the newest
  `<Entity>/<yyyy>/<MM>/<dd>/<HHmm>/` folder is (source "folder").  Its attributes come from
  model.json when the entity is described there, else from the first partition's header row
  (or a Parquet partition's schema).  A first row equal to the attribute names is a header.
- model.json that exists but is empty or corrupt is a SnapshotError, never a silent fallback.

`snapshot_id` is a sha256 over the source, the entity, its attributes, model.json's entry for
the entity (canonical JSON) or the folder path, and each partition's blob name, ETag, size and
blob snapshot time (a location's `?snapshot=`: that snapshot is read, not the current blob).
Any rewrite of a partition changes its ETag, so a new CI snapshot always changes the id, and
nothing else does (another entity's changes to model.json leave it alone).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from collections.abc import Sequence
from dataclasses import replace

from azure.core.exceptions import ResourceNotFoundError
from azure.storage.blob.aio import ContainerClient

from shared.errors import SnapshotError
from shared.snapshot.cdm import CdmEntity, CdmModel, parse_model
from shared.snapshot.folders import DataFile, matches_attributes, newest_folder, peek_first_row, plausible_header
from shared.snapshot.locations import blob_location
from shared.snapshot.model import (
    SOURCE_FOLDER,
    SOURCE_MODEL,
    AttributeSource,
    CsvFormat,
    ParquetFormat,
    Partition,
    SegmentSnapshot,
    SnapshotSource,
)
from shared.snapshot.parquet_reader import parquet_columns
from shared.snapshot.storage import is_container_missing, storage_errors

logger = logging.getLogger(__name__)

MODEL_FILE = "model.json"
PROPERTY_CONCURRENCY = 8


async def find_snapshot(container: ContainerClient, root: str, entity: str) -> SegmentSnapshot:
    """The newest snapshot of `entity` under `root` (SnapshotError when there is none)."""
    root = root.strip("/")
    name = container.container_name
    model = await load_model(container, root)
    described = model.find(entity) if model else None
    if described is not None and described.partitions:
        snapshot = await _from_model(container, root, described)
    else:
        found = await newest_folder(container, root, described.name if described else entity)
        if found is None:
            model_note = "has no partitions for it" if described else ("does not list it" if model else "is missing")
            raise SnapshotError(
                f"no snapshot of segment {entity!r} in container {name!r}: {_join(root, MODEL_FILE)} {model_note}, "
                f"and there is no {_join(root, entity)}/<yyyy>/<MM>/<dd>/<HHmm>/ folder with .csv or .parquet files. "
                "Check the segment name and SNAPSHOT_ROOT (the folder that holds model.json)"
            )
        snapshot = await _from_folder(container, described, entity, *found)
    logger.info(
        "snapshot found: entity_partitions=%d source=%s written_at=%s",
        len(snapshot.partitions),
        snapshot.source,
        snapshot.written_at.isoformat(),
    )
    return snapshot


async def load_model(container: ContainerClient, root: str) -> CdmModel | None:
    """The parsed model.json at `root`, or None when there is none."""
    path = _join(root, MODEL_FILE)
    with storage_errors(container.container_name, f"reading {path}"):
        try:
            raw = await (await container.get_blob_client(path).download_blob()).readall()
        except ResourceNotFoundError as exc:
            if is_container_missing(exc):
                raise
            return None
    return parse_model(raw, f"{container.container_name}/{path}")


async def _from_model(container: ContainerClient, root: str, entity: CdmEntity) -> SegmentSnapshot:
    partitions = []
    for p in entity.partitions:
        where = f"model.json entity {entity.name!r} partition {p.name!r}"
        location = blob_location(
            p.location, account=container.account_name, container=container.container_name, root=root, where=where
        )
        partitions.append(Partition(location.name, p.format, snapshot=location.snapshot))
    limit = asyncio.Semaphore(PROPERTY_CONCURRENCY)

    async def stat(partition: Partition) -> DataFile:
        async with limit:
            with storage_errors(container.container_name, f"reading {partition.shown}"):
                try:
                    client = container.get_blob_client(partition.blob_name, snapshot=partition.snapshot)
                    props = await client.get_blob_properties()
                except ResourceNotFoundError as exc:
                    if is_container_missing(exc):
                        raise
                    raise SnapshotError(
                        f"model.json lists partition {partition.shown} of segment {entity.name!r}, but that "
                        "blob does not exist: wait for Customer Insights to finish the export, or re-run it"
                    ) from None
        return DataFile(partition.blob_name, props.size or 0, props.etag or "", props.last_modified)

    files = await asyncio.gather(*(stat(p) for p in partitions))
    return _snapshot(entity.name, entity.attributes, partitions, files, SOURCE_MODEL, entity.fingerprint)


async def _from_folder(
    container: ContainerClient, described: CdmEntity | None, entity: str, folder: str, files: list[DataFile]
) -> SegmentSnapshot:
    csv_files = [f for f in files if not f.name.lower().endswith(".parquet")]
    first_row: list[str] | None = None
    for file in (f for f in csv_files if f.size > 0):
        first_row = await peek_first_row(container, file.name, CsvFormat())
        if first_row is not None:
            break
    attributes_from: AttributeSource = "model.json"
    if described is not None:
        attributes = described.attributes
        header = first_row is not None and matches_attributes(first_row, attributes)
    elif first_row is not None:
        if not plausible_header(first_row):
            raise SnapshotError(
                f"the first row of {folder}'s partitions is not a header row, and model.json does not describe "
                f"segment {entity!r}: export the segment with model.json (CDM) or with column headers"
            )
        attributes, header, attributes_from = tuple(f.strip() for f in first_row), True, "header row"
    elif len(csv_files) < len(files):
        parquet = next(f for f in files if f.name.lower().endswith(".parquet"))
        with storage_errors(container.container_name, f"reading {parquet.name}"):
            columns = await parquet_columns(container, Partition(parquet.name, ParquetFormat(), size=parquet.size))
        attributes, header, attributes_from = tuple(columns), False, "Parquet schema"
    else:
        raise SnapshotError(
            f"the partitions in {folder} are empty and model.json does not describe segment {entity!r}, so its "
            "columns are unknown: export the segment with model.json (CDM) or with column headers"
        )
    fmt = CsvFormat(header=header)
    partitions = [Partition(f.name, ParquetFormat() if f.name.lower().endswith(".parquet") else fmt) for f in files]
    name = described.name if described else entity
    return _snapshot(name, attributes, partitions, files, SOURCE_FOLDER, folder, attributes_from)


def _snapshot(
    entity: str,
    attributes: Sequence[str],
    partitions: Sequence[Partition],
    files: Sequence[DataFile],
    source: SnapshotSource,
    entry: str,
    attributes_from: AttributeSource = "model.json",
) -> SegmentSnapshot:
    stated = [replace(p, size=f.size, etag=f.etag) for p, f in zip(partitions, files, strict=True)]
    fingerprint = {
        "v": 1,
        "source": source,
        "entity": entity,
        "attributes": list(attributes),
        "entry": entry,
        "partitions": [[p.blob_name, p.etag, p.size, *([p.snapshot] if p.snapshot else [])] for p in stated],
    }
    digest = hashlib.sha256(json.dumps(fingerprint, sort_keys=True, ensure_ascii=True).encode()).hexdigest()
    return SegmentSnapshot(
        entity=entity,
        attributes=tuple(attributes),
        partitions=tuple(stated),
        snapshot_id=digest,
        written_at=max(f.last_modified for f in files),
        source=source,
        attributes_from=attributes_from,
    )


def _join(root: str, name: str) -> str:
    return f"{root}/{name}" if root else name


__all__ = ["MODEL_FILE", "find_snapshot", "load_model"]
