"""Finding the newest snapshot: model.json, the newest timestamp folder, and the snapshot id."""

from __future__ import annotations

from azure.storage.blob.aio import ContainerClient

from shared.snapshot import find_snapshot
from tests.snapshot.support import ROOT, csv_settings, entity, put, put_model, read_all, url

ATTRS = ("CustomerId", "Email")


async def test_model_json_partitions_are_the_snapshot_in_listed_order(container: ContainerClient) -> None:
    folder = f"{ROOT}/Vip/2026/03/01/0930"
    names = [f"{folder}/Vip_10.csv", f"{folder}/Vip_2.csv"]
    await put(container, names[0], "1,a@x.com\n")
    await put(container, names[1], "2,b@x.com\n")
    # A newer folder that model.json does not list is ignored: model.json says which snapshot is complete.
    await put(container, f"{ROOT}/Vip/2026/03/01/0945/Vip_1.csv", "9,new@x.com\n")
    await put_model(container, entity("Vip", ATTRS, [url(container, n) for n in names]))

    snapshot = await find_snapshot(container, ROOT, "Vip")
    rows = await read_all(container, snapshot, ["Email"])

    assert snapshot.source == "model.json"
    assert [p.blob_name for p in snapshot.partitions] == names
    assert rows.table.column("Email").to_pylist() == ["a@x.com", "b@x.com"]


async def test_every_supported_location_form_maps_to_the_blob(container: ContainerClient) -> None:
    folder = f"{ROOT}/Vip/2026/03/01/0930"
    for i in range(1, 6):
        await put(container, f"{folder}/Vip {i}.csv", f"{i},p{i}@x.com\n")
    c = container.container_name
    locations = [
        url(container, f"{folder}/Vip%201.csv"),  # percent-encoded space
        url(container, f"{folder}/Vip%202.csv", "dfs"),  # Data Lake endpoint
        f"http://127.0.0.1:10000/devstoreaccount1/{c}/{folder}/Vip%203.csv",  # Azurite's path-style URL
        f"abfss://{c}@devstoreaccount1.dfs.core.windows.net/{folder}/Vip%204.csv",
        "Vip/2026/03/01/0930/Vip 5.csv",  # relative to the folder holding model.json
    ]
    await put_model(container, entity("Vip", ATTRS, locations))

    rows = await read_all(container, await find_snapshot(container, ROOT, "Vip"), ["Email"])

    assert rows.table.column("Email").to_pylist() == [f"p{i}@x.com" for i in range(1, 6)]


async def test_without_model_json_the_newest_folder_with_a_header_row_is_the_snapshot(
    container: ContainerClient,
) -> None:
    await put(container, f"{ROOT}/Vip/2025/12/31/2359/Vip_1.csv", "CustomerId,Email\n1,old@x.com\n")
    await put(container, f"{ROOT}/Vip/2026/01/02/0800/Vip_1.csv", "CustomerId,Email\n2,new1@x.com\n")
    await put(container, f"{ROOT}/Vip/2026/01/02/0800/Vip_10.csv", "CustomerId,Email\n4,new3@x.com\n")
    await put(container, f"{ROOT}/Vip/2026/01/02/0800/Vip_2.csv", "\ufeffEmail,CustomerId\nnew2@x.com,3\n")
    await put(container, f"{ROOT}/Vip/2026/01/02/0800/_SUCCESS", "")
    await put(container, f"{ROOT}/Vip/2026/01/02/0930/notes.txt", "not data")  # newer, but no data files
    await put(container, f"{ROOT}/Vip/2026/13/01/0000/Vip_1.csv", "CustomerId,Email\n9,bad-month@x.com\n")

    snapshot = await find_snapshot(container, ROOT, "Vip")
    rows = await read_all(container, snapshot, ["Email"])

    assert snapshot.source == "folder"
    assert snapshot.attributes == ("CustomerId", "Email")
    assert [p.blob_name.rsplit("/", 1)[1] for p in snapshot.partitions] == ["Vip_1.csv", "Vip_2.csv", "Vip_10.csv"]
    assert rows.table.column("Email").to_pylist() == ["new1@x.com", "new2@x.com", "new3@x.com"]


async def test_an_entity_missing_from_model_json_falls_back_to_its_newest_folder(container: ContainerClient) -> None:
    await put_model(container, entity("Other", ATTRS, [url(container, f"{ROOT}/Other/2026/01/01/0000/Other_1.csv")]))
    await put(container, f"{ROOT}/Vip/2026/02/01/0000/Vip_1.csv", "CustomerId,Email\n1,a@x.com\n")

    snapshot = await find_snapshot(container, ROOT, "Vip")

    assert snapshot.source == "folder"
    rows = await read_all(container, snapshot, ["Email"])
    assert rows.table.column("Email").to_pylist() == ["a@x.com"]


