"""The session-wide leak probe: what it watches, what it looks for, and what it found.

What it looks for (a `Probe` holds both):
- API keys: the recognisable key every emulator gets by default (patched in at session start),
  every key tests/api invents (its ledger), every key an `ActiveCampaignClient` is built with
  (in this process or a child's), and any key a test registers.  Keys shorter than
  `KEY_MIN_LENGTH` are not tracked (the emulator's own unit tests use keys like "t").  A key is
  matched raw and encoded, in the text and in every decoding `expand` adds: base64 (standard and
  URL-safe alphabets, at any alignment inside a longer base64 text), hex (either case) and
  URL-encoding (`quote` or `quote_plus`, either case of escapes), when the text is seen; a key
  registered later is not searched for in what was seen before it (texts from child processes are
  read at the end, when every key is known).
- Sample emails: every email of every sample snapshot written with local.sample_data
  (normalised: trimmed, lowercased).  Email-like tokens are kept from every text seen where PII
  must not go, so a sample written later still counts.

Where emails may legitimately be (`blob_may_hold_emails`, `response_may_hold_emails`; anywhere else a
sample email is a hit):
- blobs: the rows an export moves (`*.arrow` in the runs and state containers: shards, outcomes,
  plan and finalize reports, incremental state) and the per-row report (`runs/**/report.csv`);
  every container that is not the app's own (config, runs, state) holds customer input (the
  snapshots) or a test's own data;
- HTTP responses: only a 200 of the report downloads (`run_report`, `retired_run_report`);
- requests to ActiveCampaign: not watched (the contacts go there; its Api-Token header is the key).
So a sample email is a hit in any log record, span, exception text, queue message (as sent or
left in Azurite), HTTP response but the report downloads, config document, run document
(`run.json`), checkpoint, ledger or state `meta.json`.

Where it looks (the `Taps`, installed once per process, report to every attached probe):
- log: every record of every logger (a root handler at DEBUG), as message, arguments,
  exception text, stack and extra fields;
- span: every finished span (an InMemorySpanExporter on the SDK TracerProvider): name,
  attributes, events and their attributes, status text, links;
- response: every azure.functions.HttpResponse the app builds (status, headers, body), named by
  the API operation that built it;
- queue: every message sent with the Storage queue SDK (as sent and base64-decoded);
- exception: every ExportError's message and details, when it is constructed;
- blob / queue: every blob and every message left in each Azurite when it stops
  (Arrow IPC blobs are decompressed first; poison queues are queues like any other);
- child: the product in child processes (tests/e2e/stack.py's HostProcess, tests.lane_holder)
  runs under tests/security/child_tap.py, which installs the same taps there (logs at DEBUG,
  spans, responses, queue sends, ExportError texts, and uncaught exceptions of the main thread
  and of other threads) and writes each observation as a JSON line to a file in the folder
  `CHILD_DIR_ENV` names (one file per process, written with one append per record, so a
  SIGKILL loses nothing already written); the session reads them at its end (`scan_children`).
The AC emulator's loggers and the tests' own loggers are not the product and are not watched.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import fnmatch
import functools
import json
import logging
import re
import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Final
from urllib.parse import quote, unquote_to_bytes

import aiohttp
import pyarrow as pa
import pyarrow.ipc as ipc
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

KEY_MIN_LENGTH: Final = 12
IGNORED_LOGGERS: Final = ("local.activecampaign_emulator", "tests.")
CHILD_DIR_ENV: Final = "LEAKPROBE_CHILD_DIR"
APP_CONTAINERS: Final = frozenset({"config", "runs", "state"})  # shared/names.py ALL_CONTAINERS
EMAIL_BLOBS: Final = {"runs": ("*.arrow", "*/report.csv"), "state": ("*.arrow",)}
EMAIL_RESPONSES: Final = frozenset({("run_report", 200), ("retired_run_report", 200)})  # (operation, status)
EMAIL_STOP: Final = frozenset("@<>()[]{},;:\"'`=/\\|")
EMAIL_DOMAIN: Final = re.compile(r"[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63}){0,8}\.[A-Za-z]{2,24}(?![A-Za-z0-9-])")
MAX_LOCAL: Final = 254
STANDARD_RECORD_FIELDS: Final = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}
PEEK_LIMIT: Final = 32
URLSAFE_TO_STANDARD: Final = bytes.maketrans(b"-_", b"+/")


@dataclass(frozen=True)
class Hit:
    what: str  # "key" or "email"
    channel: str  # log, span, response, queue, exception, blob
    where: str  # logger name, span name, queue or blob name, ...

    def __str__(self) -> str:
        return f"{self.what} in {self.channel}: {self.where}"


@dataclass
class Probe:
    """Keys and emails to look for, and every place one was found."""

    name: str
    key_sources: list[Callable[[], Iterable[str]]] = field(default_factory=list)
    keys: set[str] = field(default_factory=set)
    emails: set[str] = field(default_factory=set)
    hits: list[Hit] = field(default_factory=list)
    seen: dict[str, int] = field(default_factory=dict)  # channel -> texts observed
    _tokens: dict[str, set[tuple[str, str]]] = field(default_factory=dict)  # email-like token -> {(channel, where)}
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def register_key(self, key: str) -> str:
        if len(key) >= KEY_MIN_LENGTH:
            self.keys.add(key)
        return key

    def register_emails(self, emails: Iterable[str | None]) -> None:
        self.emails.update(e.strip().lower() for e in emails if e and "@" in e)

    def all_keys(self) -> set[str]:
        found = set(self.keys)
        for source in self.key_sources:
            found.update(k for k in source() if len(k) >= KEY_MIN_LENGTH)
        return found

    def observe(self, channel: str, where: str, data: str | bytes, *, emails_allowed: bool = False) -> None:
        """Search one text (or bytes) seen in `channel` for every key in every form, and, unless emails may
        be there (`emails_may_be_in`), keep its email-like tokens."""
        raw = data if isinstance(data, bytes) else data.encode("utf-8", "surrogatepass")
        keys = self.all_keys()
        expanded = expand(raw, min(len(k.encode("utf-8")) for k in keys)) if keys else raw
        found = [Hit("key", channel, where) for key in keys if key.encode("utf-8") in expanded]
        with self._lock:
            self.seen[channel] = self.seen.get(channel, 0) + 1
            self.hits.extend(h for h in found if h not in self.hits)
            if not emails_allowed and b"@" in raw:
                text = data if isinstance(data, str) else data.decode("utf-8", "replace")
                for token in email_tokens(text):
                    self._tokens.setdefault(token.lower(), set()).add((channel, where))

    def observe_spans(self, spans: Iterable[ReadableSpan]) -> None:
        for span in spans:
            self.observe("span", span.name, span_text(span))

    def verdict(self) -> list[Hit]:
        """Every hit so far: keys where they were seen, and sample emails among the tokens kept."""
        with self._lock:
            emails = [Hit("email", c, w) for t, places in self._tokens.items() if t in self.emails for c, w in places]
            return [*self.hits, *(h for h in emails if h not in self.hits)]

    def report(self) -> str:
        hits = self.verdict()
        counts = ", ".join(f"{c}={n}" for c, n in sorted(self.seen.items())) or "nothing"
        lines = [f"leak probe {self.name!r}: {len(hits)} hit(s); watched {counts}"]
        lines += [f"  - {hit}" for hit in hits]
        return "\n".join(lines)


def expand(raw: bytes, shortest_key: int = KEY_MIN_LENGTH) -> bytes:
    """`raw` followed by every decoding of it a key could hide in: each run of base64 characters (standard
    or URL-safe alphabet) decoded at each of its four offsets, each run of hex digits at each of its two,
    and the whole text URL-decoded (with `+` as `+` and as a space) when it has a `%`.  Only runs long
    enough to encode the shortest key looked for are decoded (4/3 and twice its length).  A key is
    betrayed when it is a substring of this (searched once per key: the cost of a raw search)."""
    base64_run, hex_run = _runs(max(shortest_key, KEY_MIN_LENGTH))
    parts = [raw]
    for found in base64_run.findall(raw):  # (hex digits are base64 characters: hex runs lie inside these)
        run = found.rstrip(b"=").translate(URLSAFE_TO_STANDARD)
        for offset in range(4):
            chunk = run[offset:]
            rest = len(chunk) % 4  # a last group of 2 or 3 characters holds 1 or 2 bytes: pad it
            chunk = chunk[:-1] if rest == 1 else chunk + b"=" * ((4 - rest) % 4)
            with contextlib.suppress(binascii.Error, ValueError):
                parts.append(base64.b64decode(chunk))
        for digits in hex_run.findall(found):
            for offset in range(2):
                chunk = digits[offset:]
                parts.append(binascii.unhexlify(chunk[: len(chunk) - len(chunk) % 2]))
    if b"%" in raw:
        parts.append(unquote_to_bytes(raw))
        parts.append(unquote_to_bytes(raw.replace(b"+", b" ")))
    return b"\n".join(parts)


@functools.lru_cache(maxsize=64)
def _runs(key_length: int) -> tuple[re.Pattern[bytes], re.Pattern[bytes]]:
    """The runs of base64 characters and of hex digits that can hold a key of `key_length` bytes."""
    return re.compile(rb"[A-Za-z0-9+/_-]{%d,}=*" % (key_length * 4 // 3)), re.compile(
        rb"[0-9A-Fa-f]{%d,}" % (2 * key_length)
    )


def blob_may_hold_emails(container: str, name: str) -> bool:
    """Emails belong in the rows an export moves and in its report, and in containers that are not the app's."""
    if container not in APP_CONTAINERS:
        return True  # the snapshots (customer input) and the tests' own containers
    return any(fnmatch.fnmatchcase(name, pattern) for pattern in EMAIL_BLOBS.get(container, ()))


