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


def test_a_shards_payloads_are_exact_bytes_row_by_row() -> None:
    """Built a column at a time, each row's JSON is exactly what that contact alone gives: values present only when
    non-empty, a field list when any field is not null (its empty strings left out), keys in one order."""
    rows = pa.table(
        {
            "email": ["a@x.com", "b@x.com", "c@x.com", "d@x.com"],
            "first_name": ["Ann", None, "", "Dee"],
            "last_name": [None, "Bo", None, "Du"],
            "phone": ["1", None, "  ", None],
            "field_7": ["x", None, "", None],
            "field_9": [None, None, "", "||a||b||"],
            "hash": [b"1", b"2", b"3", b"4"],
        }
    )
    table = shard_table(rows, Op.UPSERT, PayloadSpec(5, ("vip", "new"), False))
    tail = b'"tags":["vip","new"],"subscribe":[{"listid":5}],"exclude_automations":false}'
    assert shard_payloads(table) == [
        b'{"email":"a@x.com","first_name":"Ann","phone":"1","fields":[{"id":7,"value":"x"}],' + tail,
        b'{"email":"b@x.com","last_name":"Bo",' + tail,
        b'{"email":"c@x.com","phone":"  ","fields":[],' + tail,
        b'{"email":"d@x.com","first_name":"Dee","last_name":"Du","fields":[{"id":9,"value":"||a||b||"}],' + tail,
    ]
    resubscribe = shard_payloads(shard_table(rows, Op.RESUBSCRIBE, PayloadSpec(5, (), True)))
    assert resubscribe[1] == b'{"email":"b@x.com","last_name":"Bo","exclude_automations":true}'
    leavers = shard_payloads(shard_table(rows, Op.UNSUBSCRIBE, PayloadSpec(5, ("vip",), False)))
    assert leavers[0] == b'{"email":"a@x.com","unsubscribe":[{"listid":5}],"exclude_automations":false}'
