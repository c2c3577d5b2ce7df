"""Upload a sample to Blob Storage in CI's layout, then write (merge) model.json at the root.

`<root>/<Entity>/<yyyy>/<MM>/<dd>/<HHmm>/<Entity>_<n>.csv|.parquet`, then `<root>/model.json`
last (a reader that sees the new model.json finds every partition it lists).  The container is
created when missing; uploads run `concurrency` at a time.  Partition locations in model.json
use the real URL form `https://<account>.blob.core.windows.net/<container>/<blob>` by default
(`dfs` for Data Lake, `client` for the client's own URL, e.g. Azurite's path-style URL).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Final, Literal
from urllib.parse import quote

from azure.core.exceptions import ResourceExistsError, ResourceNotFoundError
from azure.storage.blob import ContentSettings
from azure.storage.blob.aio import ContainerClient

from local.sample_data.cache import rendered_files
from local.sample_data.generate import Sample
from local.sample_data.render import PartitionFile, model_document, write_partitions

DEFAULT_CONTAINER: Final = "customerinsights"
DEFAULT_ROOT: Final = "CustomerInsights_5a7c3d1e-2b4f-4c6d-8e9f-0a1b2c3d4e5f/ActiveCampaignSegments"
DEFAULT_ACCOUNT: Final = "devstoreaccount1"
LocationStyle = Literal["blob", "dfs", "client"]
CONTENT_TYPES: Final = {"csv": "text/csv", "parquet": "application/vnd.apache.parquet", "json": "application/json"}


@dataclass(frozen=True)
class WrittenSnapshot:
    root: str
    written_at: datetime  # the <yyyy>/<MM>/<dd>/<HHmm> folder's time
    blobs: tuple[str, ...]  # partition blob names
    model_path: str
    bytes_uploaded: int
    upload_seconds: float


async def write_snapshot(
    container: ContainerClient,
    sample: Sample,
    *,
    root: str = DEFAULT_ROOT,
    written_at: datetime | None = None,
    location_style: LocationStyle = "blob",
    cache_dir: Path | None = None,
    concurrency: int = 4,
) -> WrittenSnapshot:
    """Upload `sample` as a new snapshot of each of its segments (rendered via the cache when given)."""
    root = root.strip("/")
    await ensure_container(container)
    if cache_dir is not None:
        files = await asyncio.to_thread(rendered_files, sample, cache_dir)
        return await _upload(container, sample, files, root, written_at, location_style, concurrency)
    with tempfile.TemporaryDirectory(prefix="sample-") as scratch:
        files = await asyncio.to_thread(write_partitions, sample, Path(scratch))
        return await _upload(container, sample, files, root, written_at, location_style, concurrency)


async def ensure_container(container: ContainerClient) -> None:
    with contextlib.suppress(ResourceExistsError):
        await container.create_container()


async def _upload(
    container: ContainerClient,
    sample: Sample,
    files: list[tuple[PartitionFile, Path]],
    root: str,
    written_at: datetime | None,
    location_style: LocationStyle,
    concurrency: int,
) -> WrittenSnapshot:
    started = time.perf_counter()
    when = await free_minute(container, root, sample.options.segments, written_at)
    folder = when.strftime("%Y/%m/%d/%H%M")

    def blob_for(part: PartitionFile) -> str:
        return f"{root}/{part.entity}/{folder}/{part.name}"

    limit = asyncio.Semaphore(max(1, concurrency))

    async def put(part: PartitionFile, path: Path) -> int:
        async with limit:
            size = (await asyncio.to_thread(path.stat)).st_size
            data = await asyncio.to_thread(path.open, "rb")
            try:
                await container.upload_blob(
                    blob_for(part),
                    data,
                    length=size,
                    overwrite=True,
                    max_concurrency=2,
                    content_settings=ContentSettings(content_type=CONTENT_TYPES[path.suffix.lstrip(".")]),
                )
            finally:
                data.close()
            return size

    sizes = await asyncio.gather(*(put(part, path) for part, path in files))
    model_path = f"{root}/model.json" if root else "model.json"
    document = model_document(
        sample,
        [part for part, _ in files],
        name=root.rsplit("/", 1)[-1] or "CustomerInsights",
        written_at=when,
        location=lambda part: location_url(container, blob_for(part), location_style),
        existing=await read_model(container, model_path),
    )
    body = json.dumps(document, indent=2).encode()
    await container.upload_blob(
        model_path, body, overwrite=True, content_settings=ContentSettings(content_type=CONTENT_TYPES["json"])
    )
    return WrittenSnapshot(
        root=root,
        written_at=when,
        blobs=tuple(blob_for(part) for part, _ in files),
        model_path=model_path,
        bytes_uploaded=sum(sizes) + len(body),
        upload_seconds=time.perf_counter() - started,
    )


async def free_minute(
    container: ContainerClient, root: str, entities: tuple[str, ...], wanted: datetime | None
) -> datetime:
    """`wanted` (default: now), to the minute, moved later until no entity has a folder for that minute."""
    when = (wanted or datetime.now(UTC)).astimezone(UTC).replace(second=0, microsecond=0)
    if wanted is not None:
        return when
    while True:
        taken = False
        for entity in entities:
            prefix = f"{root}/{entity}/{when.strftime('%Y/%m/%d/%H%M')}/"
            async for _ in container.list_blobs(name_starts_with=prefix, results_per_page=1):
                taken = True
                break
        if not taken:
            return when
        when += timedelta(minutes=1)


async def read_model(container: ContainerClient, path: str) -> dict[str, Any] | None:
    """The existing model.json as a dict (None when absent or not a JSON object)."""
    try:
        raw = await (await container.get_blob_client(path).download_blob()).readall()
    except ResourceNotFoundError:
        return None
    try:
        document = json.loads(raw.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None
    return document if isinstance(document, dict) else None


def location_url(container: ContainerClient, blob: str, style: LocationStyle) -> str:
    if style == "client":
        return str(container.get_blob_client(blob).url)
    account = container.account_name or DEFAULT_ACCOUNT
    return f"https://{account}.{style}.core.windows.net/{container.container_name}/{quote(blob)}"


__all__ = [
    "DEFAULT_ACCOUNT",
    "DEFAULT_CONTAINER",
    "DEFAULT_ROOT",
    "LocationStyle",
    "WrittenSnapshot",
    "ensure_container",
    "free_minute",
    "location_url",
    "read_model",
    "write_snapshot",
]