def response_may_hold_emails(operation: str | None, status: int) -> bool:
    return (operation, status) in EMAIL_RESPONSES


def email_tokens(text: str) -> list[str]:
    """Email-like tokens, in time linear in the text (a regex with an unbounded local part backtracks
    quadratically over long runs of characters, such as a 1 MB field)."""
    found: list[str] = []
    at = text.find("@")
    while at != -1:
        left = at
        while left > 0 and at - left < MAX_LOCAL and not text[left - 1].isspace() and text[left - 1] not in EMAIL_STOP:
            left -= 1
        domain = EMAIL_DOMAIN.match(text, at + 1)
        if domain and left < at:
            found.append(text[left : domain.end()])
        at = text.find("@", at + 1)
    return found


def record_text(record: logging.LogRecord) -> str:
    try:
        message = record.getMessage()
    except Exception:  # a broken format string must not hide the arguments
        message = str(record.msg)
    parts = [message, repr(record.args)]
    if record.exc_info:
        parts.append(logging.Formatter().formatException(record.exc_info))
    if record.exc_text:
        parts.append(record.exc_text)
    if record.stack_info:
        parts.append(record.stack_info)
    parts.extend(f"{k}={v!r}" for k, v in record.__dict__.items() if k not in STANDARD_RECORD_FIELDS)
    return "\n".join(parts)


