"""Reading CI snapshots from Azurite: exact values, formats, bad rows and empty segments."""

from __future__ import annotations

import io

import pyarrow as pa
import pyarrow.parquet as pq
from azure.storage.blob.aio import ContainerClient

from shared.snapshot import BadRow, CsvFormat, ParquetFormat, find_snapshot
from tests.snapshot.support import ROOT, csv_settings, entity, put, put_model, read_all, url

BOM = b"\xef\xbb\xbf"
ATTRS = ("CustomerId", "Email", "FirstName", "Notes")
FOLDER = f"{ROOT}/Vip/2026/03/01/0930"


def parquet_bytes(table: pa.Table) -> bytes:
    sink = io.BytesIO()
    pq.write_table(table, sink)
    return sink.getvalue()


async def test_headerless_csv_and_parquet_partitions_give_the_exact_values(container: ContainerClient) -> None:
    # Partition 1: BOM, quoted commas, a quoted CRLF and LF, "" (empty string) vs nothing (missing), a doubled quote.
    part1 = BOM + (
        b'"1","ann@example.com","Ann","likes ""golf"", wine"\r\n'
        b'"2","bob@example.com","","multi\r\nline"\r\n'
        b'"3","cy@example.com",,"a\nb"\r\n'
    )
    part2 = '"4","dé@example.com","Zoë",\n5,eve@example.com,Eve,"x,y,z"\n'.encode()
    part3 = parquet_bytes(
        pa.table(
            {
                "CustomerId": ["6", "7"],
                "Email": ["fay@example.com", None],
                "FirstName": [None, ""],
                "Notes": ["p,q", "r\ns"],
            }
        )
    )
    names = [f"{FOLDER}/Vip_1.csv", f"{FOLDER}/Vip_2.csv", f"{FOLDER}/Vip_3.parquet"]
    for name, data in zip(names, (part1, part2, part3), strict=True):
        await put(container, name, data)
    await put_model(container, entity("Vip", ATTRS, [url(container, n) for n in names]))

    snapshot = await find_snapshot(container, ROOT, "Vip")
    rows = await read_all(container, snapshot, ["Email", "FirstName", "Notes", "CustomerId"])

    assert snapshot.source == "model.json"
    assert [type(p.format) for p in snapshot.partitions] == [CsvFormat, CsvFormat, ParquetFormat]
    assert rows.table.schema.names == ["Email", "FirstName", "Notes", "CustomerId"]
    assert all(t == pa.string() for t in rows.table.schema.types)
    assert rows.table.to_pylist() == [
        {"Email": "ann@example.com", "FirstName": "Ann", "Notes": 'likes "golf", wine', "CustomerId": "1"},
        {"Email": "bob@example.com", "FirstName": "", "Notes": "multi\r\nline", "CustomerId": "2"},
        {"Email": "cy@example.com", "FirstName": None, "Notes": "a\nb", "CustomerId": "3"},
        {"Email": "dé@example.com", "FirstName": "Zoë", "Notes": None, "CustomerId": "4"},
        {"Email": "eve@example.com", "FirstName": "Eve", "Notes": "x,y,z", "CustomerId": "5"},
        {"Email": "fay@example.com", "FirstName": None, "Notes": "p,q", "CustomerId": "6"},
        {"Email": None, "FirstName": "", "Notes": "r\ns", "CustomerId": "7"},
    ]
    assert rows.rows_read == 7
    assert rows.bad_rows == []


async def test_header_csv_is_read_by_column_name_and_a_column_may_be_requested_twice(
    container: ContainerClient,
) -> None:
    # The header's column order differs from model.json's attribute order: names win.
    name = f"{FOLDER}/Vip_1.csv"
    await put(container, name, BOM + b"Email,CustomerId,Notes,FirstName\r\na@example.com,1,,Al\r\n")
    await put_model(container, entity("Vip", ATTRS, [url(container, name)], csv_settings(header=True)))

    snapshot = await find_snapshot(container, ROOT, "Vip")
    rows = await read_all(container, snapshot, ["firstname", "Email", "Email"])

    assert rows.table.schema.names == ["firstname", "Email", "Email"]
    assert rows.table.to_pylist() == [{"firstname": "Al", "Email": "a@example.com"}]
    assert rows.table.column(2).to_pylist() == ["a@example.com"]


async def test_other_delimiter_and_no_quoting_follow_file_format_settings(container: ContainerClient) -> None:
    name = f"{FOLDER}/Vip_1.csv"
    await put(container, name, b'1;"quoted";Al;x\n2;b@example.com;Bo;y\n')
    settings = csv_settings(delimiter=";", quoteStyle="QuoteStyle.None")
    await put_model(container, entity("Vip", ATTRS, [url(container, name)], settings))

    rows = await read_all(container, await find_snapshot(container, ROOT, "Vip"), ["Email"])

    assert rows.table.column("Email").to_pylist() == ['"quoted"', "b@example.com"]


