"""Helpers to lay out CI-style snapshots in a test container."""

from __future__ import annotations

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