def span_text(span: ReadableSpan) -> str:
    parts = [span.name, repr(dict(span.attributes or {}))]
    parts.extend(f"{event.name} {dict(event.attributes or {})!r}" for event in span.events)
    parts.extend(repr(dict(link.attributes or {})) for link in span.links)
    if span.status.description:
        parts.append(span.status.description)
    return "\n".join(parts)


def decoded(text: str) -> str:
    try:
        return base64.b64decode(text, validate=True).decode("utf-8", "replace")
    except (binascii.Error, ValueError):
        return ""


def expand_blob(data: bytes) -> bytes:
    """Arrow IPC files are zstd-compressed: rewrite them uncompressed, so their strings can be searched."""
    if not data.startswith(b"ARROW1"):
        return data
    try:
        table = ipc.open_file(pa.BufferReader(data)).read_all()
    except pa.ArrowException:
        return data
    sink = pa.BufferOutputStream()
    with ipc.new_file(sink, table.schema) as writer:
        writer.write_table(table)
    return data + sink.getvalue().to_pybytes()


def scan_storage(probes: Iterable[Probe], connection_string: str, label: str) -> None:
    """Every blob and every queue message (poison queues included) in one storage account."""
    from azure.storage.queue import QueueServiceClient

    targets = list(probes)
    for container, name, data in _all_blobs(connection_string):
        allowed = blob_may_hold_emails(container, name)
        for probe in targets:
            probe.observe("blob", f"{label}:{container}/{name}", expand_blob(data), emails_allowed=allowed)
    with QueueServiceClient.from_connection_string(connection_string) as queues:
        for queue in queues.list_queues():
            queue_client = queues.get_queue_client(queue.name)
            for text in _queue_texts(queue_client):
                for probe in targets:
                    probe.observe("queue", f"{label}:{queue.name}", text + "\n" + decoded(text))


