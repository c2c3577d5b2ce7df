"""Helpers to lay out CI-style snapshots in a test container."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from typing import Any

from azure.storage.blob.aio import ContainerClient

ROOT = "CustomerInsights_0f8fad5b-d9cb-469f-a165-70867728950e/AcExport"
ACCOUNT = "devstoreaccount1"


async def put(container: ContainerClient, name: str, data: bytes | str) -> None:
    await container.upload_blob(name, data.encode() if isinstance(data, str) else data, overwrite=True)


def url(container: ContainerClient, blob: str, service: str = "blob") -> str:
    return f"https://{ACCOUNT}.{service}.core.windows.net/{container.container_name}/{blob}"


def csv_settings(*, header: bool = False, **extra: Any) -> dict[str, Any]:
    return {
        "$type": "CsvFormatSettings",
        "columnHeaders": header,
        "delimiter": ",",
        "quoteStyle": "QuoteStyle.Csv",
        "csvStyle": "CsvStyle.QuoteAlways",
        "encoding": "UTF-8",
        **extra,
    }


def entity(
    name: str, attributes: Sequence[str], locations: Sequence[str], settings: dict[str, Any] | None = None
) -> dict[str, Any]:
    """A model.json LocalEntity; a location ending in .parquet gets ParquetFormatSettings."""
    return {
        "$type": "LocalEntity",
        "name": name,
        "attributes": [{"name": a, "dataType": "string"} for a in attributes],
        "partitions": [
            {
                "name": f"{name}_{i}",
                "location": loc,
                "fileFormatSettings": {"$type": "ParquetFormatSettings"}
                if loc.endswith(".parquet")
                else (settings or csv_settings()),
            }
            for i, loc in enumerate(locations, start=1)
        ],
    }


async def put_model(container: ContainerClient, *entities: dict[str, Any], root: str = ROOT) -> None:
    doc = {"name": "AcExport", "version": "1.0", "entities": list(entities)}
    await put(container, f"{root}/model.json", json.dumps(doc))


class FakeDownload:
    def __init__(self, data: bytes) -> None:
        self.data = data

    async def readall(self) -> bytes:
        return self.data


class FakeBlob:
    """Serves ranges of `data`; range number `fail_at` raises `error`, or waits forever when error is None."""

    def __init__(self, data: bytes, fail_at: int, error: BaseException | None, served: asyncio.Event) -> None:
        self.data, self.fail_at, self.error, self.served, self.calls = data, fail_at, error, served, 0
        self.abandoned = asyncio.Event()  # the range that never arrives was cancelled

    async def download_blob(self, *, offset: int, length: int, **_: Any) -> FakeDownload:
        self.calls += 1
        if self.calls == self.fail_at:
            self.served.set()
            if self.error is None:
                try:
                    await asyncio.Event().wait()
                except asyncio.CancelledError:
                    self.abandoned.set()
                    raise
            raise self.error  # type: ignore[misc]
        return FakeDownload(self.data[offset : offset + length])


class FakeContainer:
    container_name = "cont"
    account_name = "acct"

    def __init__(self, blob: FakeBlob) -> None:
        self.blob = blob

    def get_blob_client(self, name: str, snapshot: str | None = None) -> FakeBlob:
        return self.blob
