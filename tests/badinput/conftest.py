"""One end-to-end stack for the whole bad-input package, so that many bad exports share it with a good one.

`bad_stack` is tests/e2e's stack (fresh Azurite, the AC emulator, function_app in the stand-in
host, driven over HTTP), started once for the package on the package's event loop: every async
test here runs with `pytest.mark.asyncio(loop_scope="package")`.  Each test names its own
exports, and its snapshot files live under a snapshot root of their own.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
from azure.core.exceptions import ResourceExistsError

from local.azurite import azurite
from tests.e2e.stack import Stack, running_stack
from tests.leakprobe import session_probe
from tests.security.probe import email_tokens

SEGMENT = "Seg"
FOLDER = f"{SEGMENT}/2026/01/01/0000"
CSV_FOLDER_FILE = f"{FOLDER}/{SEGMENT}_1.csv"


@pytest_asyncio.fixture(scope="package", loop_scope="package")
async def bad_stack(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Stack]:
    async with running_stack(azurite().start(), tmp_path_factory.mktemp("badinput")) as stack:
        await stack.connect("ac")
        yield stack


def csv_settings(**overrides: Any) -> dict[str, Any]:
    return {
        "$type": "CsvFormatSettings",
        "columnHeaders": True,
        "delimiter": ",",
        "quoteStyle": "QuoteStyle.Csv",
        "csvStyle": "CsvStyle.QuoteAlways",
        "encoding": "UTF-8",
        **overrides,
    }


def model_json(
    attributes: list[str] | None = None,
    partitions: list[str] | None = None,
    settings: dict[str, Any] | None = None,
    entity: str = SEGMENT,
) -> bytes:
    """A CDM model.json with one entity; partition locations are relative to the snapshot root."""
    doc = {
        "name": "AcExport",
        "version": "1.0",
        "entities": [
            {
                "$type": "LocalEntity",
                "name": entity,
                "attributes": [
                    {"name": a, "dataType": "string"}
                    for a in (["Email", "FirstName"] if attributes is None else attributes)
                ],
                "partitions": [
                    {"name": f"{entity}_{i}", "location": loc, "fileFormatSettings": settings or csv_settings()}
                    for i, loc in enumerate(partitions or [f"{FOLDER}/{entity}_1.csv"], start=1)
                ],
            }
        ],
    }
    return json.dumps(doc).encode()


async def put_files(stack: Stack, root: str, files: dict[str, bytes]) -> None:
    """Write snapshot files; their emails become PII the session's leak probe looks for in logs and spans."""
    for data in files.values():
        session_probe().register_emails(email_tokens(data.decode("utf-8", "replace")))
    async with stack.container(stack.settings["SNAPSHOT_CONTAINER"]) as container:
        with contextlib.suppress(ResourceExistsError):
            await container.create_container()
        for path, data in files.items():
            await container.upload_blob(f"{root}/{path}", data, overwrite=True)


__all__ = ["CSV_FOLDER_FILE", "FOLDER", "SEGMENT", "bad_stack", "csv_settings", "model_json", "put_files"]
