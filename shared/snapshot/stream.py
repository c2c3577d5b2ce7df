"""Feed a blob's download, range by range, to a blocking parser running in a worker thread.

pyarrow's CSV reader wants a synchronous file; the download is asynchronous.  The event loop
downloads `CHUNK_BYTES` ranges into a small bounded queue and the parser thread reads from it,
so at most `QUEUE_CHUNKS` chunks (plus the parser's own blocks) are in memory however large
the blob is.
If the parser stops early or the caller is cancelled, the download stops; if the download
fails, the parser's next read raises that error.
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from azure.storage.blob.aio import ContainerClient

from shared.snapshot.model import Partition
from shared.snapshot.storage import if_match

T = TypeVar("T")

QUEUE_CHUNKS = 4
CHUNK_BYTES = 4 * 1024 * 1024


@dataclass(frozen=True)
class _End:
    error: BaseException | None = None


class QueueReader(io.RawIOBase):
    """A read-only file whose bytes come from an asyncio.Queue filled on `loop` (used from another thread)."""

    def __init__(self, loop: asyncio.AbstractEventLoop, chunks: asyncio.Queue[bytes | _End]) -> None:
        super().__init__()
        self._loop = loop
        self._chunks = chunks
        self._buffer = memoryview(b"")
        self._done = False
        self.bytes_read = 0

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        """Up to `size` bytes (all that is left when negative); fewer only at the end."""
        if size == 0:
            return b""
        if self._buffer and (size < 0 or len(self._buffer) >= size):
            # The common case: one slice of the current chunk, one copy.
            size = len(self._buffer) if size < 0 else size
            piece, self._buffer = bytes(self._buffer[:size]), self._buffer[size:]
            self.bytes_read += len(piece)
            return piece
        parts: list[bytes | memoryview] = []
        wanted = size
        while size < 0 or wanted > 0:
            if not self._buffer and (self._done or not self._next_chunk()):
                break
            n = len(self._buffer) if size < 0 else min(wanted, len(self._buffer))
            parts.append(self._buffer[:n])
            self._buffer = self._buffer[n:]
            wanted -= n
        piece = b"".join(parts)
        self.bytes_read += len(piece)
        return piece

    def readinto(self, target: bytearray | memoryview) -> int:  # type: ignore[override]  # RawIOBase takes a buffer
        piece = self.read(len(target))
        memoryview(target).cast("B")[: len(piece)] = piece
        return len(piece)

    def _next_chunk(self) -> bool:
        item = asyncio.run_coroutine_threadsafe(self._chunks.get(), self._loop).result()
        if isinstance(item, _End):
            self._done = True
            if item.error is not None:
                raise item.error
            return False
        self._buffer = memoryview(item)
        return True


async def parse_blob(container: ContainerClient, partition: Partition, parse: Callable[[QueueReader], T]) -> T:
    """Download the partition's blob (or blob snapshot) in ranges while `parse` reads it in a worker thread;
    return what `parse` returns.

    Each range is requested with If-Match on the partition's ETag (when known): a blob replaced
    mid-read fails with ResourceModifiedError instead of mixing two snapshots.
    """
    loop = asyncio.get_running_loop()
    chunks: asyncio.Queue[bytes | _End] = asyncio.Queue(maxsize=QUEUE_CHUNKS)
    client = container.get_blob_client(partition.blob_name, snapshot=partition.snapshot)
    conditions = if_match(partition.etag)
    size = partition.size

    async def produce() -> None:
        try:
            offset = 0
            while offset < size:
                length = min(CHUNK_BYTES, size - offset)
                download = await client.download_blob(offset=offset, length=length, **conditions)
                chunk = await download.readall()
                if not chunk:
                    break
                await chunks.put(chunk)
                offset += len(chunk)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 (handed to the parser thread, which re-raises it)
            await chunks.put(_End(exc))
            return
        await chunks.put(_End())

    producer = asyncio.create_task(produce())
    reader = QueueReader(loop, chunks)
    try:
        return await asyncio.to_thread(parse, reader)
    finally:
        producer.cancel()
        await asyncio.gather(producer, return_exceptions=True)
        # Unblock a parser thread that still waits for a chunk (after a cancellation).
        while not chunks.empty():
            chunks.get_nowait()
        chunks.put_nowait(_End(EOFError("the download was stopped")))


__all__ = ["CHUNK_BYTES", "QUEUE_CHUNKS", "QueueReader", "parse_blob"]
