"""The leak probe: every API key the API suite used must appear nowhere it could be read back.

The suite registers each key it invents (`Ledger.new_key`), every HTTP response it got
and every queue message the triggers set.  A handler on the root logger keeps every
log record (DEBUG and up) while tests/api runs.  `scan()` then searches, for each key:
every blob in every Azurite container, every queue message (raw and base64-decoded),
every log record (message, arguments, exception text and extra fields) and every
response (status line, headers and body); raw and in every encoding tests/security/probe.py's
`expand` decodes (base64 at any alignment, URL-encoded, hex).
"""

from __future__ import annotations

import base64
import binascii
import logging
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from azure.core.exceptions import ResourceNotFoundError
from azure.storage.blob.aio import BlobServiceClient
from azure.storage.queue.aio import QueueServiceClient

from tests.security.probe import expand

STANDARD_RECORD_FIELDS = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}
PEEK_LIMIT = 32


@dataclass(frozen=True)
class Hit:
    channel: str  # "blob", "queue", "log", "response"
    where: str


class RecordKeeper(logging.Handler):
    """Keeps every record it sees, formatted as text that includes exceptions and extra fields."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.texts: list[tuple[str, str]] = []  # (logger name, text)

    def emit(self, record: logging.LogRecord) -> None:
        parts = [record.getMessage(), repr(record.args)]
        if record.exc_info:
            parts.append(logging.Formatter().formatException(record.exc_info))
        if record.exc_text:
            parts.append(record.exc_text)
        if record.stack_info:
            parts.append(record.stack_info)
        parts.extend(f"{k}={v!r}" for k, v in record.__dict__.items() if k not in STANDARD_RECORD_FIELDS)
        self.texts.append((record.name, "\n".join(parts)))


@dataclass
class Ledger:
    keys: set[str] = field(default_factory=set)
    responses: list[tuple[str, bytes]] = field(default_factory=list)  # (label, status + headers + body)
    messages: list[str] = field(default_factory=list)
    logs: RecordKeeper = field(default_factory=RecordKeeper)

    def new_key(self, label: str = "key") -> str:
        """A fresh API key the suite will use (and later look for everywhere)."""
        key = f"{label}-{secrets.token_hex(20)}"
        self.keys.add(key)
        return key

    def record_response(self, label: str, status: int, headers: Mapping[str, str], body: bytes) -> None:
        head = f"{status}\n" + "\n".join(f"{k}: {v}" for k, v in headers.items())
        self.responses.append((label, head.encode() + b"\n\n" + body))


def _expanded(data: str | bytes) -> bytes:
    """`data` with every encoded run decoded next to it (done once per text, then searched for every key)."""
    return expand(data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data)


def _betraying(data: str | bytes, keys: list[str]) -> list[str]:
    text = _expanded(data)
    return [key for key in keys if key.encode() in text]


def _decoded(text: str) -> str:
    try:
        return base64.b64decode(text, validate=True).decode("utf-8", "replace")
    except (binascii.Error, ValueError):
        return ""


async def scan_storage(connection_string: str, keys: Iterable[str]) -> list[Hit]:
    keys = list(keys)
    hits: list[Hit] = []
    async with BlobServiceClient.from_connection_string(connection_string) as blobs:
        async for container in blobs.list_containers():
            client = blobs.get_container_client(container.name)
            async for blob in client.list_blobs():
                try:
                    data = await (await client.download_blob(blob.name)).readall()
                except ResourceNotFoundError:
                    continue  # deleted while scanning
                hits.extend(Hit("blob", f"{container.name}/{blob.name}") for _ in _betraying(data, keys))
    async with QueueServiceClient.from_connection_string(connection_string) as queues:
        async for queue in queues.list_queues():
            client = queues.get_queue_client(queue.name)
            count = (await client.get_queue_properties()).approximate_message_count or 0
            if count <= PEEK_LIMIT:
                contents = [str(m.content) for m in await client.peek_messages(max_messages=PEEK_LIMIT)]
            else:  # peek stops at 32: read them all (hidden for 30 s, then visible again)
                contents = [
                    str(m.content) async for m in client.receive_messages(max_messages=count, visibility_timeout=30)
                ]
            for text in contents:
                found = set(_betraying(text, keys)) | set(_betraying(_decoded(text), keys))
                hits.extend(Hit("queue", queue.name) for _ in found)
    return hits


def scan_memory(ledger: Ledger, keys: Iterable[str]) -> list[Hit]:
    keys = list(keys)
    hits: list[Hit] = []
    for label, data in ledger.responses:
        hits.extend(Hit("response", label) for _ in _betraying(data, keys))
    for text in ledger.messages:
        hits.extend(Hit("queue-binding", text[:60]) for _ in _betraying(text, keys))
    for name, text in ledger.logs.texts:
        hits.extend(Hit("log", name) for _ in _betraying(text, keys))
    return hits


async def scan(ledger: Ledger, connection_string: str, keys: Iterable[str] | None = None) -> list[Hit]:
    """Every place `keys` (default: every key the suite used) was found."""
    chosen = sorted(ledger.keys if keys is None else set(keys))
    return scan_memory(ledger, chosen) + await scan_storage(connection_string, chosen)


LEDGER = Ledger()

__all__ = ["LEDGER", "Hit", "Ledger", "RecordKeeper", "scan", "scan_memory", "scan_storage"]
