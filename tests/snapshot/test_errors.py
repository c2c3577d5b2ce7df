"""Every way a snapshot can be unusable gives a SnapshotError that says what to fix, without row content."""

from __future__ import annotations

import json

import pytest
from azure.storage.blob.aio import ContainerClient

from shared.errors import SnapshotError
from shared.snapshot import find_snapshot
from tests.snapshot.support import ROOT, csv_settings, entity, put, put_model, read_all, url

ATTRS = ("CustomerId", "Email", "FirstName")
FOLDER = f"{ROOT}/Vip/2026/03/01/0930"
PII = ("johanna.secret@example.com", "Johanna", "555-0199")
ROW = "1,johanna.secret@example.com,Johanna,555-0199\n"


def assert_clean(error: SnapshotError) -> None:
    for value in PII:
        assert value not in error.message


async def test_a_requested_attribute_that_does_not_exist_names_it_and_lists_the_others(
    container: ContainerClient,
) -> None:
    name = f"{FOLDER}/Vip_1.csv"
    await put(container, name, "1,a@x.com,A\n")
    await put_model(container, entity("Vip", ATTRS, [url(container, name)]))
    snapshot = await find_snapshot(container, ROOT, "Vip")

    with pytest.raises(SnapshotError) as caught:
        await read_all(container, snapshot, ["Email", "Phone"])

    assert "'Phone'" in caught.value.message
    assert "'Vip'" in caught.value.message
    assert "CustomerId, Email, FirstName" in caught.value.message


async def test_a_header_row_without_a_modelled_attribute_names_the_partition(container: ContainerClient) -> None:
    name = f"{FOLDER}/Vip_1.csv"
    await put(container, name, "CustomerId,Email\n" + ROW)
    await put_model(container, entity("Vip", ATTRS, [url(container, name)], csv_settings(header=True)))
    snapshot = await find_snapshot(container, ROOT, "Vip")

    with pytest.raises(SnapshotError) as caught:
        await read_all(container, snapshot, ["FirstName"])

    assert name in caught.value.message
    assert "'FirstName'" in caught.value.message
    assert_clean(caught.value)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b"", "is empty"),
        (b"  \n", "is empty"),
        (b'{"entities": [', "not valid JSON"),
        (b"\xff\xfe{}", "not valid JSON"),
        (b'{"name": "x"}', "no 'entities' list"),
        (json.dumps({"entities": [{"name": "Vip", "attributes": []}]}).encode(), "lists no attributes"),
        (json.dumps({"entities": [{"$type": "ReferenceEntity", "name": "Vip"}]}).encode(), "only LocalEntity"),
    ],
)
async def test_an_unreadable_model_json_is_an_error_not_a_silent_fallback(
    container: ContainerClient, body: bytes, expected: str
) -> None:
    await put(container, f"{FOLDER}/Vip_1.csv", "CustomerId,Email\n1,a@x.com\n")  # a folder that would be usable
    await put(container, f"{ROOT}/model.json", body)

    with pytest.raises(SnapshotError) as caught:
        await find_snapshot(container, ROOT, "Vip")

    assert expected in caught.value.message
    assert "model.json" in caught.value.message


async def test_a_listed_partition_that_is_missing_is_named(container: ContainerClient) -> None:
    present, missing = f"{FOLDER}/Vip_1.csv", f"{FOLDER}/Vip_2.csv"
    await put(container, present, ROW)
    await put_model(container, entity("Vip", ATTRS, [url(container, present), url(container, missing)]))

    with pytest.raises(SnapshotError) as caught:
        await find_snapshot(container, ROOT, "Vip")

    assert missing in caught.value.message


async def test_no_snapshot_at_all_says_where_it_looked(container: ContainerClient) -> None:
    with pytest.raises(SnapshotError) as caught:
        await find_snapshot(container, ROOT, "Vip")

    message = caught.value.message
    assert f"{ROOT}/model.json is missing" in message
    assert f"{ROOT}/Vip/<yyyy>/<MM>/<dd>/<HHmm>/" in message
    assert "SNAPSHOT_ROOT" in message


async def test_a_missing_container_is_named(storage_connection: str, unique: str) -> None:
    async with ContainerClient.from_connection_string(storage_connection, unique + "x") as missing:
        with pytest.raises(SnapshotError) as caught:
            await find_snapshot(missing, ROOT, "Vip")

    assert f"{unique}x" in caught.value.message
    assert "SNAPSHOT_CONTAINER" in caught.value.message


@pytest.mark.parametrize(
    "location",
    [
        "https://otheraccount.blob.core.windows.net/{c}/x/Vip_1.csv",
        "https://devstoreaccount1.blob.core.windows.net/othercontainer/x/Vip_1.csv",
        "ftp://devstoreaccount1.blob.core.windows.net/{c}/x/Vip_1.csv",
        "https://devstoreaccount1.blob.core.windows.net/{c}/",
    ],
)
async def test_a_location_outside_the_snapshot_container_is_refused(container: ContainerClient, location: str) -> None:
    await put_model(container, entity("Vip", ATTRS, [location.format(c=container.container_name)]))

    with pytest.raises(SnapshotError) as caught:
        await find_snapshot(container, ROOT, "Vip")

    assert "'Vip'" in caught.value.message


async def test_a_folder_without_header_or_model_json_is_refused_without_quoting_the_row(
    container: ContainerClient,
) -> None:
    await put(container, f"{FOLDER}/Vip_1.csv", ROW)

    with pytest.raises(SnapshotError) as caught:
        await find_snapshot(container, ROOT, "Vip")

    assert "not a header row" in caught.value.message
    assert_clean(caught.value)


