"""Queue triggers and queue output bindings against Azurite, honouring host.json `queues`.

What the listener does, as the WebJobs queue extension does:
- fetches up to `batchSize` messages and runs them concurrently; fetches again when the
  number in flight drops to `newBatchThreshold` (so at most batchSize + newBatchThreshold run);
- backs off exponentially (up to `maxPollingInterval`) while the queue is empty;
- keeps a running message invisible (lease, renewed at half its length) and deletes it on success;
- on failure makes it visible again after `visibilityTimeout`; once a message has been
  dequeued `maxDequeueCount` times and fails, moves it to `<queue>-poison`;
- decodes base64 when `messageEncoding` is base64 (a bad body is a failed invocation);
- passes the dequeue count and the other message properties in `QueueMessage`.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import logging
import random
from collections.abc import Awaitable, Callable
from typing import Any

from azure.core.exceptions import ResourceExistsError, ResourceNotFoundError
from azure.functions.queue import QueueMessage as FuncQueueMessage
from azure.storage.queue import QueueMessage as StorageQueueMessage
from azure.storage.queue.aio import QueueClient, QueueServiceClient

from local.host.config import QueuesConfig
from local.host.index import FunctionSpec

logger = logging.getLogger("local.host")
POISON_SUFFIX = "-poison"
MIN_POLL_S = 0.1


class QueueStore:
    """Queue clients per (connection setting, queue name), with the host's message encoding."""

    def __init__(self, settings: dict[str, str], config: QueuesConfig) -> None:
        self._settings = settings
        self._config = config
        self._services: dict[str, QueueServiceClient] = {}
        self._created: set[tuple[str, str]] = set()

    def client(self, connection: str, queue: str) -> QueueClient:
        service = self._services.get(connection)
        if service is None:
            conn = self._settings.get(connection) or self._settings.get(f"{connection}__queueServiceUri")
            if not conn or "=" not in conn:
                raise KeyError(
                    f"app setting {connection!r} must hold a storage connection string for the stand-in host "
                    "(identity-based connections only work in Azure)"
                )
            service = QueueServiceClient.from_connection_string(conn)
            self._services[connection] = service
        return service.get_queue_client(queue)

    async def ensure(self, connection: str, queue: str) -> QueueClient:
        client = self.client(connection, queue)
        if (connection, queue) not in self._created:
            with contextlib.suppress(ResourceExistsError):
                await client.create_queue()
            self._created.add((connection, queue))
        return client

    def encode(self, text: str) -> str:
        if self._config.message_encoding == "base64":
            return base64.b64encode(text.encode("utf-8")).decode("ascii")
        return text

    def decode(self, content: str) -> bytes:
        if self._config.message_encoding == "base64":
            return base64.b64decode(content.encode("ascii"), validate=True)
        return content.encode("utf-8")

    async def send(self, connection: str, queue: str, text: str, *, visibility_timeout: int | None = None) -> None:
        client = await self.ensure(connection, queue)
        await client.send_message(self.encode(text), visibility_timeout=visibility_timeout)

    async def close(self) -> None:
        for service in self._services.values():
            await service.close()
        self._services.clear()


Runner = Callable[[FunctionSpec, Any, str], Awaitable[None]]


