"""Azurite (the app's storage: queues, checkpoints, leases, run documents) killed with SIGKILL mid-run, while the
shard workers write checkpoints and read and update the run record, then started again on its data.

What the product sees is an abrupt outage: the storage stops answering, then every connection drops and the
ports refuse connections, then it is back.  The app reaches Azurite through a TCP front (tests/fakes/tcp_front.py)
on fixed ports, so that the storage can be held before it dies: Azurite keeps its metadata in memory and saves it
to disk every 5 s (LokiJS autosave), so a bare SIGKILL also loses the writes it acknowledged in its last seconds,
and its blob and queue databases come back from different instants.  Azure Storage never loses an acknowledged
write, so the test holds the traffic, lets Azurite save everything it acknowledged (watched on its database
files), and only then kills it.  The storage calls in flight and those made during the outage fail; they are
counted on the Azure SDK's own spans (the telemetry the app exports), and each must be made again and answered.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest_asyncio
from azure.storage.blob.aio import BlobServiceClient
from azure.storage.queue.aio import QueueClient
from opentelemetry.sdk.trace import ReadableSpan

from local.azurite import Azurite, azurite
from local.sample_data import SampleOptions
from tests.e2e.stack import Stack, emulator_config, running_stack
from tests.fakes.tcp_front import TcpFront
from tests.faults.checks import (
    assert_delivered,
    assert_values_match,
    assert_writes_explained,
    sample_emails,
    storage_leaks,
    write_sample,
)
from tests.helpers import eventually
from tests.telemetry.conftest import Telemetry
from tests.telemetry.conftest import otel as otel  # the fixture: every span, the Azure SDK's included

# AC's real limits (5 requests/s) on both sides: the shards send for several seconds
PACED = {"AC_RATE_PER_SECOND": "5", "AC_BULK_PER_MINUTE": "100", "AC_BULK_SINGLE_PER_MINUTE": "20"}
CONNECTION_LOST = ("azure.core.exceptions.ServiceRequestError", "azure.core.exceptions.ServiceResponseError")
DATABASES = ("blob", "blob_extent", "queue", "queue_extent")  # Azurite's LokiJS files: __azurite_db_<name>__.json


class Storage:
    """A persistent Azurite, and the fronts the app reaches it through."""

    def __init__(self, server: Azurite) -> None:
        self.server = server
        self.fronts = [TcpFront(server.blob_port), TcpFront(server.queue_port)]

    @property
    def seen_by_app(self) -> Azurite:
        """Azurite as the app's settings name it: the fronts' ports."""
        return replace(self.server, blob_port=self.fronts[0].port, queue_port=self.fronts[1].port, process=None)

    def saved_at(self) -> dict[str, float]:
        assert self.server.location is not None
        return {name: (self.server.location / f"__azurite_db_{name}__.json").stat().st_mtime for name in DATABASES}

    async def saved_after_write(self) -> None:
        """Write a blob and a queue message straight to Azurite (past the fronts) and wait until each of its
        databases was saved again: a save that started after anything it had acknowledged before."""
        before = self.saved_at()
        async with BlobServiceClient.from_connection_string(self.server.connection_string) as blobs:
            await blobs.get_container_client("state").upload_blob("outage-marker", b"x", overwrite=True)
        async with QueueClient.from_connection_string(self.server.connection_string, "outage-marker") as queue:
            await queue.create_queue()
            await queue.send_message("x")
            await queue.delete_queue()
        await eventually(lambda: all(t != before[n] for n, t in self.saved_at().items()), timeout=30)

    async def kill(self) -> None:
        for front in self.fronts:
            front.hold()  # the app's calls stop reaching Azurite: they hang
        await self.saved_after_write()  # a save may have been under way when the first write came in:
        await self.saved_after_write()  # the second save began after the first one ended
        self.server.kill()  # SIGKILL
        for front in self.fronts:
            await front.cut()  # every connection drops, the ports refuse connections

    async def revive(self) -> None:
        await asyncio.to_thread(self.server.revive)  # same ports, same data on disk
        for front in self.fronts:
            await front.open()


@pytest_asyncio.fixture
async def storage(tmp_path: Path) -> AsyncIterator[Storage]:
    server = azurite(location=tmp_path / "azurite", log_path=tmp_path / "azurite.log").start()
    outage = Storage(server)
    try:
        for front in outage.fronts:
            await front.open()
        yield outage
    finally:
        for front in outage.fronts:
            await front.close()
        server.stop()  # the session's leak probe scans it (keys) before it stops


@pytest_asyncio.fixture
async def stack(storage: Storage, tmp_path: Path) -> AsyncIterator[Stack]:
    async with running_stack(storage.seen_by_app, tmp_path, config=emulator_config(rate_scale=1.0), **PACED) as live:
        yield live


def storage_calls(otel: Telemetry, ports: set[int]) -> list[tuple[str, str, ReadableSpan]]:
    """(method, path, span) of every HTTP attempt the Azure SDK made to the storage, in the order they ended."""
    calls = []
    for span in otel.spans:
        attributes: dict[str, Any] = dict(span.attributes or {})
        url = urlsplit(str(attributes.get("url.full", "")))
        if url.port in ports and "http.request.method" in attributes:
            calls.append((str(attributes["http.request.method"]), url.path, span))
    return calls


def lost(span: ReadableSpan) -> bool:
    return (span.attributes or {}).get("error.type") in CONNECTION_LOST


async def test_storage_killed_mid_run_loses_nothing_counts_nothing_twice_and_leaks_nothing(
    storage: Storage, stack: Stack, otel: Telemetry
) -> None:
    await stack.connect()
    await stack.create_export("outage")
    sample, answer = await write_sample(stack, SampleOptions(profiles=3000, seed=51, partitions=1))
    run_id = await stack.start_run("outage")
    await stack.imports_accepted(3)
    imports_at_outage = len(stack.emulator.state.batches)
    ports = {front.port for front in storage.fronts}

    await storage.kill()

    def failed() -> list[tuple[str, str, ReadableSpan]]:
        return [call for call in storage_calls(otel, ports) if lost(call[2])]

    def failed_on(suffix: str) -> bool:
        return any(path.endswith(suffix) for _, path, _ in failed())

    await eventually(lambda: failed_on(".ckpt.json"), timeout=60)  # the shard workers were writing checkpoints
    await storage.revive()
    run = await stack.wait_run("outage", run_id, timeout=120)

    assert len(stack.emulator.state.batches) > imports_at_outage  # the storage died mid-run
    assert_delivered(run, stack, answer)
    # an import accepted just before the outage is sent again if its checkpoint could not be saved: then it is an
    # orphan, and its contacts hold the same values
    await assert_writes_explained(stack, "outage", run_id)
    assert_values_match(stack, sample)

    # every call of the app the outage broke was made again and answered: a blob call (checkpoints, run records,
    # shard and outcome files, leases) with the same method (by the SDK's retry, or the shard's redelivery), a
    # queue message's renewal by its renewal or completion (the host's receive polls are not the app's calls)
    calls = storage_calls(otel, ports)
    failures = [
        (i, method, path)
        for i, (method, path, span) in enumerate(calls)
        if lost(span) and not (method == "GET" and path.endswith("/messages"))
    ]

    def answered_later(i: int, method: str, path: str) -> bool:
        same_method = "/messages/" not in path
        return any(p == path and (m == method or not same_method) and not lost(s) for m, p, s in calls[i + 1 :])

    assert sum(path.endswith(".ckpt.json") and method == "PUT" for _, method, path in failures) >= 1
    assert [f for f in failures if not answered_later(*f)] == []

    leaks = await storage_leaks(stack.azurite.connection_string, sample_emails(sample), [stack.emulator.api_key])
    assert not leaks, leaks
