"""The stand-in host against real Azurite, with a test-only function app."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator

import aiohttp
import pytest
from azure.core.exceptions import ResourceNotFoundError
from azure.storage.queue import QueueMessage, TextBase64EncodePolicy
from azure.storage.queue.aio import QueueClient

from local.host import HostConfig, QueuesConfig, StandInHost
from tests.helpers import eventually
from tests.host.sample_app import Record, make_app

FAST_QUEUES = QueuesConfig(
    batch_size=3,
    new_batch_threshold=1,
    max_polling_interval_s=0.2,
    visibility_timeout_s=1.0,
    max_dequeue_count=3,
    message_encoding="base64",
)


@pytest.fixture
def record() -> Record:
    return Record()


@pytest.fixture
async def host(storage_connection: str, unique: str, record: Record) -> AsyncIterator[StandInHost]:
    settings = {"AzureWebJobsStorage": storage_connection, "TICK_SCHEDULE": "*/1 * * * * *"}
    host = StandInHost(
        make_app(unique, record), settings, HostConfig(queues=FAST_QUEUES), http_port=0, message_lease_s=5
    )
    await host.start()
    try:
        yield host
    finally:
        await host.stop()


def queue(conn: str, name: str, *, encode: bool = True) -> QueueClient:
    policy = TextBase64EncodePolicy() if encode else None
    return QueueClient.from_connection_string(conn, name, message_encode_policy=policy)


async def peek(client: QueueClient) -> list[QueueMessage]:
    """Messages in a queue that may not exist yet (the host creates poison queues on demand)."""
    try:
        return list(await client.peek_messages(max_messages=5))
    except ResourceNotFoundError:
        return []


async def test_base64_round_trip_and_output_binding(
    host: StandInHost, storage_connection: str, unique: str, record: Record
) -> None:
    # given a message sent base64-encoded, as the Functions SDKs do
    async with queue(storage_connection, f"{unique}-work") as work:
        await work.send_message("héllo wörld")
    # then the function saw the decoded text, and its output binding reached the sink queue
    await eventually(lambda: record.sink == ["echo:héllo wörld"])
    assert record.deliveries == [("héllo wörld", 1)]


async def test_output_binding_messages_are_base64_on_the_wire(
    storage_connection: str, unique: str, record: Record
) -> None:
    # given a host that runs only the worker (so the sink queue keeps its message)
    settings = {"AzureWebJobsStorage": storage_connection, "TICK_SCHEDULE": "*/1 * * * * *"}
    host = StandInHost(
        make_app(unique, record), settings, HostConfig(queues=FAST_QUEUES), functions=["worker"], enable_http=False
    )
    async with host:
        async with queue(storage_connection, f"{unique}-work") as work:
            await work.send_message("raw")
        await eventually(lambda: len(record.deliveries) == 1)
        async with queue(storage_connection, f"{unique}-sink", encode=False) as sink:

            async def arrived() -> bool:
                return bool(await sink.peek_messages(max_messages=1))

            await eventually(arrived)
            [message] = await sink.peek_messages(max_messages=1)
    assert base64.b64decode(message.content).decode() == "echo:raw"


async def test_redelivery_after_visibility_timeout_with_rising_dequeue_count(
    host: StandInHost, storage_connection: str, unique: str, record: Record
) -> None:
    async with queue(storage_connection, f"{unique}-work") as work:
        await work.send_message("fail-until-3")
    await eventually(lambda: record.sink == ["echo:fail-until-3"], timeout=15)
    assert record.deliveries == [("fail-until-3", 1), ("fail-until-3", 2), ("fail-until-3", 3)]


async def test_poison_after_max_dequeue_count(
    host: StandInHost, storage_connection: str, unique: str, record: Record
) -> None:
    async with queue(storage_connection, f"{unique}-work") as work:
        await work.send_message("always-fail")
    async with queue(storage_connection, f"{unique}-work-poison", encode=False) as poison:

        async def poisoned() -> bool:
            return bool(await peek(poison))

        await eventually(poisoned, timeout=15)
        messages = await poison.peek_messages(max_messages=5)
    # the original (still base64) content moved, after exactly maxDequeueCount attempts
    assert [base64.b64decode(m.content).decode() for m in messages] == ["always-fail"]
    assert [count for _, count in record.deliveries] == [1, 2, 3]
    async with queue(storage_connection, f"{unique}-work") as work:

        async def removed() -> bool:  # the host sends to the poison queue, then deletes the original
            return (await work.get_queue_properties()).approximate_message_count == 0

        await eventually(removed, timeout=15)


async def test_a_message_that_is_not_base64_is_a_failed_invocation(
    host: StandInHost, storage_connection: str, unique: str, record: Record
) -> None:
    async with queue(storage_connection, f"{unique}-work", encode=False) as work:
        await work.send_message("this is not base64!")
    async with queue(storage_connection, f"{unique}-work-poison", encode=False) as poison:

        async def poisoned() -> bool:
            return bool(await peek(poison))

        await eventually(poisoned, timeout=15)
    assert record.deliveries == []  # the function never ran


async def test_concurrency_is_bounded_by_batch_size(
    host: StandInHost, storage_connection: str, unique: str, record: Record
) -> None:
    async with queue(storage_connection, f"{unique}-work") as work:
        for i in range(12):
            await work.send_message(f"slow-{i}")
    await eventually(lambda: len(record.deliveries) == 12, timeout=20)
    await eventually(lambda: record.active == 0)
    # batchSize 3 + newBatchThreshold 1: never more than 4 at once, and parallel work did happen
    assert 2 <= record.max_active <= FAST_QUEUES.batch_size + FAST_QUEUES.fetch_threshold


async def test_timer_fires_on_its_schedule_and_on_request(host: StandInHost, record: Record) -> None:
    await eventually(lambda: record.ticks >= 1, timeout=5)
    before = record.ticks
    assert host.http_url is not None
    async with aiohttp.ClientSession() as http:
        response = await http.post(f"{host.http_url}/admin/functions/ticker", json={})
        assert response.status == 202
        missing = await http.post(f"{host.http_url}/admin/functions/nope", json={})
        assert missing.status == 404
    assert record.ticks >= before + 1


async def test_http_routes_with_route_parameters_and_status_codes(host: StandInHost) -> None:
    base = f"{host.http_url}/api"
    async with aiohttp.ClientSession() as http:
        put = await http.put(f"{base}/items/alpha", data=b'{"a": 1}')
        assert put.status == 201
        assert put.headers["Location"] == "/api/items/alpha"
        assert await put.json() == {"a": 1}
        get = await http.get(f"{base}/items/beta", params={"q": "x"})
        assert (get.status, await get.text()) == (200, "beta:x")
        missing = await http.get(f"{base}/items/missing")
        assert missing.status == 404
        assert await missing.json() == {"error": "not found"}
        deleted = await http.delete(f"{base}/items/alpha")
        assert deleted.status == 204
        wrong_method = await http.post(f"{base}/items/alpha")
        assert wrong_method.status == 405
        crash = await http.get(f"{base}/boom")
        assert crash.status == 500
        assert "unhandled" not in await crash.text()  # no stack trace leaks out


async def test_http_output_binding_enqueues_after_success(host: StandInHost, record: Record) -> None:
    async with aiohttp.ClientSession() as http:
        response = await http.post(f"{host.http_url}/api/enqueue", data=b"from-http")
        assert response.status == 202
    await eventually(lambda: record.sink == ["echo:from-http"])
