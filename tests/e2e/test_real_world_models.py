"""A model.json as CDM writers leave it, end to end: entities the export does not read (a ReferenceEntity, one
without attributes) do not fail it, and a partition location with `?snapshot=` is read from that blob snapshot,
not from the current blob."""

from __future__ import annotations

import json

from tests.e2e.stack import SNAPSHOT_ROOT, Stack

SEGMENT = "Members"
PARTITION = f"{SEGMENT}/2026/03/01/0930/{SEGMENT}_1.csv"
THEN = b"then1@example.com,Tia\nthen2@example.com,Tom\n"
NOW = b"now1@example.com,Noa\nnow2@example.com,Ned\nnow3@example.com,Nils\n"


def model_json(location: str) -> bytes:
    members = {
        "$type": "LocalEntity",
        "name": SEGMENT,
        "attributes": [{"name": "Email", "dataType": "string"}, {"name": "FirstName", "dataType": "string"}],
        "partitions": [{"name": f"{SEGMENT}_1", "location": location}],
    }
    reference = {"$type": "ReferenceEntity", "name": "Accounts", "source": "Sales", "modelId": "crm-model"}
    empty = {"$type": "LocalEntity", "name": "Draft", "attributes": [], "partitions": []}
    return json.dumps({"name": "CI", "version": "1.0", "entities": [reference, empty, members]}).encode()


async def test_a_run_reads_the_blob_snapshot_model_json_names_and_ignores_entities_it_does_not_read(
    stack: Stack,
) -> None:
    async with stack.container(stack.settings["SNAPSHOT_CONTAINER"]) as container:
        await container.create_container()
        blob = container.get_blob_client(f"{SNAPSHOT_ROOT}/{PARTITION}")
        await blob.upload_blob(THEN)
        taken = (await blob.create_snapshot())["snapshot"]
        await blob.upload_blob(NOW, overwrite=True)  # the current blob moved on after the snapshot was taken
        location = f"{PARTITION}?snapshot={taken}"
        await container.upload_blob(f"{SNAPSHOT_ROOT}/model.json", model_json(location), overwrite=True)
    await stack.connect()
    await stack.create_export("members", segments=[SEGMENT], mapping={"email": "Email", "firstName": "FirstName"})

    run = await stack.run("members")

    assert run["status"] == "Succeeded", run
    assert run["counts"]["profilesRead"] == 2
    assert set(stack.members()) == {"then1@example.com", "then2@example.com"}
    contact = stack.emulator.state.contact("then1@example.com")
    assert contact is not None and contact.first_name == "Tia"
