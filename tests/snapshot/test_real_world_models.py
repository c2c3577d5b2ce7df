"""model.json as Customer Insights and other CDM writers leave it: entities the export does not read, and partition
locations that name a blob snapshot (`?snapshot=<time>`)."""

from __future__ import annotations

import io
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from azure.storage.blob.aio import ContainerClient

from shared.errors import SnapshotError
from shared.snapshot import find_snapshot
from tests.snapshot.support import ROOT, entity, put, put_model, read_all, url

ATTRS = ("CustomerId", "Email")
FOLDER = f"{ROOT}/Vip/2026/03/01/0930"
REFERENCE = {"$type": "ReferenceEntity", "name": "Accounts", "source": "Sales", "modelId": "crm"}
NO_ATTRIBUTES = {"$type": "LocalEntity", "name": "Empty", "attributes": [], "partitions": []}
BAD_PARTITION = {**entity("Broken", ATTRS, ["https://example.com/elsewhere/x.csv"])}


async def test_entities_an_export_does_not_read_do_not_fail_it(container: ContainerClient) -> None:
    name = f"{FOLDER}/Vip_1.csv"
    await put(container, name, "1,a@x.com\n")
    await put_model(container, REFERENCE, NO_ATTRIBUTES, BAD_PARTITION, {"no": "name"}, entity("Vip", ATTRS, [name]))

    rows = await read_all(container, await find_snapshot(container, ROOT, "Vip"), ["Email"])

    assert rows.table.column("Email").to_pylist() == ["a@x.com"]


@pytest.mark.parametrize(
    ("segment", "words"),
    [
        ("Accounts", ("entity 'Accounts' is a ReferenceEntity", "only LocalEntity")),
        ("accounts", ("entity 'Accounts' is a ReferenceEntity",)),
        ("Empty", ("entity 'Empty' lists no attributes",)),
        ("Broken", ("entity 'Broken' partition 'Broken_1'", "not a Blob Storage or Data Lake URL")),
    ],
)
async def test_an_export_that_reads_an_unreadable_entity_gets_a_clear_error(
    container: ContainerClient, segment: str, words: tuple[str, ...]
) -> None:
    await put(container, f"{FOLDER}/Vip_1.csv", "1,a@x.com\n")
    await put_model(container, REFERENCE, NO_ATTRIBUTES, BAD_PARTITION, entity("Vip", ATTRS, [f"{FOLDER}/Vip_1.csv"]))

    with pytest.raises(SnapshotError) as caught:
        await find_snapshot(container, ROOT, segment)

    assert all(word in caught.value.message for word in words), caught.value.message
    assert "model.json" in caught.value.message


def parquet(emails: list[str]) -> bytes:
    sink = io.BytesIO()
    pq.write_table(pa.table({"CustomerId": [str(i) for i in range(len(emails))], "Email": emails}), sink)
    return sink.getvalue()


@pytest.mark.parametrize("kind", ["csv", "parquet"])
async def test_a_location_naming_a_blob_snapshot_reads_that_snapshot_not_the_current_blob(
    container: ContainerClient, kind: str
) -> None:
    name = f"{FOLDER}/Vip_1.{kind}"
    versions: list[Any] = (
        ["1,then@x.com\n", "1,now@x.com\n2,also-now@x.com\n"]
        if kind == "csv"
        else [parquet(["then@x.com"]), parquet(["now@x.com"])]
    )
    await put(container, name, versions[0])
    taken = await container.get_blob_client(name).create_snapshot()
    await put(container, name, versions[1])  # the current blob moved on after CI took the snapshot
    await put_model(container, entity("Vip", ATTRS, [f"{url(container, name)}?snapshot={taken['snapshot']}"]))

    snapshot = await find_snapshot(container, ROOT, "Vip")
    rows = await read_all(container, snapshot, ["Email"])

    assert rows.table.column("Email").to_pylist() == ["then@x.com"]
    assert [p.snapshot for p in snapshot.partitions] == [taken["snapshot"]]


async def test_the_snapshot_id_follows_the_blob_snapshot_time(container: ContainerClient) -> None:
    name = f"{FOLDER}/Vip_1.csv"
    await put(container, name, "1,a@x.com\n")
    client = container.get_blob_client(name)
    first, second = (await client.create_snapshot())["snapshot"], (await client.create_snapshot())["snapshot"]

    async def snapshot_id(location: str) -> str:
        await put_model(container, entity("Vip", ATTRS, [location]))
        return (await find_snapshot(container, ROOT, "Vip")).snapshot_id

    at_first = await snapshot_id(f"{url(container, name)}?snapshot={first}")
    at_second = await snapshot_id(f"{url(container, name)}?snapshot={second}")
    current = await snapshot_id(url(container, name))
    again = await snapshot_id(f"{url(container, name)}?snapshot={first}")

    assert len({at_first, at_second, current}) == 3 and again == at_first


async def test_a_location_naming_a_blob_snapshot_that_does_not_exist_is_named(container: ContainerClient) -> None:
    name = f"{FOLDER}/Vip_1.csv"
    await put(container, name, "1,a@x.com\n")
    await put_model(container, entity("Vip", ATTRS, [f"{url(container, name)}?snapshot=2020-01-01T00:00:00.0000000Z"]))

    with pytest.raises(SnapshotError) as caught:
        await find_snapshot(container, ROOT, "Vip")

    assert f"{name} (snapshot 2020-01-01T00:00:00.0000000Z)" in caught.value.message
    assert "does not exist" in caught.value.message