class QueueListener:
    """Polls one trigger queue and runs its function for each message."""

    def __init__(
        self,
        spec: FunctionSpec,
        store: QueueStore,
        config: QueuesConfig,
        run: Runner,
        *,
        message_lease_s: float = 600.0,
    ) -> None:
        self.spec = spec
        self.queue_name = str(spec.trigger["queueName"])
        self.connection = str(spec.trigger.get("connection") or "AzureWebJobsStorage")
        self._store = store
        self._config = config
        self._run = run
        self._lease_s = max(1, round(message_lease_s))
        self._in_flight: set[asyncio.Task[None]] = set()
        self._slot_free = asyncio.Event()
        self._stopping = False
        self.active = 0
        self.max_active = 0

    async def run_forever(self) -> None:
        client = await self._store.ensure(self.connection, self.queue_name)
        delay = MIN_POLL_S
        while not self._stopping:
            if len(self._in_flight) > self._config.fetch_threshold:
                self._slot_free.clear()
                await self._slot_free.wait()
                continue
            try:
                messages = [
                    m
                    async for m in client.receive_messages(
                        messages_per_page=self._config.batch_size,
                        max_messages=self._config.batch_size,
                        visibility_timeout=self._lease_s,
                    )
                ]
            except ResourceNotFoundError:
                messages = []
                await self._store.ensure(self.connection, self.queue_name)
            except Exception:  # storage hiccup (Azurite restart): keep polling, like the host
                logger.warning("queue %s: receive failed; retrying", self.queue_name, exc_info=True)
                messages = []
            if not messages:
                await asyncio.sleep(delay * random.uniform(0.8, 1.2))
                delay = min(delay * 2, self._config.max_polling_interval_s)
                continue
            delay = MIN_POLL_S
            for message in messages:
                task = asyncio.create_task(self._process(client, message))
                self._in_flight.add(task)
                task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[None]) -> None:
        self._in_flight.discard(task)
        self._slot_free.set()

    async def stop(self) -> None:
        self._stopping = True
        self._slot_free.set()
        tasks = list(self._in_flight)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _process(self, client: QueueClient, message: StorageQueueMessage) -> None:
        receipt = _Receipt(message.pop_receipt or "")
        renewer = asyncio.create_task(self._renew(client, message, receipt))
        dequeue_count = int(message.dequeue_count or 1)
        ok = False
        try:
            if dequeue_count > self._config.max_dequeue_count:
                logger.warning("queue %s: message %s over maxDequeueCount", self.queue_name, message.id)
            else:
                self.active += 1
                self.max_active = max(self.max_active, self.active)
                try:
                    body = self._store.decode(str(message.content))
                    trigger = FuncQueueMessage(  # type: ignore[no-untyped-call]
                        id=message.id,
                        body=body,
                        dequeue_count=dequeue_count,
                        expiration_time=message.expires_on,
                        insertion_time=message.inserted_on,
                        time_next_visible=message.next_visible_on,
                        pop_receipt=message.pop_receipt,
                    )
                    await self._run(self.spec, trigger, f"New queue message detected on '{self.queue_name}'.")
                    ok = True
                except (binascii.Error, ValueError) as exc:
                    logger.warning("queue %s: message %s could not be bound: %s", self.queue_name, message.id, exc)
                except asyncio.CancelledError:
                    raise
                except Exception:
                    logger.exception("queue %s: function %s failed", self.queue_name, self.spec.name)
                finally:
                    self.active -= 1
        finally:
            renewer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await renewer
        await self._complete(client, message, receipt, ok, dequeue_count)

    async def _complete(
        self, client: QueueClient, message: StorageQueueMessage, receipt: _Receipt, ok: bool, dequeue_count: int
    ) -> None:
        try:
            if ok:
                await client.delete_message(message.id, receipt.value)
            elif dequeue_count >= self._config.max_dequeue_count:
                poison = self.queue_name + POISON_SUFFIX
                logger.warning(
                    "queue %s: message %s failed %d times; moving it to %s",
                    self.queue_name,
                    message.id,
                    dequeue_count,
                    poison,
                )
                poison_client = await self._store.ensure(self.connection, poison)
                await poison_client.send_message(str(message.content))
                await client.delete_message(message.id, receipt.value)
            else:
                await client.update_message(
                    message.id, receipt.value, visibility_timeout=round(self._config.visibility_timeout_s)
                )
        except Exception:  # the message reappears after its lease anyway
            logger.warning("queue %s: could not complete message %s", self.queue_name, message.id, exc_info=True)

    async def _renew(self, client: QueueClient, message: StorageQueueMessage, receipt: _Receipt) -> None:
        while True:
            await asyncio.sleep(self._lease_s / 2)
            try:
                updated = await client.update_message(message.id, receipt.value, visibility_timeout=self._lease_s)
                receipt.value = str(updated.pop_receipt)
            except Exception:
                logger.warning("queue %s: could not renew message %s", self.queue_name, message.id, exc_info=True)


class _Receipt:
    """The latest pop receipt of a running message (each update issues a new one)."""

    def __init__(self, value: str) -> None:
        self.value = value
