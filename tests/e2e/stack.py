"""The whole local stack for end-to-end tests: Azurite, the AC emulator, and function_app in the stand-in host.

Everything goes through the product's real entry points: the HTTP API served by the
stand-in host, the run queue, the planner, shard workers and finaliser it polls.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from azure.storage.blob.aio import ContainerClient

import function_app
from local.activecampaign_emulator import EmulatorConfig, EmulatorServer
from local.api_client import ADMIN, LocalApi
from local.azurite import REPO_ROOT, Azurite
from local.host import HostConfig, QueuesConfig, StandInHost, index_app
from local.sample_data import Oracle, Sample, SampleOptions, generate, oracle, write_snapshot
from shared.services import close_services
from tests.helpers import eventually
from tests.leakprobe import child_command

SNAPSHOT_ROOT = "CustomerInsights_test/segments"
FAST_QUEUES = QueuesConfig(
    batch_size=8,
    new_batch_threshold=4,
    max_polling_interval_s=0.2,
    visibility_timeout_s=1.0,
    max_dequeue_count=3,
    message_encoding="base64",
)


def app_settings(azurite: Azurite, emulator_url: str, tmp: Path, **overrides: str) -> dict[str, str]:
    host = emulator_url.removeprefix("http://")
    settings = {
        "AzureWebJobsStorage": azurite.connection_string,
        "REFRESH_SCHEDULE": "0 0 0 1 1 *",  # fired on request in tests
        "SNAPSHOT_CONTAINER": "customerinsights",
        "SNAPSHOT_ROOT": SNAPSHOT_ROOT,
        "LOCAL_TRUST_PRINCIPAL_HEADER": "true",
        "AC_ALLOWED_LOCAL_HOSTS": host,
        "LOCAL_SECRETS": "true",
        "LOCAL_SECRETS_FILE": str(tmp / "secrets.json"),
        # the emulator's limits are scaled x50 for test speed; the client's budget matches
        "AC_RATE_PER_SECOND": "250",
        "AC_BULK_PER_MINUTE": "5000",
        "AC_BULK_SINGLE_PER_MINUTE": "1000",
        "AC_POLL_INTERVAL_SECONDS": "0.05",
        "AC_TIMEOUT_SECONDS": "5",
        "SHARD_SIZE": "400",
        "LANE_LEASE_SECONDS": "15",
        "LANE_BUSY_DELAY_SECONDS": "1",
    }
    extra = overrides.pop("AC_ALLOWED_LOCAL_HOSTS", None)  # more emulated accounts: kept next to the first one
    if extra == "":  # asked for none at all (a deployment-like configuration)
        del settings["AC_ALLOWED_LOCAL_HOSTS"]
    elif extra:
        settings["AC_ALLOWED_LOCAL_HOSTS"] = ",".join(h for h in (host, *extra.split(",")) if h)
    settings.update(overrides)
    return settings


def emulator_config(**overrides: Any) -> EmulatorConfig:
    config = EmulatorConfig(rate_scale=50.0, initial_false_s=0.0, processing_delay_s=0.0)
    for key, value in overrides.items():
        setattr(config, key, value)
    return config


@dataclass
class Stack:
    azurite: Azurite
    emulator: EmulatorServer
    settings: dict[str, str]
    host: StandInHost
    http: aiohttp.ClientSession
    samples: dict[str, Sample] = field(default_factory=dict)

    @property
    def api(self) -> LocalApi:
        assert self.host.http_url is not None
        return LocalApi(self.http, f"{self.host.http_url}/api")

    async def call(self, method: str, path: str, body: Any = None, *, principal: str | None = ADMIN) -> tuple[int, Any]:
        return await self.api.call(method, path, body, principal=principal)

    async def connect(self, name: str = "ac") -> None:
        hostname = self.emulator.url.removeprefix("http://")
        await self.api.put_connection(
            name, hostname=hostname, api_key=self.emulator.api_key, usable_by="admins-and-contributors"
        )

    async def create_export(self, name: str, **fields: Any) -> dict[str, Any]:
        body = {
            "connection": "ac",
            "listId": 1,
            "segments": ["ActiveCustomers"],
            "mapping": {"email": "Email", "firstName": "FirstName", "lastName": "LastName", "phone": "Phone"},
            "schedule": "manual",
        }
        body.update(fields)
        return dict(await self.api.put_export(name, body))

    def container(self, name: str) -> ContainerClient:
        return ContainerClient.from_connection_string(self.azurite.connection_string, name)

    async def write_sample(self, options: SampleOptions | Sample) -> tuple[Sample, Oracle]:
        sample = options if isinstance(options, Sample) else generate(options)
        async with self.container(self.settings["SNAPSHOT_CONTAINER"]) as container:
            await write_snapshot(container, sample, root=SNAPSHOT_ROOT)
        # a snapshot's written_at is its blobs' last-modified second: the next one lands in a later second
        await asyncio.sleep(1.01 - time.time() % 1)
        return sample, oracle(sample)

    async def export_id(self, export: str) -> str:
        """The immutable id of the export that has this name now (its runs and state live under it)."""
        return str((await self.api.get_export(export))["id"])

    async def run_path(self, export: str, run_id: str, name: str = "") -> str:
        """A working file of a run in the runs container (runs/<exportId>/<runId>/<name>)."""
        return f"{await self.export_id(export)}/{run_id}/{name}"

    async def start_run(self, export: str, **options: Any) -> str:
        return await self.api.start_run(export, **options)

    async def wait_run(self, export: str, run_id: str, timeout: float = 60.0) -> dict[str, Any]:
        return await self.api.wait_run(export, run_id, timeout=timeout)

    async def imports_accepted(self, at_least: int, timeout: float = 30.0) -> None:
        """Wait until the emulator has accepted `at_least` bulk imports (the run is mid-send)."""
        await eventually(lambda: len(self.emulator.state.batches) >= at_least, timeout=timeout)

    async def run(self, export: str, timeout: float = 60.0, **options: Any) -> dict[str, Any]:
        return await self.wait_run(export, await self.start_run(export, **options), timeout)

    async def report(self, export: str, run_id: str) -> list[dict[str, str]]:
        return await self.api.report(export, run_id)

    def workers(self, functions: tuple[str, ...] = ("shard_worker",)) -> StandInHost:
        """Another in-process host on the same settings, running only `functions` (start it with `async with`)."""
        return StandInHost(
            function_app.app,
            self.settings,
            HostConfig(queues=FAST_QUEUES),
            functions=list(functions),
            enable_http=False,
            enable_timers=False,
        )

    async def restart_host(self, functions: list[str]) -> None:
        """Replace the host (and its HTTP API) with one that runs only `functions`."""
        await self.host.stop()
        self.host = StandInHost(
            function_app.app,
            self.settings,
            HostConfig(queues=FAST_QUEUES),
            functions=functions,
            http_port=0,
            enable_timers=False,
        )
        await self.host.start()

    async def inspect(self, path: str) -> Any:
        """The emulator's /_emulator/ inspection routes."""
        async with self.http.get(f"{self.emulator.url}/_emulator/{path.lstrip('/')}") as response:
            assert response.status == 200, await response.text()
            return await response.json()

    def members(self, list_id: int = 1) -> dict[str, int]:
        return self.emulator.state.list_members(list_id)


