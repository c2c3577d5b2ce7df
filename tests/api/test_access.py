"""Who may call what: the route x role matrix, forged principals, and connection sharing."""

from __future__ import annotations

from typing import Any

import pytest

from shared.api import ROUTES, Route
from shared.api.routes import PUBLIC
from shared.security import Role
from shared.services import Services
from tests.api.client import ADMIN, CONTRIBUTOR, NO_ROLE, VIEWER, ApiClient
from tests.api.conftest import Emu, ProdFactory, Snapshots, connection_body, export_body, export_id_of

PRINCIPALS: dict[str, tuple[str | None, frozenset[Role]]] = {
    "nobody": (None, frozenset()),
    "no-role": (NO_ROLE, frozenset()),
    "viewer": (VIEWER, frozenset({Role.VIEWER})),
    "contributor": (CONTRIBUTOR, frozenset({Role.CONTRIBUTOR})),
    "admin": (ADMIN, frozenset({Role.ADMIN})),
}
PROTECTED = [r for r in ROUTES if r.roles != PUBLIC]


def concrete(route: Route, name: str = "x-name", run_id: str = "20261120T120000Z-abcdef") -> str:
    return route.path.format(name=name, runId=run_id, exportId="e-0123456789abcdef")


def denials() -> list[Any]:
    cases = []
    for route in PROTECTED:
        for who, (_, roles) in PRINCIPALS.items():
            if not roles & route.roles:
                cases.append(pytest.param(route, who, id=f"{route.operation_id}-{who}"))
    return cases


@pytest.mark.parametrize(("route", "who"), denials())
async def test_no_principal_is_401_and_a_missing_role_is_403(
    api: ApiClient, dev: Services, route: Route, who: str
) -> None:
    header, _ = PRINCIPALS[who]
    reply = await api.call(route.method, concrete(route), as_=header, json_body={})

    expected = 401 if header is None else 403
    assert reply.status == expected, reply.body
    assert reply.error["code"] == ("unauthenticated" if expected == 401 else "forbidden")


async def test_a_viewer_cannot_write_anything(api: ApiClient, dev: Services, emu: Emu, unique: str) -> None:
    # given a connection and an export made by an admin
    await api.call("PUT", f"connections/{unique}", as_=ADMIN, json_body=connection_body(emu.host, emu.key))
    await api.call("PUT", f"exports/{unique}", as_=ADMIN, json_body=export_body(unique))
    before = (await dev.connections.get(unique)).etag, (await dev.exports.get(unique)).etag

    # when a viewer tries every write route on them
    writes = [r for r in PROTECTED if r.method != "GET"]
    replies = [await api.call(r.method, concrete(r, unique), as_=VIEWER, json_body={}) for r in writes]

    # then every one is 403 and nothing changed, and no run was started
    assert {r.status for r in replies} == {403}
    assert ((await dev.connections.get(unique)).etag, (await dev.exports.get(unique)).etag) == before
    assert await dev.runs.list(await export_id_of(dev, unique)) == []


async def test_a_forged_principal_is_401_when_easy_auth_is_off_and_the_header_is_not_trusted_locally(
    api: ApiClient, prod: ProdFactory, emu: Emu, unique: str
) -> None:
    # given a deployment without App Service Authentication and without LOCAL_TRUST_PRINCIPAL_HEADER
    services = await prod(auth_enabled=False)

    # when a client sends an admin principal it built itself, on every protected route
    replies = [await api.call(r.method, concrete(r, unique), as_=ADMIN, json_body={}) for r in PROTECTED]

    # then every call is 401 and nothing was saved
    assert {r.status for r in replies} == {401}
    assert "authentication is not enabled" in replies[0].error["message"]
    assert await services.connections.find(unique) is None


async def test_with_easy_auth_on_the_principal_is_trusted(
    api: ApiClient, prod: ProdFactory, emu: Emu, unique: str
) -> None:
    await prod(auth_enabled=True)
    reply = await api.call(
        "PUT", f"connections/{unique}", as_=ADMIN, json_body=connection_body("acct.api-us1.com", emu.key)
    )
    assert reply.status == 201, reply.body


