"""Roles, over real HTTP through the stand-in host (tests/api calls the functions directly).

- the route x role matrix of tests/api (its cases, reused) holds on the wire, and every
  role still reaches each route it holds;
- a deployment without App Service Authentication refuses a forged X-MS-CLIENT-PRINCIPAL on
  every protected route, and saves nothing;
- malformed and odd principal headers are 401, and a role claim must match exactly;
- a contributor loses an export as soon as an admin narrows its connection to admins only,
  while viewers keep reading it and admins keep running it.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from local.sample_data import SampleOptions
from shared.api import ROUTES
from shared.api.routes import PUBLIC
from shared.security import encode_principal
from shared.services import Services
from tests.api.client import ADMIN, CONTRIBUTOR, NO_ROLE, VIEWER, ApiClient
from tests.api.test_access import PRINCIPALS, concrete
from tests.e2e.stack import Stack

PROTECTED = [r for r in ROUTES if r.roles != PUBLIC]


async def call(stack: Stack, method: str, path: str, who: str | None, body: Any = None) -> tuple[int, Any]:
    return await stack.call(method, f"/{path}", body, principal=who)


async def test_the_route_role_matrix_holds_over_http(stack: Stack) -> None:
    # given a connection shared with contributors, an export on it, and a run
    await stack.connect("ac")
    await stack.create_export("shared-export", segments=["Members"], mapping={"email": "Email"})
    run_id = await stack.start_run("shared-export")
    outcomes: dict[tuple[str, str], int] = {}

    # when every principal calls every protected route (in the read-only or refused forms)
    for route in PROTECTED:
        for who, (header, roles) in PRINCIPALS.items():
            if roles & route.roles:
                continue
            status, answer = await call(stack, route.method, concrete(route, "shared-export", run_id), header, {})
            outcomes[(route.operation_id, who)] = status
            assert isinstance(answer, dict) and set(answer) == {"error"}, answer

    # then a missing principal is 401 and a missing role 403, on the wire as in tests/api
    expected = {(op, who): 401 if PRINCIPALS[who][0] is None else 403 for op, who in outcomes}
    assert outcomes == expected
    assert len(outcomes) == sum(1 for r in PROTECTED for _, roles in PRINCIPALS.values() if not roles & r.roles)
    # and the refused calls changed nothing: the export and its single run are still there
    assert (await call(stack, "GET", "exports/shared-export", ADMIN))[0] == 200
    status, runs = await call(stack, "GET", "exports/shared-export/runs", VIEWER)
    assert status == 200 and [r["id"] for r in runs["items"]] == [run_id]


@pytest.mark.parametrize(
    "stack_options",
    [
        {
            "LOCAL_TRUST_PRINCIPAL_HEADER": "false",
            "AC_ALLOWED_LOCAL_HOSTS": "",
            "LOCAL_SECRETS": "false",
            "KEY_VAULT_URL": "https://kv.vault.azure.net",
        }
    ],
)
async def test_without_easy_auth_a_forged_admin_principal_gets_401_on_every_protected_route(stack: Stack) -> None:
    # given a deployment with neither App Service Authentication nor LOCAL_TRUST_PRINCIPAL_HEADER
    replies = []
    for route in PROTECTED:
        replies.append(await call(stack, route.method, concrete(route, "forged"), ADMIN, {"displayName": "x"}))

    statuses = {status for status, _ in replies}
    assert statuses == {401}, replies
    assert all("authentication is not enabled" in answer["error"]["message"] for _, answer in replies)
    # the public OpenAPI document still answers, and nothing was saved
    assert (await call(stack, "GET", "openapi.json", None))[0] == 200
    async with stack.container("config") as config:
        assert [b.name async for b in config.list_blobs()] == []


def raw_principal(body: Any) -> str:
    return base64.b64encode(json.dumps(body).encode()).decode()


@pytest.mark.parametrize(
    ("header", "status"),
    [
        pytest.param("%%%", 401, id="not-base64"),
        pytest.param(base64.b64encode(b"\xff\xfe\xfd").decode(), 401, id="not-utf8"),
        pytest.param(raw_principal("admin"), 401, id="a-json-string"),
        pytest.param(raw_principal({"claims": "Admin"}), 401, id="claims-not-a-list"),
        pytest.param(raw_principal({"claims": []}), 401, id="no-user"),
        pytest.param(raw_principal({"claims": [{"typ": "roles", "val": "Admin"}]}), 401, id="roles-but-no-user"),
        pytest.param("A" * 8_000, 401, id="8-KB-of-zeros"),
        pytest.param(encode_principal("eve", "admin"), 403, id="role-in-lower-case"),
        pytest.param(encode_principal("eve", " Admin"), 403, id="role-with-a-space"),
        pytest.param(encode_principal("eve", "Administrator"), 403, id="another-role"),
        pytest.param(NO_ROLE, 403, id="no-role"),
        pytest.param(
            raw_principal({"claims": [{"typ": "name", "val": "eve"}, {"typ": "role", "val": "Admin"}]}),
            403,
            id="unknown-role-claim-type",
        ),
    ],
)
async def test_odd_principal_headers_never_grant_a_role(stack: Stack, header: str, status: int) -> None:
    got, answer = await call(stack, "GET", "connections", header)
    assert got == status, answer
    assert answer["error"]["code"] == ("unauthenticated" if status == 401 else "forbidden")


async def test_a_principal_header_over_16_kb_is_401_without_being_decoded(api: ApiClient, dev: Services) -> None:
    # (the stand-in host, like most front ends, refuses headers over 8 KB itself; this is the app's own limit)
    huge = encode_principal("eve", "Admin", user_id="u" * 20_000)

    reply = await api.call("GET", "connections", as_=huge)

    assert reply.status == 401 and "too large" in reply.error["message"]


async def test_a_contributor_loses_an_export_when_its_connection_becomes_admins_only(stack: Stack) -> None:
    # given a contributor's export on a connection shared with contributors, with a finished run
    await stack.connect("ac")
    await stack.write_sample(SampleOptions(profiles=20, seed=1, partitions=1))
    body = {"connection": "ac", "listId": 1, "segments": ["ActiveCustomers"], "mapping": {"email": "Email"}}
    body["schedule"] = "manual"
    assert (await call(stack, "PUT", "exports/mine", CONTRIBUTOR, body))[0] == 201
    status, run = await call(stack, "POST", "exports/mine/runs", CONTRIBUTOR, {"dryRun": True})
    assert status == 202
    done = await stack.wait_run("mine", run["id"])
    assert done["status"] == "Succeeded", done

    # when an admin narrows the connection to admins only
    hostname = stack.emulator.url.removeprefix("http://")
    await stack.api.put_connection("ac", hostname=hostname, api_key=stack.emulator.api_key, usable_by="admins")

    # then every change, run, cancel and report download by the contributor is refused, revealing nothing
    refused = [
        await call(stack, "PUT", "exports/mine", CONTRIBUTOR, body),
        await call(stack, "POST", "exports/mine/runs", CONTRIBUTOR, {}),
        await call(stack, "POST", f"exports/mine/runs/{done['id']}/cancel", CONTRIBUTOR),
        await call(stack, "GET", f"exports/mine/runs/{done['id']}/report", CONTRIBUTOR),
        await call(stack, "DELETE", "exports/mine", CONTRIBUTOR),
        await call(stack, "GET", "connections/ac", CONTRIBUTOR),
    ]
    assert [status for status, _ in refused] == [403] * len(refused), refused
    assert all(hostname not in json.dumps(answer) for _, answer in refused)
    # viewers (and contributors) still read it; an admin still runs it; the contributor's run history stays
    assert (await call(stack, "GET", "exports/mine", VIEWER))[0] == 200
    assert (await call(stack, "GET", f"exports/mine/runs/{done['id']}", CONTRIBUTOR))[0] == 200
    status, again = await call(stack, "POST", "exports/mine/runs", ADMIN, {"dryRun": True})
    assert status == 202 and (await stack.wait_run("mine", again["id"]))["status"] == done["status"]