async def test_an_entity_listed_without_partitions_uses_the_folder_and_model_attributes(
    container: ContainerClient,
) -> None:
    await put_model(container, entity("Vip", ATTRS, []))
    await put(container, f"{ROOT}/Vip/2026/02/01/0000/Vip_1.csv", '"1","a@x.com"\n')  # no header row
    await put(container, f"{ROOT}/Hdr/2026/02/01/0000/Hdr_1.csv", "email,customerid\nb@x.com,2\n")
    await put_model(container, entity("Vip", ATTRS, []), entity("Hdr", ATTRS, []))

    vip = await read_all(container, await find_snapshot(container, ROOT, "Vip"), ["Email"])
    hdr = await read_all(container, await find_snapshot(container, ROOT, "Hdr"), ["Email"])

    assert vip.table.column("Email").to_pylist() == ["a@x.com"]
    assert hdr.table.column("Email").to_pylist() == ["b@x.com"]


async def test_snapshot_id_is_stable_until_a_new_snapshot_is_written(container: ContainerClient) -> None:
    first = f"{ROOT}/Vip/2026/03/01/0930/Vip_1.csv"
    await put(container, first, "1,a@x.com\n")
    await put_model(container, entity("Vip", ATTRS, [url(container, first)]))
    one = await find_snapshot(container, ROOT, "Vip")
    again = await find_snapshot(container, ROOT, "Vip")

    # Another entity added to model.json does not change this entity's snapshot.
    other = f"{ROOT}/Other/2026/03/01/0931/Other_1.csv"
    await put(container, other, "2,b@x.com\n")
    await put_model(
        container, entity("Vip", ATTRS, [url(container, first)]), entity("Other", ATTRS, [url(container, other)])
    )
    unrelated = await find_snapshot(container, ROOT, "Vip")

    # CI writes a new snapshot folder and points model.json at it.
    second = f"{ROOT}/Vip/2026/03/01/1000/Vip_1.csv"
    await put(container, second, "1,a@x.com\n")
    await put_model(container, entity("Vip", ATTRS, [url(container, second)]))
    newer = await find_snapshot(container, ROOT, "Vip")

    # The same file rewritten in place (new ETag) is a new snapshot too.
    await put(container, second, "1,a@x.com\n")
    rewritten = await find_snapshot(container, ROOT, "Vip")

    assert one.snapshot_id == again.snapshot_id == unrelated.snapshot_id
    assert len({one.snapshot_id, newer.snapshot_id, rewritten.snapshot_id}) == 3
    assert newer.written_at >= one.written_at


async def test_folder_snapshot_id_changes_with_a_newer_folder(container: ContainerClient) -> None:
    await put(container, f"{ROOT}/Vip/2026/03/01/0930/Vip_1.csv", "CustomerId,Email\n1,a@x.com\n")
    one = await find_snapshot(container, ROOT, "Vip")
    same = await find_snapshot(container, ROOT, "Vip")
    await put(container, f"{ROOT}/Vip/2026/03/01/0931/Vip_1.csv", "CustomerId,Email\n1,a@x.com\n")
    newer = await find_snapshot(container, ROOT, "Vip")

    assert one.snapshot_id == same.snapshot_id != newer.snapshot_id


async def test_parquet_only_folder_takes_its_columns_from_the_parquet_footer(container: ContainerClient) -> None:
    import io

    import pyarrow as pa
    import pyarrow.parquet as pq

    sink = io.BytesIO()
    pq.write_table(pa.table({"CustomerId": ["1"], "Email": ["a@x.com"], "Score": [3]}), sink)
    await put(container, f"{ROOT}/Vip/2026/03/01/0930/Vip_1.parquet", sink.getvalue())

    snapshot = await find_snapshot(container, ROOT, "Vip")
    rows = await read_all(container, snapshot, ["Score", "Email"])

    assert snapshot.attributes == ("CustomerId", "Email", "Score")
    assert rows.table.to_pylist() == [{"Score": "3", "Email": "a@x.com"}]


async def test_a_header_csv_in_model_json_with_settings_in_strings(container: ContainerClient) -> None:
    name = f"{ROOT}/Vip/2026/03/01/0930/Vip_1.csv"
    await put(container, name, "CustomerId\tEmail\n1\ta@x.com\n")
    await put_model(
        container, entity("Vip", ATTRS, [url(container, name)], csv_settings(columnHeaders="true", delimiter="\t"))
    )

    rows = await read_all(container, await find_snapshot(container, ROOT, "Vip"), ["Email"])

    assert rows.table.column("Email").to_pylist() == ["a@x.com"]