@pytest.mark.parametrize("header", ["not base64!", "e30", "bnVsbA==", "W10="])  # junk, {}, null, []
async def test_a_malformed_principal_header_is_401(api: ApiClient, dev: Services, header: str) -> None:
    reply = await api.call("GET", "exports", as_=header)
    assert reply.status == 401 and reply.error["code"] == "unauthenticated"


async def make_world(api: ApiClient, emu: Emu, snapshots: Snapshots, unique: str) -> dict[str, str]:
    """A connection shared with contributors, one for admins only, an export on each, a run with a report."""
    await snapshots.write_segment("Members", ["Email", "FirstName"])
    shared, private = f"{unique}-shared", f"{unique}-private"
    for name, usable in ((shared, "admins-and-contributors"), (private, "admins")):
        reply = await api.call(
            "PUT", f"connections/{name}", as_=ADMIN, json_body=connection_body(emu.host, emu.key, usableBy=usable)
        )
        assert reply.status == 201, reply.body
        reply = await api.call("PUT", f"exports/{name}-export", as_=ADMIN, json_body=export_body(name))
        assert reply.status == 201, reply.body
    return {"shared": shared, "private": private}


async def put_report(services: Services, export: str, run_id: str) -> None:
    path = services.runs.path(await export_id_of(services, export), run_id, "report.csv")
    blob = services.runs_container.get_blob_client(path)
    await blob.upload_blob(b"row,reason\n3,invalid email\n", overwrite=True)


async def test_a_contributor_works_on_shared_connections_only(
    api: ApiClient, dev: Services, emu: Emu, snapshots: Snapshots, unique: str
) -> None:
    world = await make_world(api, emu, snapshots, unique)
    shared, private = world["shared"], world["private"]

    # the contributor lists only the shared connection, by name and display name
    listed = await api.call("GET", "connections", as_=CONTRIBUTOR)
    names = [c["name"] for c in listed.json()["items"]]
    assert shared in names and private not in names
    assert all(set(c) == {"name", "displayName"} for c in listed.json()["items"])
    got = await api.call("GET", f"connections/{shared}", as_=CONTRIBUTOR)
    assert got.status == 200 and got.json() == {"name": shared, "displayName": "CRM account"}

    # an admins-only connection answers exactly like a missing one: 403, with nothing about it
    hidden = await api.call("GET", f"connections/{private}", as_=CONTRIBUTOR)
    missing = await api.call("GET", f"connections/{unique}-nope", as_=CONTRIBUTOR)
    assert hidden.status == missing.status == 403
    assert hidden.error["message"].replace(private, "N") == missing.error["message"].replace(f"{unique}-nope", "N")
    assert emu.host.encode() not in hidden.body and b"CRM account" not in hidden.body

    # saving an export on it is 403 too, revealing nothing, and saves nothing
    on_private = await api.call("PUT", f"exports/{unique}-c1", as_=CONTRIBUTOR, json_body=export_body(private))
    on_missing = await api.call("PUT", f"exports/{unique}-c1", as_=CONTRIBUTOR, json_body=export_body(f"{unique}-no"))
    assert on_private.status == on_missing.status == 403
    assert emu.host.encode() not in on_private.body
    assert await dev.exports.find(f"{unique}-c1") is None

    # nor can the contributor run, cancel, download or delete an export that uses it
    private_export = f"{private}-export"
    started = await api.call("POST", f"exports/{private_export}/runs", as_=ADMIN)
    run_id = started.json()["id"]
    await put_report(dev, private_export, run_id)
    for method, path in (
        ("POST", f"exports/{private_export}/runs"),
        ("POST", f"exports/{private_export}/runs/{run_id}/cancel"),
        ("GET", f"exports/{private_export}/runs/{run_id}/report"),
        ("DELETE", f"exports/{private_export}"),
        ("PUT", f"exports/{private_export}"),
    ):
        body = export_body(shared) if method == "PUT" else None
        reply = await api.call(method, path, as_=CONTRIBUTOR, json_body=body)
        assert reply.status == 403, (method, path, reply.body)
    assert (await dev.exports.get(private_export)).doc.connection == private

    # on the shared connection, the contributor does everything an export needs
    export = f"{unique}-mine"
    statuses = [
        (await api.call("PUT", f"exports/{export}", as_=CONTRIBUTOR, json_body=export_body(shared))).status,
        (await api.call("GET", f"exports/{export}", as_=CONTRIBUTOR)).status,
        (await api.call("GET", "exports", as_=CONTRIBUTOR)).status,
    ]
    run = await api.call("POST", f"exports/{export}/runs", as_=CONTRIBUTOR, json_body={"dryRun": True})
    await put_report(dev, export, run.json()["id"])
    statuses += [
        run.status,
        (await api.call("GET", f"exports/{export}/runs", as_=CONTRIBUTOR)).status,
        (await api.call("GET", f"exports/{export}/runs/{run.json()['id']}", as_=CONTRIBUTOR)).status,
        (await api.call("GET", f"exports/{export}/runs/{run.json()['id']}/report", as_=CONTRIBUTOR)).status,
        (await api.call("POST", f"exports/{export}/runs/{run.json()['id']}/cancel", as_=CONTRIBUTOR)).status,
        (await api.call("DELETE", f"exports/{export}", as_=CONTRIBUTOR)).status,
    ]
    assert statuses == [201, 200, 200, 202, 200, 200, 200, 202, 200]


