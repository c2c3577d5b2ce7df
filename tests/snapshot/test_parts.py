"""The reader's pure parts: model.json parsing, location mapping, error translation, folder rules, streaming."""

from __future__ import annotations

import asyncio
import json

import pytest
from azure.core.exceptions import (
    ClientAuthenticationError,
    HttpResponseError,
    IncompleteReadError,
    ResourceModifiedError,
    ServiceRequestError,
    ServiceResponseError,
)

import shared.snapshot.stream as stream_module
from shared.errors import ExportError, RetriableError, SnapshotError
from shared.snapshot import CsvFormat, ParquetFormat, Partition, SegmentSnapshot
from shared.snapshot.cdm import parse_model
from shared.snapshot.csv_reader import _data_row
from shared.snapshot.folders import matches_attributes, natural_key, plausible_header
from shared.snapshot.locations import BlobLocation, blob_location
from shared.snapshot.storage import storage_errors
from tests.snapshot.support import FakeBlob, FakeContainer, read_all


def test_model_json_defaults_follow_the_cdm_documentation() -> None:
    doc = {
        "name": "m",
        "version": "1.0",
        "entities": [
            {
                "$type": "LocalEntity",
                "name": "Seg",
                "attributes": [{"name": "Email", "dataType": "string"}, {"name": "Tier", "dataType": "string"}],
                "partitions": [
                    {"name": "p1", "location": "https://a.blob.core.windows.net/c/Seg/p1.csv"},
                    {"name": "p2", "location": "https://a.blob.core.windows.net/c/Seg/p2.parquet"},
                    {
                        "name": "p3",
                        "location": "https://a.blob.core.windows.net/c/Seg/p3.csv",
                        "fileFormatSettings": {"$type": "CsvFormatSettings", "columnHeaders": True, "encoding": "utf8"},
                    },
                ],
            }
        ],
    }
    model = parse_model(("\ufeff" + json.dumps(doc)).encode(), "c/model.json")

    seg = model.find("seg")  # case-insensitive when unambiguous
    assert seg is not None
    assert seg.attributes == ("Email", "Tier")
    assert [p.format for p in seg.partitions] == [
        CsvFormat(header=False, delimiter=",", quote_char='"', encoding="utf-8"),
        ParquetFormat(),
        CsvFormat(header=True, delimiter=",", quote_char='"', encoding="utf-8"),
    ]
    assert model.find("Other") is None


@pytest.mark.parametrize(
    ("location", "blob"),
    [
        ("https://acct.blob.core.windows.net/cont/a/b%20c.csv", "a/b c.csv"),
        ("https://ACCT.dfs.core.windows.net/cont/a/b.csv", "a/b.csv"),
        ("https://acct.blob.core.chinacloudapi.cn/cont/a/b.csv", "a/b.csv"),
        ("abfss://cont@acct.dfs.core.windows.net/a/b.csv", "a/b.csv"),
        ("http://127.0.0.1:10000/acct/cont/a/b.csv", "a/b.csv"),
        ("http://azurite:10000/acct/cont/a/b.csv", "a/b.csv"),
        ("Seg/2026/01/01/0000/Seg_1.csv", "root/x/Seg/2026/01/01/0000/Seg_1.csv"),
        ("root/x/Seg/Seg_1.csv", "root/x/Seg/Seg_1.csv"),
        ("https://acct.blob.core.windows.net/cont/a/b.csv?sv=2024&sig=abc", "a/b.csv"),
    ],
)
def test_partition_locations_map_to_blob_names(location: str, blob: str) -> None:
    found = blob_location(location, account="acct", container="cont", root="root/x", where="p")
    assert found == BlobLocation(blob)


@pytest.mark.parametrize(
    "location",
    [
        "https://acct.blob.core.windows.net/cont/a/b.csv?snapshot=2026-03-01T09:30:00.1234567Z",
        "https://acct.blob.core.windows.net/cont/a/b.csv?sv=2024&snapshot=2026-03-01T09%3A30%3A00.1234567Z&sig=x",
        "abfss://cont@acct.dfs.core.windows.net/a/b.csv?snapshot=2026-03-01T09:30:00.1234567Z",
        "http://127.0.0.1:10000/acct/cont/a/b.csv?snapshot=2026-03-01T09:30:00.1234567Z",
        "a/b.csv?snapshot=2026-03-01T09:30:00.1234567Z",
    ],
)
def test_a_snapshot_query_names_the_blob_snapshot(location: str) -> None:
    found = blob_location(location, account="acct", container="cont", root="", where="p")
    assert found == BlobLocation("a/b.csv", "2026-03-01T09:30:00.1234567Z")


@pytest.mark.parametrize("query", ["snapshot=yesterday", "snapshot=", "snapshot=a&snapshot=b"])
def test_a_malformed_snapshot_query_is_refused_without_repeating_the_query(query: str) -> None:
    location = f"https://acct.blob.core.windows.net/cont/a/b.csv?sig=SECRETSIG&{query}"
    with pytest.raises(SnapshotError, match="snapshot= parameter is not one blob snapshot time") as info:
        blob_location(location, account="acct", container="cont", root="", where="p")
    assert "SECRETSIG" not in info.value.message


