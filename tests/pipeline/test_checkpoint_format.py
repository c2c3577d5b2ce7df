"""A shard's checkpoint as stored: each batch's rows as spans, and checkpoints written before spans still read."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from shared.pipeline.checkpoint import BatchRecord, Checkpoint


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