SCAN_READS: Final = 8


def _all_blobs(connection_string: str) -> list[tuple[str, str, bytes]]:
    """(container, name, content) of every blob.  Listed with the SDK, read as plain GETs under a read-only
    account SAS, SCAN_READS at a time: the SDK's pipeline cost ~8 ms of Python per blob, and a test's storage
    holds hundreds (a run writes its shards, checkpoints, split files and report): 6.4 s -> 2.0 s for 605."""
    from azure.storage.blob import AccountSasPermissions, BlobServiceClient, ResourceTypes, generate_account_sas

    with BlobServiceClient.from_connection_string(connection_string) as service:
        containers = [service.get_container_client(c.name) for c in service.list_containers()]
        names = [(c.container_name, b.name) for c in containers for b in c.list_blobs()]
        base, credential = service.url.rstrip("/"), service.credential
    sas = generate_account_sas(
        credential.account_name,
        credential.account_key,
        resource_types=ResourceTypes(object=True),
        permission=AccountSasPermissions(read=True),
        expiry=datetime.now(UTC) + timedelta(hours=1),
    )

    async def read_all() -> list[tuple[str, str, bytes]]:
        gate = asyncio.Semaphore(SCAN_READS)
        async with aiohttp.ClientSession() as http:

            async def read(container: str, name: str) -> tuple[str, str, bytes] | None:
                async with gate, http.get(f"{base}/{container}/{quote(name)}?{sas}") as response:
                    if response.status == 404:  # deleted since it was listed
                        return None
                    response.raise_for_status()
                    return container, name, await response.read()

            found = await asyncio.gather(*(read(c, n) for c, n in names))
        return [f for f in found if f is not None]

    with ThreadPoolExecutor(1) as thread:  # its own loop: callers may be inside one (an async fixture's teardown)
        return thread.submit(asyncio.run, read_all()).result()


def _queue_texts(client: Any) -> list[str]:
    count = client.get_queue_properties().approximate_message_count or 0
    if count <= PEEK_LIMIT:
        return [str(m.content) for m in client.peek_messages(max_messages=PEEK_LIMIT)]
    return [str(m.content) for m in client.receive_messages(max_messages=count, visibility_timeout=30)]


class Sink:
    """Where taps report what they see: `Taps` (this process's probes) or a child's file (child_tap.py)."""

    def observe(self, channel: str, where: str, data: str | bytes, *, emails_allowed: bool = False) -> None:
        raise NotImplementedError

    def register_key(self, key: str) -> None:
        raise NotImplementedError

    def active(self) -> bool:
        return True


class LogTap(logging.Handler):
    def __init__(self, sink: Sink) -> None:
        super().__init__(level=logging.DEBUG)
        self._sink = sink

    def emit(self, record: logging.LogRecord) -> None:
        if record.name.startswith(IGNORED_LOGGERS) or not self._sink.active():
            return
        self._sink.observe("log", record.name, record_text(record))