async def test_ragged_rows_are_reported_by_partition_and_data_row_and_the_rest_is_read(
    container: ContainerClient,
) -> None:
    name = f"{FOLDER}/Vip_1.csv"
    # Row 2 has a quoted line break (physical lines != rows); rows 3 and 5 have the wrong number of fields.
    data = (
        b'1,a@x.com,A,n\n2,b@x.com,B,"two\nlines"\n3,c@x.com\n4,d@x.com,D,n\n5,e@x.com,E,n,extra,more\n6,f@x.com,F,n\n'
    )
    await put(container, name, data)
    await put_model(container, entity("Vip", ATTRS, [url(container, name)]))

    rows = await read_all(container, await find_snapshot(container, ROOT, "Vip"), ["CustomerId", "Email"])

    assert rows.table.column("CustomerId").to_pylist() == ["1", "2", "4", "6"]
    assert rows.rows_read == 6
    assert [(b.partition, b.row) for b in rows.bad_rows] == [(name, 3), (name, 5)]
    assert all("c@x.com" not in b.reason and "e@x.com" not in b.reason for b in rows.bad_rows)


async def test_ragged_rows_in_a_header_file_are_numbered_without_the_header(container: ContainerClient) -> None:
    name = f"{FOLDER}/Vip_1.csv"
    await put(container, name, b"CustomerId,Email,FirstName,Notes\n1,a@x.com,A,n\n2,b@x.com\n")
    await put_model(container, entity("Vip", ATTRS, [url(container, name)], csv_settings(header=True)))

    rows = await read_all(container, await find_snapshot(container, ROOT, "Vip"), ["Email"])

    assert rows.bad_rows == [BadRow(name, 2, "wrong number of fields (expected 4)")]
    assert rows.rows_read == 2


async def test_rows_with_bytes_that_are_not_utf8_are_bad_rows_and_the_others_are_read(
    container: ContainerClient,
) -> None:
    name = f"{FOLDER}/Vip_1.csv"
    # Row 2 is ragged; row 3 has Latin-1 bytes in FirstName; row 4 has a bad byte in a column nobody asked for.
    data = b"1,a@x.com,Ann,n\n2,b@x.com\n3,c@x.com,Jos\xe9,n\n4,d@x.com,Dee,\xff\n5,e@x.com,Eve,n\n"
    await put(container, name, data)
    await put_model(container, entity("Vip", ATTRS, [url(container, name)]))

    rows = await read_all(container, await find_snapshot(container, ROOT, "Vip"), ["Email", "FirstName"])

    assert rows.table.column("Email").to_pylist() == ["a@x.com", "d@x.com", "e@x.com"]
    assert rows.rows_read == 5
    assert rows.bad_rows == [
        BadRow(name, 2, "wrong number of fields (expected 4)"),
        BadRow(name, 3, "field FirstName is not valid UTF-8"),
    ]


async def test_a_one_megabyte_field_and_a_row_larger_than_the_parse_block_are_read(
    container: ContainerClient,
) -> None:
    small, huge = "x" * (1 << 20), "y" * (5 << 20)  # 5 MB is more than one 2 MB parse block
    name = f"{FOLDER}/Vip_1.csv"
    await put(container, name, f'1,a@x.com,A,"{small}"\n2,b@x.com,B,"{huge}"\n3,c@x.com,C,n\n')
    await put_model(container, entity("Vip", ATTRS, [url(container, name)]))

    rows = await read_all(container, await find_snapshot(container, ROOT, "Vip"), ["Notes", "Email"])

    assert [len(str(v)) for v in rows.table.column("Notes").to_pylist()] == [1 << 20, 5 << 20, 1]
    assert rows.table.column("Email").to_pylist() == ["a@x.com", "b@x.com", "c@x.com"]


async def test_an_empty_segment_reads_as_zero_rows(container: ContainerClient) -> None:
    names = [f"{FOLDER}/Vip_1.csv", f"{FOLDER}/Vip_2.csv", f"{FOLDER}/Vip_3.csv"]
    await put(container, names[0], b"")  # zero bytes
    await put(container, names[1], BOM)  # only a byte-order mark
    await put(container, names[2], BOM + b"CustomerId,Email,FirstName,Notes\r\n")  # header only
    await put_model(
        container,
        entity("Vip", ATTRS, [url(container, n) for n in names[:2]]),
        entity("Hdr", ATTRS, [url(container, names[2])], csv_settings(header=True)),
    )

    for segment in ("Vip", "Hdr"):
        rows = await read_all(container, await find_snapshot(container, ROOT, segment), ["Email", "Notes"])
        assert rows.table.num_rows == 0
        assert rows.table.schema.names == ["Email", "Notes"]
        assert rows.rows_read == 0


async def test_a_single_column_segment_keeps_missing_values_as_rows(container: ContainerClient) -> None:
    name = f"{FOLDER}/Solo_1.csv"
    await put(container, name, b'"a@x.com"\n\n""\n"b@x.com"\n')
    await put_model(container, entity("Solo", ["Email"], [url(container, name)]))

    rows = await read_all(container, await find_snapshot(container, ROOT, "Solo"), ["Email"])

    assert rows.table.column("Email").to_pylist() == ["a@x.com", None, "", "b@x.com"]
