"""Errors carry no customer data, end to end: a CSV that model.json says has a header row, but which starts with a
customer's row, fails its run with a message that says what to fix, and that customer's email and name appear
nowhere a Viewer (or an operator) can see them: not in the run record, not in any API answer, not in the logs."""

from __future__ import annotations

import json
import logging
import uuid

import pytest
from azure.storage.blob.aio import BlobServiceClient

from shared.names import ALL_CONTAINERS
from shared.security import encode_principal
from tests.e2e.stack import SNAPSHOT_ROOT, Stack
from tests.security.probe import record_text

SEGMENT = "Planted"
PARTITION = f"{SEGMENT}/2026/03/01/0930/{SEGMENT}_1.csv"
VIEWER = encode_principal("viewer@example.test", "Viewer")


def model_json() -> bytes:
    settings = {"$type": "CsvFormatSettings", "columnHeaders": True, "delimiter": ",", "encoding": "UTF-8"}
    entity = {
        "$type": "LocalEntity",
        "name": SEGMENT,
        "attributes": [{"name": "Email", "dataType": "string"}, {"name": "FirstName", "dataType": "string"}],
        "partitions": [{"name": f"{SEGMENT}_1", "location": PARTITION, "fileFormatSettings": settings}],
    }
    return json.dumps({"name": "CI", "version": "1.0", "entities": [entity]}).encode()


async def test_a_missing_header_row_fails_the_run_clearly_and_the_first_row_is_seen_nowhere(
    stack: Stack, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    token = uuid.uuid4().hex[:12]
    email, name = f"planted.{token}@example.com", f"Zebulon{token}"
    async with stack.container(stack.settings["SNAPSHOT_CONTAINER"]) as container:
        await container.create_container()
        await container.upload_blob(f"{SNAPSHOT_ROOT}/model.json", model_json(), overwrite=True)
        await container.upload_blob(f"{SNAPSHOT_ROOT}/{PARTITION}", f"{email},{name}\nb@example.com,Bea\n".encode())
    await stack.connect()
    await stack.create_export("planted", segments=[SEGMENT], mapping={"email": "Email", "firstName": "FirstName"})

    run = await stack.run("planted")

    assert run["status"] == "Failed", run
    assert run["error"]["code"] == "snapshot_error", run
    assert run["error"]["message"] == (
        f"model.json says {SNAPSHOT_ROOT}/{PARTITION} has a header row, but its first row (row 1 of the file) does "
        "not name the attributes (Email, FirstName); if the file has no header row, set columnHeaders to false in "
        "the partition's fileFormatSettings"
    )
    planted = (email, name, token)
    seen = {}
    for path in ("/exports", "/exports/planted", "/exports/planted/runs", f"/exports/planted/runs/{run['id']}"):
        for who, principal in (("admin", None), ("viewer", VIEWER)):
            status, answer = await stack.call("GET", path, principal=principal or ...)  # type: ignore[arg-type]
            assert status == 200, (path, who, answer)
            seen[f"GET {path} as {who}"] = json.dumps(answer)
    async with BlobServiceClient.from_connection_string(stack.azurite.connection_string) as service:
        for container_name in ALL_CONTAINERS:  # the run record, checkpoints, state and config documents
            container = service.get_container_client(container_name)
            async for blob in container.list_blobs():
                if "report" not in blob.name:  # the per-row report may hold a row's email: it is for that
                    data = await (await container.download_blob(blob.name)).readall()
                    seen[f"blob {container_name}/{blob.name}"] = data.decode("utf-8", "replace")
    for index, record in enumerate(caplog.records):
        seen[f"log {index} {record.name}"] = record_text(record)

    assert any(where.startswith("blob runs/") for where in seen) and len(caplog.records) > 0
    leaks = sorted(where for where, text in seen.items() if any(value in text for value in planted))
    assert leaks == []
