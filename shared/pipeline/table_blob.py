"""An Arrow IPC file written to a block blob a piece at a time.

Each write stages, as one block, the bytes the file gained; close() stages the footer and commits the blocks.
The blob is the same IPC file (zstd) that shards.write_table writes whole, read back with shards.read_table,
while memory holds one piece, never the file.  A split writes one of these per bucket for its whole partition,
instead of a small file per bucket at every flush.  Nothing is visible until close() commits; a writer that
is abandoned leaves only uncommitted blocks: each writer names its blocks with its own random prefix (every id
the same length, as Azure requires), so a later writer of the same blob never commits an earlier one's.
"""

from __future__ import annotations

import base64
import io
import secrets

import pyarrow as pa
import pyarrow.ipc as ipc
from azure.storage.blob import BlobBlock
from azure.storage.blob.aio import BlobClient

from shared.pipeline.shards import IPC_OPTIONS


class _Drain(io.RawIOBase):
    """A sink that hands over what was written to it since the last take()."""

    def __init__(self) -> None:
        super().__init__()
        self._parts: list[bytes] = []

    def writable(self) -> bool:
        return True

    def write(self, data: bytes | bytearray | memoryview) -> int:  # type: ignore[override]
        self._parts.append(bytes(data))
        return len(data)

    def pending(self) -> bytes:
        """What was written since the last clear()."""
        data = b"".join(self._parts)
        self._parts[:] = [data] if data else []
        return data

    def clear(self) -> None:
        self._parts.clear()


class TableBlob:
    def __init__(self, blob: BlobClient) -> None:
        self._blob = blob
        self._sink = _Drain()
        self._writer: ipc.RecordBatchFileWriter | None = None
        self._blocks: list[BlobBlock] = []
        self._prefix = secrets.token_hex(4)  # this writer's blocks, not an earlier attempt's

    async def write(self, table: pa.Table) -> None:
        if self._writer is None:  # the schema comes with the first piece
            self._writer = ipc.new_file(self._sink, table.schema, options=IPC_OPTIONS)
        self._writer.write_table(table)
        await self._stage()

    async def close(self) -> None:
        """Commit the file; nothing written, no blob."""
        if self._writer is None:
            return
        self._writer.close()
        await self._stage()
        await self._blob.commit_block_list(self._blocks)

    async def _stage(self) -> None:
        data = self._sink.pending()
        if data:
            block_id = base64.b64encode(f"{self._prefix}-{len(self._blocks):08d}".encode()).decode()
            await self._blob.stage_block(block_id, data)
            self._blocks.append(BlobBlock(block_id=block_id))
            self._sink.clear()  # only once staged: a failed stage keeps the bytes for another try


__all__ = ["TableBlob"]
