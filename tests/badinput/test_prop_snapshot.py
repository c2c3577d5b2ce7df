"""Properties of the model.json / CSV reader (tests/snapshot has the CSV-text round trip; these add model.json shapes).

- Any model.json we write with arbitrary attribute names (Unicode, delimiters, quotes, line
  breaks) and any number of partitions parses back to the same entity: names in order, the
  partitions in order with their locations and formats.
- Any JSON value, and any bytes, given as model.json: parse_model returns a model or raises
  SnapshotError, never anything else.
- Through Azurite: a segment with arbitrary attribute names, 1-4 partitions of arbitrary sizes
  (empty ones too), with or without a header row, reads back every value, in partition order.
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import io
import json
import uuid
from typing import Any

from azure.storage.blob.aio import ContainerClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shared.errors import SnapshotError
from shared.snapshot import CsvFormat, ParquetFormat, find_snapshot
from shared.snapshot.cdm import parse_model
from tests.snapshot.support import read_all

# Text without lone surrogates (not encodable) and without NUL (a NUL in `encoding` is its own case in
# tests/badinput/test_snapshot_inputs.py, model-nul-encoding).
TEXT = st.text(st.characters(codec="utf-8", exclude_characters="\x00"), max_size=12)
NAME = st.text(
    st.one_of(st.sampled_from(list(",;\"'\r\n\t |")), st.characters(codec="utf-8", exclude_characters="\x00")),
    min_size=1,
    max_size=10,
)
NAMES = st.lists(NAME, min_size=1, max_size=6, unique_by=str.casefold)
DELIMITERS = st.sampled_from([",", ";", "\t", "|", "\x1f"])
ENCODINGS = st.sampled_from(
    [("UTF-8", "utf-8"), ("utf-8-sig", "utf-8"), ("latin-1", "iso8859-1"), ("UTF-16", "utf-16")]
)
SETTINGS = st.fixed_dictionaries(
    {
        "header": st.booleans(),
        "delimiter": DELIMITERS,
        "quoted": st.booleans(),
        "encoding": ENCODINGS,
        "parquet": st.booleans(),
    }
)
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | TEXT,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4),
    max_leaves=20,
)


def partition_doc(location: str, s: dict[str, Any]) -> dict[str, Any]:
    if s["parquet"]:
        return {"name": location, "location": location + ".parquet", "fileFormatSettings": {"$type": "Parquet"}}
    fmt = {
        "$type": "CsvFormatSettings",
        "columnHeaders": s["header"],
        "delimiter": s["delimiter"],
        "quoteStyle": "QuoteStyle.Csv" if s["quoted"] else "QuoteStyle.None",
        "csvStyle": "CsvStyle.QuoteAlways",
        "encoding": s["encoding"][0],
    }
    return {"name": location, "location": location + ".csv", "fileFormatSettings": fmt}


@settings(max_examples=60, deadline=None)
@given(names=NAMES, partitions=st.lists(SETTINGS, max_size=6), entity=NAME, extra=st.dictionaries(TEXT, JSON))
def test_a_model_json_of_any_shape_parses_back_to_the_same_entity(
    names: list[str], partitions: list[dict[str, Any]], entity: str, extra: dict[str, Any]
) -> None:
    locations = [f"Seg/2026/01/01/0000/p{i}" for i in range(len(partitions))]
    item: dict[str, Any] = {
        "$type": "LocalEntity",
        "name": entity,
        "attributes": [{"name": n, "dataType": "string"} for n in names],
        "partitions": [partition_doc(loc, s) for loc, s in zip(locations, partitions, strict=True)],
    }
    doc = {**{k: v for k, v in extra.items() if k != "entities"}, "entities": [item]}

    model = parse_model(json.dumps(doc).encode(), "c/model.json")

    parsed = model.entities[entity]
    assert parsed.attributes == tuple(names)
    assert [p.location for p in parsed.partitions] == [d["location"] for d in item["partitions"]]
    for got, s in zip(parsed.partitions, partitions, strict=True):
        if s["parquet"]:
            assert got.format == ParquetFormat()
        else:
            assert got.format == CsvFormat(
                header=s["header"],
                delimiter=s["delimiter"],
                quote_char='"' if s["quoted"] else "",
                encoding=s["encoding"][1],
            )
    assert model.find(entity) is parsed and model.find(entity.casefold()) is parsed


@settings(max_examples=150, deadline=None)
@given(doc=JSON)
def test_any_json_as_model_json_is_a_model_or_a_snapshot_error(doc: Any) -> None:
    raw = json.dumps(doc).encode()
    try:
        parse_model(raw, "c/model.json")
    except SnapshotError as exc:
        assert "c/model.json" in exc.message


@settings(max_examples=100, deadline=None)
@given(entities=st.lists(st.dictionaries(st.sampled_from(["$type", "name", "attributes", "partitions"]), JSON)))
def test_any_entity_shape_is_a_model_or_a_snapshot_error(entities: list[dict[str, Any]]) -> None:
    try:
        parse_model(json.dumps({"entities": entities}).encode(), "c/model.json")
    except SnapshotError as exc:
        assert "c/model.json" in exc.message


@settings(max_examples=100, deadline=None)
@given(raw=st.binary(max_size=200))
def test_any_bytes_as_model_json_are_a_model_or_a_snapshot_error(raw: bytes) -> None:
    with contextlib.suppress(SnapshotError):
        parse_model(raw, "c/model.json")


VALUE = st.text(
    st.one_of(st.sampled_from(list(',"\r\n é名')), st.characters(codec="utf-8", exclude_characters="\x00\ufeff")),
    min_size=1,
    max_size=8,
)


def render(rows: list[list[str]], names: list[str], header: bool) -> bytes:
    out = io.StringIO(newline="")
    writer = csv.writer(out, quoting=csv.QUOTE_ALL)
    if header:
        writer.writerow(names)
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


async def roundtrip(connection: str, names: list[str], parts: list[list[list[str]]], header: bool) -> Any:
    async with ContainerClient.from_connection_string(connection, "pm" + uuid.uuid4().hex[:12]) as container:
        await container.create_container()
        try:
            locations = []
            for i, rows in enumerate(parts):
                blob = f"R/Seg/2026/01/01/0000/Seg_{i}.csv"
                await container.upload_blob(blob, render(rows, names, header) if rows or header else b"")
                locations.append(f"Seg/2026/01/01/0000/Seg_{i}.csv")
            fmt = {"$type": "CsvFormatSettings", "columnHeaders": header, "delimiter": ",", "encoding": "UTF-8"}
            entity = {
                "name": "Seg",
                "attributes": [{"name": n} for n in names],
                "partitions": [{"location": loc, "fileFormatSettings": fmt} for loc in locations],
            }
            await container.upload_blob("R/model.json", json.dumps({"entities": [entity]}).encode())
            snapshot = await find_snapshot(container, "R", "Seg")
            read = await read_all(container, snapshot, list(reversed(names)))
            return read.rows_read, read.bad_rows, read.table.to_pylist()
        finally:
            await container.delete_container()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    names=st.lists(
        st.text(st.characters(codec="utf-8", exclude_characters="\x00\r\n\ufeff"), min_size=1, max_size=8).filter(
            lambda n: n.strip() == n and n != ""
        ),
        min_size=1,
        max_size=4,
        unique_by=str.casefold,
    ),
    shape=st.lists(st.integers(min_value=0, max_value=5), min_size=1, max_size=4),
    header=st.booleans(),
    data=st.data(),
)
def test_a_segment_with_any_attribute_names_and_partitions_reads_back_in_order(
    storage_connection: str, names: list[str], shape: list[int], header: bool, data: st.DataObject
) -> None:
    parts = [
        data.draw(st.lists(st.lists(VALUE, min_size=len(names), max_size=len(names)), min_size=n, max_size=n))
        for n in shape
    ]

    rows_read, bad, table = asyncio.run(roundtrip(storage_connection, names, parts, header))

    expected = [dict(zip(names, row, strict=True)) for rows in parts for row in rows]
    assert bad == [] and rows_read == len(expected)
    assert table == [{n: row[n] for n in reversed(names)} for row in expected]
