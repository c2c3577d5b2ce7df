"""An Arrow IPC file written as blob blocks: the committed blocks are the file, each writer's blocks its own."""

from __future__ import annotations

import base64

import pyarrow as pa
from azure.storage.blob import BlobBlock

from shared.pipeline.shards import from_ipc
from shared.pipeline.table_blob import TableBlob


class _Blob:
    """Staged blocks by id, and the committed list's bytes."""

    def __init__(self) -> None:
        self.staged: dict[str, bytes] = {}
        self.committed: bytes | None = None

    async def stage_block(self, block_id: str, data: bytes) -> None:
        self.staged[block_id] = data

    async def commit_block_list(self, blocks: list[BlobBlock]) -> None:
        self.committed = b"".join(self.staged[b.id] for b in blocks)


async def test_pieces_make_one_file_and_a_second_writer_never_commits_the_firsts_blocks() -> None:
    blob = _Blob()
    abandoned, writer = TableBlob(blob), TableBlob(blob)  # type: ignore[arg-type]
    pieces = [pa.table({"email": [f"{n}-{i}@x.com" for i in range(n)]}) for n in (3, 1, 4)]
    await writer.write(pieces[0])
    await abandoned.write(pa.table({"email": ["old@x.com"] * 5}))  # an earlier attempt still running: never committed
    for piece in pieces[1:]:
        await writer.write(piece)
    await writer.close()
    assert blob.committed is not None
    assert from_ipc(blob.committed).equals(pa.concat_tables(pieces))
    assert len({len(base64.b64decode(i)) for i in blob.staged}) == 1  # every id of the blob the same length


async def test_nothing_written_commits_nothing() -> None:
    blob = _Blob()
    await TableBlob(blob).close()  # type: ignore[arg-type]
    assert blob.committed is None and not blob.staged
