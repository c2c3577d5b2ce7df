"""Find a segment's newest `<Entity>/<yyyy>/<MM>/<dd>/<HHmm>/` folder and peek at its columns.

Used when model.json is missing or does not list the entity's partitions.  The walk goes down
one level at a time with `walk_blobs(delimiter="/")`, newest first, and stops at the first
timestamp folder that holds data files (`.csv` / `.parquet`), so it costs a handful of list
calls however long CI's history is.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from azure.storage.blob import BlobProperties
from azure.storage.blob.aio import BlobPrefix, ContainerClient

from shared.errors import SnapshotError
from shared.snapshot.header import parse_header_line
from shared.snapshot.model import CsvFormat
from shared.snapshot.storage import storage_errors

# (pattern, lowest, highest) for yyyy, MM, dd, HHmm
LEVELS = ((r"\d{4}", 1, 9999), (r"\d{2}", 1, 12), (r"\d{2}", 1, 31), (r"\d{4}", 0, 2359))
DATA_SUFFIXES = (".csv", ".parquet")
HEADER_PEEK_BYTES = 65_536
HEADER_NAME = re.compile(r"^[^\W\d][\w .\-]{0,127}$")


@dataclass(frozen=True)
class DataFile:
    name: str
    size: int
    etag: str
    last_modified: datetime


async def newest_folder(container: ContainerClient, root: str, entity: str) -> tuple[str, list[DataFile]] | None:
    """The newest timestamp folder of `entity` that holds data files, and those files in natural order."""
    base = f"{root}/{entity}/" if root else f"{entity}/"
    with storage_errors(container.container_name, f"listing {base}"):
        return await _descend(container, base, 0)


async def _descend(container: ContainerClient, prefix: str, level: int) -> tuple[str, list[DataFile]] | None:
    if level == len(LEVELS):
        files = [
            DataFile(item.name, item.size or 0, item.etag or "", item.last_modified)
            async for item in container.walk_blobs(name_starts_with=prefix, delimiter="/")
            if isinstance(item, BlobProperties) and item.name.lower().endswith(DATA_SUFFIXES)
        ]
        return (prefix.rstrip("/"), sorted(files, key=lambda f: natural_key(f.name))) if files else None
    pattern, lowest, highest = LEVELS[level]
    children: list[tuple[int, str]] = []
    async for item in container.walk_blobs(name_starts_with=prefix, delimiter="/"):
        if isinstance(item, BlobPrefix):
            label = item.name[len(prefix) :].rstrip("/")
            if re.fullmatch(pattern, label) and lowest <= int(label) <= highest:
                children.append((int(label), item.name))
    for _, child in sorted(children, reverse=True):
        found = await _descend(container, child, level + 1)
        if found is not None:
            return found
    return None


def natural_key(name: str) -> tuple[tuple[int, str], ...]:
    """Sort key that puts `Entity_2.csv` before `Entity_10.csv`."""
    return tuple((int(part), "") if part.isdigit() else (-1, part) for part in re.split(r"(\d+)", name) if part)


async def peek_first_row(container: ContainerClient, blob: str, fmt: CsvFormat) -> list[str] | None:
    """The fields of the first line of a CSV blob (None when it is empty).  Header names never span lines."""
    with storage_errors(container.container_name, f"reading {blob}"):
        stream = await container.get_blob_client(blob).download_blob(offset=0, length=HEADER_PEEK_BYTES)
        head = await stream.readall()
    if b"\n" not in head and len(head) == HEADER_PEEK_BYTES:
        raise SnapshotError(f"the first row of {blob} is longer than {HEADER_PEEK_BYTES} bytes: it is not a header")
    return parse_header_line(head.split(b"\n", 1)[0], fmt) or None


def plausible_header(fields: Sequence[str]) -> bool:
    """True when a first row looks like column names (so that listing it cannot leak contact data)."""
    names = [f.strip() for f in fields]
    return (
        bool(names)
        and all(HEADER_NAME.match(n) for n in names)
        and len({n.casefold() for n in names}) == len(names)
        and not any("@" in n for n in names)
    )


def matches_attributes(fields: Sequence[str], attributes: Sequence[str]) -> bool:
    """True when a first row is exactly the attribute names (in any order, any case): a header row."""
    return sorted(f.strip().casefold() for f in fields) == sorted(a.casefold() for a in attributes)


__all__ = [
    "DataFile",
    "matches_attributes",
    "natural_key",
    "newest_folder",
    "peek_first_row",
    "plausible_header",
]
