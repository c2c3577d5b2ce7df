"""A read-only, seekable file over one blob (or blob snapshot), fetched range by range: for readers that need
random access (Parquet: the footer first, then only the column chunks asked for).

It is used from a worker thread; each read is one ranged download on the event loop, with If-Match on
the ETag the snapshot was found with, so a blob replaced mid-read fails with ResourceModifiedError
instead of mixing two versions.  A storage failure is kept in `failure` (a parser may wrap it in its
own error) and re-raised as it was.  `close()` (from the event loop, when the read is cancelled)
stops the download in flight and fails every later read, so the worker thread ends.
`requests` and `bytes_fetched` say what was downloaded.

pyarrow.fs.AzureFileSystem would do the ranged reads itself, but it neither sends If-Match (a blob
replaced by one of the same size is read half old, half new) nor reads blob snapshots.
"""

from __future__ import annotations

import asyncio
import io
from concurrent.futures import Future
from typing import Any

from azure.storage.blob.aio import ContainerClient

from shared.snapshot.model import Partition
from shared.snapshot.storage import if_match


class BlobRangeFile(io.RawIOBase):
    def __init__(self, loop: asyncio.AbstractEventLoop, container: ContainerClient, partition: Partition) -> None:
        super().__init__()
        self._loop = loop
        self._client = container.get_blob_client(partition.blob_name, snapshot=partition.snapshot)
        self._conditions = if_match(partition.etag)
        self._size = partition.size
        self._position = 0
        self.requests = 0
        self.bytes_fetched = 0
        self.failure: BaseException | None = None
        self._pending: Future[bytes] | None = None

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._position, io.SEEK_END: self._size}[whence]
        self._position = max(0, base + offset)
        return self._position

    def read(self, size: int = -1) -> bytes:
        left = self._size - self._position
        size = left if size < 0 else min(size, left)
        if size <= 0:
            return b""
        data = self._fetch(self._position, size)
        self._position += len(data)
        return data

    def readinto(self, target: Any) -> int:
        piece = self.read(len(target))
        memoryview(target).cast("B")[: len(piece)] = piece
        return len(piece)

    def close(self) -> None:
        pending = self._pending
        super().close()
        if pending is not None:
            pending.cancel()

    def _fetch(self, offset: int, length: int) -> bytes:
        try:
            if self._stopped():
                raise ValueError("the read was stopped")
            self._pending = asyncio.run_coroutine_threadsafe(self._download(offset, length), self._loop)
            if self._stopped():  # closed while the download was being scheduled
                self._pending.cancel()
            data = self._pending.result()
        except BaseException as exc:
            self.failure = exc
            raise
        finally:
            self._pending = None
        self.requests += 1
        self.bytes_fetched += len(data)
        return data

    def _stopped(self) -> bool:
        return self.closed

    async def _download(self, offset: int, length: int) -> bytes:
        download = await self._client.download_blob(offset=offset, length=length, **self._conditions)
        data: bytes = await download.readall()
        return data


__all__ = ["BlobRangeFile"]
