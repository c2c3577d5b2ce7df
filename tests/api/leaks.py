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


def _betrays(data: str | bytes, key: str) -> bool:
    raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data
    return key.encode() in expand(raw)


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
                hits.extend(Hit("blob", f"{container.name}/{blob.name}") for key in keys if _betrays(data, key))
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
                for key in keys:
                    if _betrays(text, key) or _betrays(_decoded(text), key):
                        hits.append(Hit("queue", queue.name))
    return hits


def scan_memory(ledger: Ledger, keys: Iterable[str]) -> list[Hit]:
    hits: list[Hit] = []
    for key in keys:
        hits.extend(Hit("response", label) for label, data in ledger.responses if _betrays(data, key))
        hits.extend(Hit("queue-binding", text[:60]) for text in ledger.messages if _betrays(text, key))
        hits.extend(Hit("log", name) for name, text in ledger.logs.texts if _betrays(text, key))
    return hits


async def scan(ledger: Ledger, connection_string: str, keys: Iterable[str] | None = None) -> list[Hit]:
    """Every place `keys` (default: every key the suite used) was found."""
    chosen = sorted(ledger.keys if keys is None else set(keys))
    return scan_memory(ledger, chosen) + await scan_storage(connection_string, chosen)


LEDGER = Ledger()

__all__ = ["LEDGER", "Hit", "Ledger", "RecordKeeper", "scan", "scan_memory", "scan_storage"]