ALL_BUT_SHARDS = [spec.name for spec in index_app(function_app.app) if spec.name != "shard_worker"]


async def start_stack(
    azurite: Azurite,
    tmp: Path,
    config: EmulatorConfig | None = None,
    functions: list[str] | None = None,
    **overrides: str,
) -> tuple[EmulatorServer, StandInHost, dict[str, str]]:
    emulator = await EmulatorServer(config or emulator_config()).start()
    settings = app_settings(azurite, emulator.url, tmp, **overrides)
    host = StandInHost(
        function_app.app,
        settings,
        HostConfig(queues=FAST_QUEUES),
        functions=functions,
        http_port=0,
        enable_timers=False,
        message_lease_s=10,
    )
    await host.start()
    return emulator, host, settings


@contextlib.asynccontextmanager
async def running_stack(server: Azurite, tmp: Path, **options: Any) -> AsyncIterator[Stack]:
    """The emulator and the host on a started Azurite, as a Stack; afterwards everything stops, Azurite too
    (the host that is current then: a test may have replaced it)."""
    emulator = stack = None
    try:
        emulator, host, settings = await start_stack(server, tmp, **options)
        stack = Stack(server, emulator, settings, host, aiohttp.ClientSession())
        async with stack.http:
            yield stack
    finally:
        if stack is not None:
            await stack.host.stop()
        await close_services()
        if emulator is not None:
            await emulator.stop()
        server.stop()


class HostProcess:
    """The stand-in host in a child process (python -m local.host), so a test can kill it like a crashed worker."""

    def __init__(self, settings: dict[str, str], tmp: Path, functions: list[str], *, lease_s: float = 4) -> None:
        self._settings_file = tmp / f"local.settings.{len(list(tmp.glob('local.settings.*')))}.json"
        self._settings_file.write_text(json.dumps({"IsEncrypted": False, "Values": settings}))
        self._args = child_command(  # under the leak probe's taps, which report to the session (tests/leakprobe.py)
            "local.host",
            "--settings",
            str(self._settings_file),
            "--no-http",
            "--no-timers",
            "--functions",
            ",".join(functions),
            "--message-lease",
            str(lease_s),
            "--log-level",
            "WARNING",
        )
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> HostProcess:
        self.process = subprocess.Popen(self._args, cwd=str(REPO_ROOT), start_new_session=True)
        return self

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()