def read_child_records(path: Path, offset: int = 0) -> tuple[list[dict[str, Any]], int]:
    """The complete JSON lines of a child's file from `offset`, and the offset after them.  A line that is
    not JSON is kept as a log text (nothing a child wrote goes unread)."""
    with path.open("rb") as file:
        file.seek(offset)
        data = file.read()
    end = data.rfind(b"\n") + 1
    records: list[dict[str, Any]] = []
    for line in data[:end].splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            record = {"c": "log", "w": "unparsed", "t": line.decode("utf-8", "surrogateescape")}
        records.append(record if isinstance(record, dict) else {"c": "log", "w": "unparsed", "t": str(record)})
    return records, offset + end


def observe_child_records(probes: Iterable[Probe], path: Path, records: Iterable[dict[str, Any]]) -> None:
    targets = list(probes)
    for record in records:
        if "key" in record:
            for probe in targets:
                probe.register_key(str(record["key"]))
            continue
        text = str(record.get("t", ""))
        try:
            data = text.encode("utf-8", "surrogateescape")
        except UnicodeEncodeError:
            data = text.encode("utf-8", "surrogatepass")
        where = f"{path.stem}: {record.get('w', '?')}"
        for probe in targets:
            probe.observe(f"child {record.get('c', 'log')}", where, data, emails_allowed=bool(record.get("ok")))


@dataclass
class Taps(Sink):
    """The process's instruments; each observation goes to every attached probe."""

    probes: list[Probe] = field(default_factory=list)
    spans: InMemorySpanExporter = field(default_factory=InMemorySpanExporter)
    running_storage: dict[int, Callable[[], str]] = field(default_factory=dict)  # id -> connection string
    child_dir: Path | None = None  # where child processes write what their taps saw (CHILD_DIR_ENV)
    child_offsets: dict[Path, int] = field(default_factory=dict)  # how far the session probe has read each file

    def observe(self, channel: str, where: str, data: str | bytes, *, emails_allowed: bool = False) -> None:
        for probe in self.probes:
            probe.observe(channel, where, data, emails_allowed=emails_allowed)

    def register_key(self, key: str) -> None:
        """A key the product was given (an ActiveCampaignClient's): the session's probe looks for it."""
        if self.probes:
            self.probes[0].register_key(key)

    def active(self) -> bool:
        return bool(self.probes)

    def scan_children(self, probe: Probe) -> int:
        """Feed `probe` what child processes wrote since the last call; the number of records read."""
        if self.child_dir is None or not self.child_dir.is_dir():
            return 0
        count = 0
        for path in sorted(self.child_dir.glob("*.jsonl")):
            records, self.child_offsets[path] = read_child_records(path, self.child_offsets.get(path, 0))
            observe_child_records([probe], path, records)
            count += len(records)
        return count

    @contextlib.contextmanager
    def attached(self, probe: Probe) -> Iterator[Probe]:
        """Attach a probe for a while (the self-tests); spans already finished are searched too."""
        self.probes.append(probe)
        try:
            yield probe
        finally:
            self.probes.remove(probe)

    def scan_spans(self, probe: Probe) -> None:
        probe.observe_spans(self.spans.get_finished_spans())

    def scan_running_storage(self, probe: Probe) -> None:
        for connection_string in list(self.running_storage.values()):
            scan_storage([probe], connection_string(), "azurite")


__all__ = [
    "CHILD_DIR_ENV",
    "KEY_MIN_LENGTH",
    "Hit",
    "LogTap",
    "Probe",
    "Sink",
    "Taps",
    "blob_may_hold_emails",
    "decoded",
    "email_tokens",
    "expand",
    "expand_blob",
    "observe_child_records",
    "read_child_records",
    "record_text",
    "response_may_hold_emails",
    "scan_storage",
    "span_text",
]