def test_a_refused_location_is_shown_without_its_query() -> None:
    with pytest.raises(SnapshotError, match="is not a Blob Storage") as info:
        blob_location("https://example.com/cont/a.csv?sig=SECRETSIG", account="acct", container="c", root="", where="p")
    assert "SECRETSIG" not in info.value.message


@pytest.mark.parametrize(
    "location",
    [
        "https://other.blob.core.windows.net/cont/a.csv",
        "https://acct.blob.core.windows.net/other/a.csv",
        "http://127.0.0.1:10000/acct/other/a.csv",
        "https://example.com/cont/a.csv",
        "https://acct.blob.core.windows.net/cont",
    ],
)
def test_locations_elsewhere_are_refused(location: str) -> None:
    with pytest.raises(SnapshotError):
        blob_location(location, account="acct", container="cont", root="r", where="p")


def _http_error(status: int) -> HttpResponseError:
    error = HttpResponseError(message="boom")
    error.status_code = status
    return error


@pytest.mark.parametrize(
    ("raised", "expected"),
    [
        (_http_error(503), RetriableError),
        (_http_error(500), RetriableError),
        (_http_error(429), RetriableError),
        (_http_error(403), SnapshotError),
        (_http_error(400), SnapshotError),
        (ClientAuthenticationError("no"), SnapshotError),
        (ServiceRequestError("refused"), RetriableError),
        (ServiceResponseError("reset"), RetriableError),
        (IncompleteReadError("short"), RetriableError),
        (ConnectionResetError("reset"), RetriableError),
        (ResourceModifiedError("412"), ResourceModifiedError),
    ],
)
def test_storage_failures_map_to_the_error_taxonomy(raised: Exception, expected: type[Exception]) -> None:
    with pytest.raises(expected) as caught, storage_errors("cont", "reading x"):
        raise raised
    if isinstance(caught.value, ExportError):
        assert "reading x" in caught.value.message


def test_natural_order_and_header_rules() -> None:
    assert sorted(["S_10.csv", "S_2.csv", "S_1.csv"], key=natural_key) == ["S_1.csv", "S_2.csv", "S_10.csv"]
    assert plausible_header(["CustomerId", "Email", "First Name", "last_name"])
    assert not plausible_header(["1", "ann@example.com", "Ann"])
    assert not plausible_header(["Email", "email"])
    assert not plausible_header(["Email", ""])
    assert matches_attributes([" email", "CustomerID"], ["CustomerId", "Email"])
    assert not matches_attributes(["1", "a@x.com"], ["CustomerId", "Email"])


@pytest.mark.parametrize(
    ("good_index", "ragged", "row"),
    [(0, [], 1), (0, [1], 2), (1, [1, 2, 4], 5), (2, [1, 2, 4], 6), (3, [2], 5)],
)
def test_readable_rows_are_numbered_around_the_ragged_ones(good_index: int, ragged: list[int], row: int) -> None:
    assert _data_row(good_index, ragged) == row


def _snapshot(size: int) -> SegmentSnapshot:
    from datetime import UTC, datetime

    partition = Partition("p/Seg_1.csv", CsvFormat(), size=size, etag='"1"')
    return SegmentSnapshot("Seg", ("Id", "Email"), (partition,), "id", datetime.now(UTC), "model.json")


async def test_a_download_that_fails_midway_is_retriable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(stream_module, "CHUNK_BYTES", 64)
    data = b"".join(b"%d,person%d@example.com\n" % (i, i) for i in range(100))
    blob = FakeBlob(data, fail_at=3, error=ServiceResponseError("connection reset"), served=asyncio.Event())

    with pytest.raises(RetriableError):
        await read_all(FakeContainer(blob), _snapshot(len(data)), ["Email"])  # type: ignore[arg-type]


async def test_streaming_in_small_ranges_reads_every_row(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(stream_module, "CHUNK_BYTES", 7)
    data = b"".join(b'%d,"person,%d@example.com"\n' % (i, i) for i in range(500))
    blob = FakeBlob(data, fail_at=0, error=None, served=asyncio.Event())

    rows = await read_all(FakeContainer(blob), _snapshot(len(data)), ["Email"])  # type: ignore[arg-type]

    assert rows.table.column("Email").to_pylist() == [f"person,{i}@example.com" for i in range(500)]


async def test_cancelling_a_read_stops_the_download_and_frees_the_parser_thread(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(stream_module, "CHUNK_BYTES", 64)
    data = b"".join(b"%d,person%d@example.com\n" % (i, i) for i in range(100))
    served = asyncio.Event()
    blob = FakeBlob(data, fail_at=2, error=None, served=served)  # the second range never arrives
    task = asyncio.create_task(read_all(FakeContainer(blob), _snapshot(len(data)), ["Email"]))  # type: ignore[arg-type]
    await served.wait()

    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    # The parser thread got an end-of-stream and returned: the executor shuts down instead of hanging.
    await asyncio.wait_for(asyncio.get_running_loop().shutdown_default_executor(), timeout=10)
