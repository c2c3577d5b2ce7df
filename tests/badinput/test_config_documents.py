"""Broken documents in the app's own storage (config, runs, state): each affects only itself.

A connection or export document with invalid JSON, an unknown schema version or a wrong
shape is named in listings next to the good ones, answers with a message that names the
document, fails the runs that need it with that message, and does not stop the scheduled
refresh from starting the other exports.  Everything goes through the stand-in host.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio

from tests.badinput.conftest import CSV_FOLDER_FILE, model_json, put_files
from tests.e2e.stack import Stack
from tests.helpers import eventually

pytestmark = pytest.mark.asyncio(loop_scope="package")

BROKEN_EXPORTS = {
    "cfg-invalid-json": (b'{"connection": "ac", "listId": ', "cannot be read"),
    "cfg-schema-v9": (None, "unknown schema version"),
    "cfg-wrong-shape": (None, "listId"),
    "cfg-not-an-object": (b"[]", "cannot be read"),
    "cfg-empty": (b"", "cannot be read"),
}


async def put_blob(stack: Stack, container: str, name: str, data: bytes) -> None:
    async with stack.container(container) as client:
        await client.upload_blob(name, data, overwrite=True)


async def delete_blob(stack: Stack, container: str, name: str) -> None:
    async with stack.container(container) as client:
        await client.delete_blob(name)


async def read_blob(stack: Stack, container: str, name: str) -> dict[str, Any]:
    async with stack.container(container) as client:
        data: dict[str, Any] = json.loads(await (await client.download_blob(name)).readall())
        return data


async def snapshot(stack: Stack, root: str, prefix: str) -> None:
    rows = "".join(f"{prefix}{i}@example.com,{prefix.title()}{i}\n" for i in range(3))
    await put_files(stack, root, {"model.json": model_json(), CSV_FOLDER_FILE: b"Email,FirstName\n" + rows.encode()})


async def save_export(stack: Stack, name: str, root: str, **fields: Any) -> None:
    body = {
        "connection": "ac",
        "listId": 1,
        "segments": ["Seg"],
        "mapping": {"email": "Email"},
        "schedule": "manual",
        "snapshotRoot": root,
        **fields,
    }
    status, answer = await stack.call("PUT", f"/exports/{name}", body)
    assert status == 201, answer


@pytest_asyncio.fixture(scope="module", loop_scope="package")
async def broken(bad_stack: Stack) -> AsyncIterator[Stack]:
    """A good export and the broken export documents (each written over a good one)."""
    stack = bad_stack
    await snapshot(stack, "cfg/good", "cg")
    await save_export(stack, "cfg-good", "cfg/good")
    for name, (raw, _) in BROKEN_EXPORTS.items():
        await save_export(stack, name, "cfg/good")
        doc = await read_blob(stack, "config", f"exports/{name}.json")
        if name == "cfg-schema-v9":
            raw = json.dumps({**doc, "schemaVersion": 9}).encode()
        elif name == "cfg-wrong-shape":
            raw = json.dumps({**doc, "listId": "abc"}).encode()
        assert raw is not None
        await put_blob(stack, "config", f"exports/{name}.json", raw)
    yield stack


async def test_listing_names_each_broken_export_next_to_the_good_ones(broken: Stack) -> None:
    status, answer = await broken.call("GET", "/exports")

    assert status == 200, answer
    assert "cfg-good" in {item["name"] for item in answer["items"]}
    unreadable = {u["name"]: u["reason"] for u in answer["unreadable"]}
    for name, (_, words) in BROKEN_EXPORTS.items():
        assert words in unreadable[name] and f"exports/{name}.json" in unreadable[name], unreadable


@pytest.mark.parametrize("name", list(BROKEN_EXPORTS))
async def test_reading_or_running_a_broken_export_names_the_document(broken: Stack, name: str) -> None:
    words = BROKEN_EXPORTS[name][1]
    got = await broken.call("GET", f"/exports/{name}")
    run = await broken.call("POST", f"/exports/{name}/runs", {})

    for status, answer in (got, run):
        assert status == 500 and answer["error"]["code"] == "corrupt_document", answer
        assert words in answer["error"]["message"] and f"exports/{name}.json" in answer["error"]["message"]
    # the good export still runs
    good = await broken.run("cfg-good")
    assert good["status"] == "Succeeded", good


async def test_an_admin_can_replace_or_delete_a_broken_export(broken: Stack) -> None:
    body = {"connection": "ac", "listId": 1, "segments": ["Seg"], "mapping": {"email": "Email"}, "schedule": "manual"}
    replaced = await broken.call("PUT", "/exports/cfg-invalid-json", {**body, "snapshotRoot": "cfg/good"})
    deleted = await broken.call("DELETE", "/exports/cfg-empty")

    assert (replaced[0], deleted[0]) == (200, 200), (replaced, deleted)


@pytest.mark.parametrize(
    ("name", "raw", "words"),
    [
        ("cfgc-invalid-json", b"{", "cannot be read"),
        ("cfgc-schema-v9", None, "unknown schema version"),
    ],
)
async def test_a_broken_connection_fails_its_exports_runs_with_a_reason_and_is_listed(
    bad_stack: Stack, name: str, raw: bytes | None, words: str
) -> None:
    stack = bad_stack
    hostname = stack.emulator.url.removeprefix("http://")
    await stack.api.put_connection(name, hostname=hostname, api_key=stack.emulator.api_key)
    await snapshot(stack, f"cfg/{name}", "cc")
    await save_export(stack, f"{name}-export", f"cfg/{name}", connection=name)
    doc = await read_blob(stack, "config", f"connections/{name}.json")
    await put_blob(stack, "config", f"connections/{name}.json", raw or json.dumps({**doc, "schemaVersion": 9}).encode())

    run = await stack.run(f"{name}-export")
    status, listed = await stack.call("GET", "/connections")

    assert run["status"] == "Failed" and run["error"]["code"] == "corrupt_document", run
    assert words in run["error"]["message"] and f"connections/{name}.json" in run["error"]["message"]
    assert status == 200 and name in {u["name"] for u in listed["unreadable"]}
    assert "ac" in {c["name"] for c in listed["items"]}


async def refresh_starts(stack: Stack, export: str) -> dict[str, Any]:
    """Fire the scheduled refresh once; the run it started for `export`, when it is final."""
    await stack.host.run_function("refresh_timer")
    status, runs = await stack.call("GET", f"/exports/{export}/runs")
    assert status == 200 and runs["items"], f"the refresh started no run of {export}"
    run_id = runs["items"][0]["id"]

    async def taken() -> bool:  # the planner took the run message the timer sent
        return (await stack.api.get_run(export, run_id))["status"] != "Queued"

    try:
        await eventually(taken, timeout=30)
    except AssertionError:
        raise AssertionError("the run was recorded but its message was never sent") from None
    return await stack.wait_run(export, run_id)


async def test_the_scheduled_refresh_skips_broken_exports_and_starts_the_good_ones(broken: Stack) -> None:
    await snapshot(broken, "cfg/refresh-1", "r1")
    await save_export(broken, "cfg-refresh-1", "cfg/refresh-1", schedule="refresh")

    run = await refresh_starts(broken, "cfg-refresh-1")

    assert run["status"] == "Succeeded" and run["trigger"] == "schedule", run


@pytest.mark.parametrize(
    ("container", "blob", "what"),
    [
        pytest.param("state", "exports/{id}/ledger.json", "state", id="corrupt-ledger"),
        pytest.param("runs", "{id}/20200101T000000Z-000000/run.json", "run", id="corrupt-run-record"),
    ],
)
async def test_one_exports_broken_state_does_not_stop_the_refresh_of_the_others(
    bad_stack: Stack, container: str, blob: str, what: str
) -> None:
    stack = bad_stack
    broken_export = f"cfg-refresh-bad-{what}"
    good = f"cfg-refresh-after-{what}"
    for name in (broken_export, good):
        await snapshot(stack, f"cfg/{name}", "s" + what[0])
        await save_export(stack, name, f"cfg/{name}", schedule="refresh")
    blob = blob.format(id=await stack.export_id(broken_export))
    await put_blob(stack, container, blob, b'{"schemaVersion": "x", "contactsBlob": 5')
    try:
        run = await refresh_starts(stack, good)
    finally:
        await delete_blob(stack, container, blob)

    assert run["status"] == "Succeeded", run
