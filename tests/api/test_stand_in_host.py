"""The API through the stand-in Functions host: real HTTP, the real function_app, Azurite and the emulator."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import aiohttp
from azure.storage.queue.aio import QueueClient

import function_app
from local.host import HostConfig, StandInHost
from shared.api import ROUTES
from shared.names import RUN_QUEUE
from shared.services import close_services
from tests.api.client import ADMIN, allow_reindexing
from tests.api.conftest import Emu, Snapshots, connection_body, export_body
from tests.api.leaks import Ledger
from tests.helpers import eventually

ROOT = Path(__file__).resolve().parents[2]


async def test_an_admin_connects_lists_and_exports_through_the_host(
    app_containers: str, emu: Emu, snapshots: Snapshots, unique: str, ledger: Ledger
) -> None:
    # given the host serving only the HTTP functions, with local-development settings (as `make up` does)
    settings = {
        "AzureWebJobsStorage": app_containers,
        "LOCAL_TRUST_PRINCIPAL_HEADER": "true",
        "AC_ALLOWED_LOCAL_HOSTS": emu.host,
        "LOCAL_SECRETS": "true",
        "SNAPSHOT_CONTAINER": snapshots.name,
    }
    await snapshots.write_segment("Members", ["Email", "FirstName"])
    allow_reindexing(function_app.app)  # the suite may have indexed the app already in this process
    host = StandInHost(
        function_app.app,
        settings,
        HostConfig.load(ROOT / "host.json"),
        functions=[r.function_name for r in ROUTES],
        http_port=0,
        enable_timers=False,
    )
    headers = {"X-MS-CLIENT-PRINCIPAL": ADMIN}
    try:
        async with host, aiohttp.ClientSession(base_url=str(host.http_url)) as http:

            async def call(method: str, path: str, body: object = None) -> tuple[int, dict[str, str], bytes]:
                async with http.request(method, path, json=body, headers=headers) as response:
                    raw = await response.read()
                    ledger.record_response(f"host {method} {path}", response.status, dict(response.headers), raw)
                    return response.status, dict(response.headers), raw

            # when an admin creates a connection to the emulator, pasting its URL
            status, _, raw = await call(
                "PUT", f"/api/connections/{unique}", connection_body(f"http://{emu.host}/", emu.key)
            )
            assert status == 201, raw
            # then it lists without the key
            status, _, raw = await call("GET", "/api/connections")
            assert status == 200 and emu.key.encode() not in raw
            [listed] = [c for c in json.loads(raw)["items"] if c["name"] == unique]
            assert listed["hostname"] == emu.host and "apiKey" not in listed
            # and an export on it is saved
            status, _, raw = await call(
                "PUT", f"/api/exports/{unique}", export_body(unique, mapping={"email": "email"})
            )
            assert status == 201, raw
            assert json.loads(raw)["warnings"] == []
            # and a run started over HTTP reaches the run queue, base64-encoded, through the output binding
            status, response_headers, raw = await call("POST", f"/api/exports/{unique}/runs")
            assert status == 202, raw
            run_id = json.loads(raw)["id"]
            assert response_headers["Location"] == f"/api/exports/{unique}/runs/{run_id}"
            status, _, raw = await call("GET", "/api/openapi.json")
            assert status == 200 and b'"openapi"' in raw

        async with QueueClient.from_connection_string(app_containers, RUN_QUEUE) as queue:

            async def taken() -> bool:  # found, and removed so that no other suite's planner runs it
                async for message in queue.receive_messages(max_messages=32, visibility_timeout=1):
                    if run_id in base64.b64decode(message.content).decode():
                        await queue.delete_message(message)
                        return True
                return False

            await eventually(taken)
    finally:
        allow_reindexing(function_app.app)  # the host indexed it: let later tests index it again
        await close_services()
