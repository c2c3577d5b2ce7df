"""A shard's checkpoint as stored: each batch's rows as spans, and checkpoints written before spans still read."""

from __future__ import annotations

import asyncio
import json

from hypothesis import given
from hypothesis import strategies as st

from shared.pipeline.checkpoint import BatchRecord, Checkpoint, CheckpointStore


def test_a_batch_of_consecutive_rows_is_stored_as_one_span() -> None:
    record = BatchRecord(start=250, end=500, batch_ids=["b1"], carried=[list(range(250, 500))])
    stored = json.loads(record.model_dump_json())
    assert stored["carried"] == [[[250, 500]]]
    assert BatchRecord.model_validate_json(record.model_dump_json()).carried == [list(range(250, 500))]


def test_a_checkpoint_written_before_spans_reads_the_same() -> None:
    """Shards in flight when this version is deployed resume from checkpoints that list every row."""
    old = '{"shard": 3, "batches": {"0": {"start": 0, "end": 4, "batch_ids": ["a", "b"], "carried": [[0, 1], [3]]}}}'
    checkpoint = Checkpoint.model_validate_json(old)
    assert checkpoint.batches[0].carried == [[0, 1], [3]]
    assert Checkpoint.model_validate_json(checkpoint.model_dump_json()) == checkpoint


@given(st.lists(st.lists(st.integers(0, 60), max_size=30), max_size=5))
def test_any_rows_survive_the_round_trip_in_order(carried: list[list[int]]) -> None:
    record = BatchRecord(start=0, end=61, carried=carried)
    assert BatchRecord.model_validate_json(record.model_dump_json()).carried == carried


class _SlowBlob:
    """A blob whose writes take a while; what each write stored, in order."""

    def __init__(self) -> None:
        self.bodies: list[Checkpoint] = []

    def get_blob_client(self, name: str) -> _SlowBlob:
        return self

    async def upload_blob(self, body: bytes, **conditions: object) -> dict[str, str]:
        await asyncio.sleep(0.01)
        self.bodies.append(Checkpoint.model_validate_json(body))
        return {"etag": str(len(self.bodies))}


async def test_saves_asked_for_during_a_write_share_the_next_one_and_each_returns_once_stored() -> None:
    blob = _SlowBlob()
    store = CheckpointStore(blob, "c")  # type: ignore[arg-type]
    checkpoint = Checkpoint(shard=1)

    async def batch_done(index: int) -> None:
        checkpoint.batches[index] = BatchRecord(start=index, end=index + 1, carried=[[index]])
        await store.save(checkpoint)
        assert index in blob.bodies[-1].batches  # stored when save returns

    await asyncio.gather(*(batch_done(i) for i in range(10)))
    assert len(blob.bodies) == 2  # the first batch's write, then one for the nine that waited
    assert sorted(blob.bodies[-1].batches) == list(range(10))
