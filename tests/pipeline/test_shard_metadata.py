"""A shard file says what it does and where it goes; without that it is refused, never sent by default."""

from __future__ import annotations

import pyarrow as pa
import pytest

from shared.errors import CorruptDocument
from shared.pipeline.shards import Op, PayloadSpec, shard_op, shard_payloads, shard_spec, shard_table

ROWS = pa.table({"email": ["a@example.com"], "hash": pa.array([b"12345678"], pa.binary(8))})


def test_a_shard_carries_its_operation_and_spec() -> None:
    table = shard_table(ROWS, Op.UNSUBSCRIBE, PayloadSpec(7, ("vip",), True))
    assert shard_op(table) is Op.UNSUBSCRIBE
    assert shard_spec(table) == PayloadSpec(7, ("vip",), True)


@pytest.mark.parametrize(
    "metadata",
    [
        None,
        {"spec": "[7, [], false]"},  # no operation
        {"op": "1"},  # no list
        {"op": "9", "spec": "[7, [], false]"},  # an unknown operation
        {"op": "1", "spec": "[0, [], false]"},  # list 0
        {"op": "1", "spec": "not json"},
        {"op": "1", "spec": '["7", [], false]'},
    ],
)
def test_a_shard_without_valid_metadata_is_refused(metadata: dict[str, str] | None) -> None:
    table = ROWS.replace_schema_metadata(metadata)
    with pytest.raises(CorruptDocument):
        shard_payloads(table)