PHASE = {
    "connection_put": 0,
    "export_put": 0,
    "run_start": 1,
    "run_cancel": 3,
    "export_delete": 4,
    "connection_delete": 5,
}


async def test_every_role_gets_a_success_on_every_route_it_holds(
    api: ApiClient, dev: Services, emu: Emu, snapshots: Snapshots, unique: str
) -> None:
    world = await make_world(api, emu, snapshots, unique)
    shared_export = f"{world['shared']}-export"
    shared_run = (await api.call("POST", f"exports/{shared_export}/runs", as_=ADMIN)).json()["id"]
    await put_report(dev, shared_export, shared_run)
    gone = f"{unique}-gone"  # a deleted export: its runs are read under its retired id
    assert (await api.call("PUT", f"exports/{gone}", as_=ADMIN, json_body=export_body(world["shared"]))).status == 201
    retired_id = await export_id_of(dev, gone)
    retired_run = (await api.call("POST", f"exports/{gone}/runs", as_=ADMIN)).json()["id"]
    await put_report(dev, gone, retired_run)
    assert (await api.call("DELETE", f"exports/{gone}", as_=ADMIN)).status == 200
    results: dict[tuple[str, str], int] = {}

    for who in ("viewer", "contributor", "admin"):
        header, roles = PRINCIPALS[who]
        own = f"{unique}-{who}"
        own_run = ""
        for route in sorted(ROUTES, key=lambda r: PHASE.get(r.operation_id, 2)):
            if route.roles and not roles & route.roles:
                continue
            body: dict[str, Any] | None = None
            if route.operation_id == "connection_put":
                body = connection_body(emu.host, emu.key)
            elif route.operation_id == "export_put":
                body = export_body(world["shared"])
            elif route.operation_id == "connection_verify":
                body = {"hostname": emu.host, "apiKey": emu.key}
            mine = route.operation_id in PHASE
            retired = route.path.startswith("retired-exports")
            path = route.path.format(
                name=own if mine else (world["shared"] if route.path.startswith("connections") else shared_export),
                runId=own_run if mine else (retired_run if retired else shared_run),
                exportId=retired_id,
            )
            reply = await api.call(route.method, path, as_=header, json_body=body)
            if route.operation_id == "run_start" and reply.status == 202:
                own_run = reply.json()["id"]
            results[(route.operation_id, who)] = reply.status

    assert {k: v for k, v in results.items() if not 200 <= v < 300} == {}
    held = {
        (r.operation_id, w)
        for r in ROUTES
        for w in ("viewer", "contributor", "admin")
        if not r.roles or PRINCIPALS[w][1] & r.roles
    }
    assert set(results) == held