async def test_a_folder_of_empty_partitions_without_model_json_is_refused(container: ContainerClient) -> None:
    await put(container, f"{FOLDER}/Vip_1.csv", b"")

    with pytest.raises(SnapshotError) as caught:
        await find_snapshot(container, ROOT, "Vip")

    assert "columns are unknown" in caught.value.message


async def test_a_partition_replaced_while_it_is_read_is_refused(container: ContainerClient) -> None:
    name = f"{FOLDER}/Vip_1.csv"
    await put(container, name, ROW)
    await put_model(container, entity("Vip", ATTRS, [url(container, name)]))
    snapshot = await find_snapshot(container, ROOT, "Vip")
    await put(container, name, ROW + ROW)  # CI rewrote it after we located the snapshot

    with pytest.raises(SnapshotError) as caught:
        await read_all(container, snapshot, ["Email"])

    assert "replaced" in caught.value.message
    assert name in caught.value.message


@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        ({"$type": "JsonFormatSettings"}, "not supported"),
        (csv_settings(delimiter=",,"), "delimiter"),
        (csv_settings(quoteStyle="QuoteStyle.Sometimes"), "quoteStyle"),
        (csv_settings(encoding="klingon-8"), "encoding"),
        (csv_settings(columnHeaders="maybe"), "columnHeaders"),
    ],
)
async def test_unusable_file_format_settings_are_named(
    container: ContainerClient, settings: dict[str, object], expected: str
) -> None:
    name = f"{FOLDER}/Vip_1.csv"
    await put(container, name, ROW)
    await put_model(container, entity("Vip", ATTRS, [url(container, name)], settings))

    with pytest.raises(SnapshotError) as caught:
        await find_snapshot(container, ROOT, "Vip")

    assert expected in caught.value.message


async def test_a_corrupt_parquet_partition_is_named(container: ContainerClient) -> None:
    name = f"{FOLDER}/Vip_1.parquet"
    await put(container, name, ROW.encode() * 3)
    await put_model(container, entity("Vip", ATTRS, [url(container, name)]))
    snapshot = await find_snapshot(container, ROOT, "Vip")

    with pytest.raises(SnapshotError) as caught:
        await read_all(container, snapshot, ["Email"])

    assert name in caught.value.message
    assert_clean(caught.value)


async def test_bytes_that_are_not_the_declared_encoding_fail_the_partition_cleanly(container: ContainerClient) -> None:
    name = f"{FOLDER}/Vip_1.csv"
    await put(container, name, "1,johanna.secret@example.com,Jöhanna\n".encode("utf-16-le")[:-1])
    await put_model(container, entity("Vip", ATTRS, [url(container, name)], csv_settings(encoding="UTF-16")))
    snapshot = await find_snapshot(container, ROOT, "Vip")

    with pytest.raises(SnapshotError) as caught:
        await read_all(container, snapshot, ["Email"])

    assert name in caught.value.message
    assert_clean(caught.value)


async def test_a_header_row_claimed_but_missing_names_the_partition_and_the_fix_without_the_row(
    container: ContainerClient,
) -> None:
    name = f"{FOLDER}/Vip_1.csv"
    await put(container, name, ROW)  # model.json says there is a header row: the first row is a customer's
    await put_model(container, entity("Vip", ATTRS, [url(container, name)], csv_settings(header=True)))
    snapshot = await find_snapshot(container, ROOT, "Vip")

    with pytest.raises(SnapshotError) as caught:
        await read_all(container, snapshot, ["Email", "FirstName"])

    message = caught.value.message
    assert f"model.json says {name} has a header row, but its first row (row 1 of the file)" in message
    assert "(CustomerId, Email, FirstName)" in message and "set columnHeaders to false" in message
    assert_clean(caught.value)


async def test_a_header_row_claimed_but_missing_in_utf16_names_the_fix_without_the_row(
    container: ContainerClient,
) -> None:
    name = f"{FOLDER}/Vip_1.csv"
    await put(container, name, ROW.encode("utf-16"))  # pyarrow reads the header itself in this encoding
    await put_model(
        container, entity("Vip", ATTRS, [url(container, name)], csv_settings(header=True, encoding="UTF-16"))
    )
    snapshot = await find_snapshot(container, ROOT, "Vip")

    with pytest.raises(SnapshotError) as caught:
        await read_all(container, snapshot, ["Email"])

    assert "set columnHeaders to false" in caught.value.message and name in caught.value.message
    assert_clean(caught.value)


async def test_columns_taken_from_a_first_row_are_never_listed(container: ContainerClient) -> None:
    # No model.json, and a first row that passes for column names: it may be a customer's (an email without '@').
    await put(container, f"{FOLDER}/Vip_1.csv", "Cust-1,pat.secret.example.com,Pat\n")
    await put(container, f"{FOLDER}/Vip_2.csv", ROW)
    snapshot = await find_snapshot(container, ROOT, "Vip")

    with pytest.raises(SnapshotError) as mapping:
        await read_all(container, snapshot, ["Email"])
    with pytest.raises(SnapshotError) as second:
        await read_all(container, snapshot, ["Pat"])

    assert "has no attribute 'Email'" in mapping.value.message and "Pat" not in mapping.value.message
    assert "pat.secret" not in mapping.value.message and "Cust-1" not in mapping.value.message
    assert "Vip_2.csv has no column 'Pat'" in second.value.message
    assert_clean(second.value)
