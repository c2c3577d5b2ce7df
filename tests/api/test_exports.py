"""Exports over HTTP: checked against ActiveCampaign and the segment snapshots, saved without running."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from shared.config import Settings
from shared.models import RunStatus
from shared.services import Services
from tests.api.client import ADMIN, CONTRIBUTOR, VIEWER, ApiClient
from tests.api.conftest import Emu, Snapshots, connection_body, export_body, export_id_of

HEADER = ["Email", "FirstName", "LastName", "Phone", "Plan"]


async def connect(api: ApiClient, emu: Emu, name: str) -> None:
    reply = await api.call("PUT", f"connections/{name}", as_=ADMIN, json_body=connection_body(emu.host, emu.key))
    assert reply.status == 201, reply.body


async def test_saving_an_export_checks_it_and_does_not_run_it(
    api: ApiClient, dev: Services, emu: Emu, snapshots: Snapshots, unique: str
) -> None:
    await connect(api, emu, unique)
    await snapshots.write_segment("Members", HEADER)
    plan = emu.server.state.add_field("Plan", "text")
    mapping = {
        "email": "Email",
        "firstName": "firstname",  # attributes match case-insensitively, as the pipeline reads them
        "customFields": [{"attribute": "Plan", "field": "plan"}, {"attribute": "Phone", "field": str(plan.id)}],
    }
    body = export_body(unique, mapping=mapping, syncMode="mirror", leaverAction="none", maxRemovalPercent=5)

    reply = await api.call("PUT", f"exports/{unique}", as_=ADMIN, json_body=body)

    assert reply.status == 201, reply.body
    view = reply.json()
    assert view["warnings"] == [] and view["syncMode"] == "mirror" and view["maxRemovalPercent"] == 5
    assert view["createdBy"] == {"id": "u-alice", "name": "alice"}
    assert reply.header("Location") == f"/api/exports/{unique}" and reply.header("ETag")
    # saving does not run it
    assert reply.queue_messages == [] and await dev.runs.list(await export_id_of(dev, unique)) == []
    # everyone reads it, with the same ETag
    got = await api.call("GET", f"exports/{unique}", as_=VIEWER)
    assert got.status == 200 and got.header("ETag") == reply.header("ETag")
    assert got.json()["mapping"]["customFields"][0] == {"attribute": "Plan", "field": "plan"}
    listed = await api.call("GET", "exports", as_=VIEWER)
    assert unique in [e["name"] for e in listed.json()["items"]]


async def test_without_a_snapshot_yet_the_export_is_saved_with_a_warning(
    api: ApiClient, dev: Services, emu: Emu, unique: str
) -> None:
    await connect(api, emu, unique)
    reply = await api.call("PUT", f"exports/{unique}", as_=ADMIN, json_body=export_body(unique, segments=["Later"]))

    assert reply.status == 201, reply.body
    [warning] = reply.json()["warnings"]
    assert "'Later'" in warning and "no snapshot" in warning
    assert await dev.exports.find(unique) is not None


async def test_an_unknown_list_id_is_refused_naming_list_id(
    api: ApiClient, dev: Services, emu: Emu, snapshots: Snapshots, unique: str
) -> None:
    await connect(api, emu, unique)
    await snapshots.write_segment("Members", HEADER)

    reply = await api.call("PUT", f"exports/{unique}", as_=ADMIN, json_body=export_body(unique, listId=999))

    assert (reply.status, reply.fields) == (400, ["listId"])
    assert "list 999 does not exist" in reply.error["details"][0]["message"]
    assert await dev.exports.find(unique) is None


async def test_unknown_attributes_and_fields_are_all_named_in_one_answer(
    api: ApiClient, dev: Services, emu: Emu, snapshots: Snapshots, unique: str
) -> None:
    await connect(api, emu, unique)
    await snapshots.write_segment("Members", HEADER)
    await snapshots.write_segment("Vips", ["Email", "Tier"])
    mapping = {
        "email": "Email",
        "lastName": "Surname",
        "customFields": [{"attribute": "Plan", "field": "No such field"}],
    }
    body = export_body(unique, segments=["Members", "Vips"], mapping=mapping)

    reply = await api.call("PUT", f"exports/{unique}", as_=ADMIN, json_body=body)

    assert reply.status == 400
    assert sorted(reply.fields) == sorted(
        [
            "mapping.customFields.0.field",
            "mapping.lastName",  # missing in Members
            "mapping.lastName",  # and in Vips
            "mapping.customFields.0.attribute",  # Plan is missing in Vips
        ]
    )
    messages = " ".join(d["message"] for d in reply.error["details"])
    assert "'Vips' has no attribute 'Surname' (its attributes come from the first row" in messages
    assert await dev.exports.find(unique) is None


async def test_a_files_first_row_is_never_echoed_when_a_mapped_attribute_is_missing(
    api: ApiClient, dev: Services, emu: Emu, snapshots: Snapshots, unique: str
) -> None:
    # no model.json, and a partition without a header row: its first row (a customer) passes for a header
    await snapshots.write_segment("Members", ["Jane", "Doe", "Premium"], [["x@example.com", "X", "Y"]])
    await connect(api, emu, unique)

    reply = await api.call("PUT", f"exports/{unique}", as_=ADMIN, json_body=export_body(unique))

    assert reply.status == 400 and "mapping.email" in reply.fields, reply.body
    assert b"Jane" not in reply.body and b"Doe" not in reply.body


async def test_the_exports_snapshot_root_override_is_used_for_the_checks(
    api: ApiClient, dev: Services, emu: Emu, snapshots: Snapshots, unique: str
) -> None:
    await connect(api, emu, unique)
    await snapshots.write_segment("Members", ["Email"], root="CustomerInsights_1/Weekly")
    mapping = {"email": "Email", "firstName": "FirstName"}

    default_root = await api.call("PUT", f"exports/{unique}", as_=ADMIN, json_body=export_body(unique, mapping=mapping))
    overridden = await api.call(
        "PUT",
        f"exports/{unique}-2",
        as_=ADMIN,
        json_body=export_body(unique, mapping=mapping, snapshotRoot="/CustomerInsights_1/Weekly/"),
    )

    assert default_root.status == 201 and default_root.json()["warnings"]  # nothing at the default root yet
    assert (overridden.status, overridden.fields) == (400, ["mapping.firstName"])


async def share(api: ApiClient, emu: Emu, name: str) -> None:
    body = connection_body(emu.host, emu.key, usableBy="admins-and-contributors")
    assert (await api.call("PUT", f"connections/{name}", as_=ADMIN, json_body=body)).status == 201


@pytest.mark.parametrize(
    ("env", "inside", "outside"),
    [
        # SNAPSHOT_ALLOWED_ROOTS unset: only SNAPSHOT_ROOT and the folders below it
        ({}, ["ci_1", "/ci_1/Weekly/", "ci_1/Weekly/eu"], ["ci_2", "ci_10", "ci", "other/ci_1", "ci_1x/Weekly"]),
        # an operator's list: only those folders and the folders below them (SNAPSHOT_ROOT is not implied)
        (
            {"SNAPSHOT_ALLOWED_ROOTS": " ci_2/a , /ci_3/ "},
            ["ci_2/a", "ci_2/a/x", "ci_3", "ci_3/y/z"],
            ["ci_1", "ci_1/Weekly", "ci_2", "ci_2/ab", "ci_4"],
        ),
    ],
    ids=["default", "listed"],
)
async def test_contributors_may_name_only_snapshot_roots_inside_the_allowed_ones_and_admins_any(
    api: ApiClient, dev: Services, emu: Emu, unique: str, env: dict[str, str], inside: list[str], outside: list[str]
) -> None:
    # given SNAPSHOT_ROOT=ci_1 (and the case's SNAPSHOT_ALLOWED_ROOTS), read as the app reads its settings
    read = Settings.from_env({"AzureWebJobsStorage": "UseDevelopmentStorage=true", "SNAPSHOT_ROOT": "ci_1", **env})
    dev.settings = dataclasses.replace(
        dev.settings, snapshot_root=read.snapshot_root, snapshot_allowed_roots=read.snapshot_allowed_roots
    )
    await share(api, emu, unique)

    def put(n: int, who: str, root: str | None) -> Any:
        extra = {} if root is None else {"snapshotRoot": root}
        return api.call("PUT", f"exports/{unique}-{n}", as_=who, json_body=export_body(unique, **extra))

    allowed = [await put(i, CONTRIBUTOR, root) for i, root in enumerate([None, *inside])]
    refused = [await put(100 + i, CONTRIBUTOR, root) for i, root in enumerate(outside)]
    by_admin = [await put(200 + i, ADMIN, root) for i, root in enumerate(outside)]

    assert [r.status for r in allowed] == [201] * len(allowed), [r.body for r in allowed]
    assert [(r.status, r.fields) for r in refused] == [(400, ["snapshotRoot"])] * len(outside)
    assert "SNAPSHOT_ALLOWED_ROOTS" in refused[0].error["details"][0]["message"]
    assert [await dev.exports.find(f"{unique}-{100 + i}") for i in range(len(outside))] == [None] * len(outside)
    assert [r.status for r in by_admin] == [201] * len(outside), [r.body for r in by_admin]


async def test_a_contributor_may_keep_the_snapshot_root_an_admin_set_but_not_move_it(
    api: ApiClient, dev: Services, emu: Emu, unique: str
) -> None:
    dev.settings = dataclasses.replace(dev.settings, snapshot_root="ci_1")
    await share(api, emu, unique)
    made = await api.call("PUT", f"exports/{unique}", as_=ADMIN, json_body=export_body(unique, snapshotRoot="ci_9"))
    assert made.status == 201, made.body

    kept = await api.call(
        "PUT", f"exports/{unique}", as_=CONTRIBUTOR, json_body=export_body(unique, snapshotRoot="ci_9", tags=["x"])
    )
    moved = await api.call("PUT", f"exports/{unique}", as_=CONTRIBUTOR, json_body=export_body(unique, snapshotRoot="z"))

    assert kept.status == 200 and kept.json()["tags"] == ["x"], kept.body
    assert (moved.status, moved.fields) == (400, ["snapshotRoot"])
    assert (await dev.exports.get(unique)).doc.snapshot_root == "ci_9"


async def test_body_rules_of_the_model_are_named(api: ApiClient, dev: Services, emu: Emu, unique: str) -> None:
    await connect(api, emu, unique)
    cases: list[tuple[dict[str, Any], list[str]]] = [
        ({"mapping": {"firstName": "First"}}, ["mapping.email"]),
        ({"schedule": "every day"}, ["schedule"]),
        ({"syncMode": "replace", "leaverAction": "delete"}, ["syncMode", "leaverAction"]),
        ({"maxRemovalPercent": 150}, ["maxRemovalPercent"]),
        ({"segments": []}, ["segments"]),
        ({"listId": "one"}, ["listId"]),
        ({"colour": "blue"}, ["colour"]),
    ]
    for overrides, fields in cases:
        reply = await api.call("PUT", f"exports/{unique}", as_=ADMIN, json_body=export_body(unique, **overrides))
        assert (reply.status, sorted(reply.fields)) == (400, sorted(fields)), overrides
    missing = await api.call("PUT", f"exports/{unique}", as_=ADMIN, json_body=export_body(f"{unique}-none"))
    assert (missing.status, missing.fields) == (400, ["connection"])


async def test_a_stale_etag_on_an_export_is_412(api: ApiClient, dev: Services, emu: Emu, unique: str) -> None:
    await connect(api, emu, unique)
    first = await api.call("PUT", f"exports/{unique}", as_=ADMIN, json_body=export_body(unique))
    etag = {"If-Match": first.header("ETag") or ""}
    second = await api.call(
        "PUT", f"exports/{unique}", as_=ADMIN, json_body=export_body(unique, tags=["a"]), headers=etag
    )
    stale = await api.call(
        "PUT", f"exports/{unique}", as_=ADMIN, json_body=export_body(unique, tags=["b"]), headers=etag
    )

    assert (first.status, second.status, stale.status) == (201, 200, 412)
    assert (await dev.exports.get(unique)).doc.tags == ["a"]
    assert second.json()["createdAt"] == first.json()["createdAt"]


async def test_deleting_an_export_cancels_its_run_and_keeps_the_history(
    api: ApiClient, dev: Services, emu: Emu, unique: str
) -> None:
    await connect(api, emu, unique)
    created = await api.call("PUT", f"exports/{unique}", as_=ADMIN, json_body=export_body(unique))
    old_id = created.json()["id"]
    run = (await api.call("POST", f"exports/{unique}/runs", as_=ADMIN)).json()
    assert run["exportId"] == old_id

    deleted = await api.call("DELETE", f"exports/{unique}", as_=ADMIN)

    assert deleted.status == 200 and deleted.json() == {"name": unique, "id": old_id, "canceledRunId": run["id"]}
    assert (await api.call("GET", f"exports/{unique}", as_=ADMIN)).status == 404
    assert (await api.call("GET", f"exports/{unique}/runs", as_=VIEWER)).status == 404
    # a run cannot be started on a deleted export
    assert (await api.call("POST", f"exports/{unique}/runs", as_=ADMIN)).status == 404
    assert (await api.call("DELETE", f"exports/{unique}", as_=ADMIN)).status == 404
    # the history stays under the retired id, for admins only
    retired = (await api.call("GET", "retired-exports", as_=ADMIN)).json()["items"]
    assert [r["name"] for r in retired if r["id"] == old_id] == [unique]
    [kept] = (await api.call("GET", f"retired-exports/{old_id}/runs", as_=ADMIN)).json()["items"]
    assert kept["id"] == run["id"] and kept["cancelRequested"] is True and kept["status"] == RunStatus.QUEUED
    one = await api.call("GET", f"retired-exports/{old_id}/runs/{run['id']}", as_=ADMIN)
    assert one.status == 200 and one.json()["exportId"] == old_id
    for who in (CONTRIBUTOR, VIEWER):
        assert (await api.call("GET", f"retired-exports/{old_id}/runs", as_=who)).status == 403


async def test_a_new_export_with_a_deleted_exports_name_starts_from_nothing(
    api: ApiClient, dev: Services, emu: Emu, unique: str
) -> None:
    await connect(api, emu, unique)  # shared with admins only
    shared = f"{unique}-shared"
    body = connection_body(emu.host, emu.key, usableBy="admins-and-contributors")
    assert (await api.call("PUT", f"connections/{shared}", as_=ADMIN, json_body=body)).status == 201
    old = (await api.call("PUT", f"exports/{unique}", as_=ADMIN, json_body=export_body(unique))).json()
    run = (await api.call("POST", f"exports/{unique}/runs", as_=ADMIN)).json()
    report = dev.runs_container.get_blob_client(dev.runs.path(old["id"], run["id"], "report.csv"))
    await report.upload_blob(b"email,outcome\nsecret@example.com,rejected\n", overwrite=True)
    await api.call("DELETE", f"exports/{unique}", as_=ADMIN)

    # a contributor takes the deleted name over, on a connection shared with contributors
    new = await api.call("PUT", f"exports/{unique}", as_=CONTRIBUTOR, json_body=export_body(shared))

    assert new.status == 201 and new.json()["id"] != old["id"]
    assert (await api.call("GET", f"exports/{unique}/runs", as_=CONTRIBUTOR)).json()["items"] == []
    for path in (f"exports/{unique}/runs/{run['id']}", f"exports/{unique}/runs/{run['id']}/report"):
        assert (await api.call("GET", path, as_=CONTRIBUTOR)).status == 404, path
    assert (await api.call("GET", f"retired-exports/{old['id']}/runs", as_=CONTRIBUTOR)).status == 403
    assert await dev.runs.list(await export_id_of(dev, unique)) == []
