"""Roles, over real HTTP through the stand-in host (tests/api calls the functions directly).

- what each principal (none, no role, Viewer, Contributor, Admin) may do, and only that: every
  route called by every principal, each allowed call answering its success status (its own
  connection, export and run for calls that change something), every other one 401 or 403;
  the report downloads are of reports the product wrote in a real run through the stack;
- a deployment without App Service Authentication refuses a forged X-MS-CLIENT-PRINCIPAL on
  every protected route, and saves nothing;
- malformed and odd principal headers are 401, and a role claim must match exactly;
- a contributor loses an export as soon as an admin narrows its connection to admins only,
  while viewers keep reading it and admins keep running it.
"""

from __future__ import annotations

import base64
import csv
import io
import json
from typing import Any

import pytest

import function_app
from local.host import index_app
from local.sample_data import SampleOptions
from shared.api import ROUTES
from shared.api.routes import PUBLIC
from shared.names import RUNS_CONTAINER
from shared.pipeline.report import REPORT_NAME
from shared.security import encode_principal
from shared.services import Services
from tests.api.client import ADMIN, CONTRIBUTOR, NO_ROLE, VIEWER, ApiClient
from tests.api.conftest import connection_body
from tests.api.test_access import PRINCIPALS, concrete
from tests.e2e.stack import Stack

PROTECTED = [r for r in ROUTES if r.roles != PUBLIC]


async def call(stack: Stack, method: str, path: str, who: str | None, body: Any = None) -> tuple[int, Any]:
    return await stack.call(method, f"/{path}", body, principal=who)


# what each principal may do over HTTP, with the status its success answers (written out by hand, not derived
# from the route table, so a route that grants or drops a role by mistake breaks the match); anything else is
# 401 without a principal and 403 with one
PUBLIC_CALLS: dict[str, int] = {"openapi": 200, "me": 200}
VIEWER_CALLS = {**PUBLIC_CALLS, "exports_list": 200, "export_get": 200, "runs_list": 200, "run_get": 200}
CONTRIBUTOR_CALLS = {
    **VIEWER_CALLS,
    "connections_list": 200,
    "connection_get": 200,
    "connection_lists": 200,
    "connection_fields": 200,
    "segments_list": 200,
    "export_put": 201,
    "run_start": 202,
    "run_cancel": 202,
    "run_report": 200,
    "export_delete": 200,
}
ADMIN_CALLS = {
    **CONTRIBUTOR_CALLS,
    "connection_put": 201,
    "connection_verify": 200,
    "connection_delete": 204,
    "retired_exports_list": 200,
    "retired_runs_list": 200,
    "retired_run_get": 200,
    "retired_run_report": 200,
}
MAY: dict[str, dict[str, int]] = {
    "nobody": PUBLIC_CALLS,
    "no-role": PUBLIC_CALLS,
    "viewer": VIEWER_CALLS,
    "contributor": CONTRIBUTOR_CALLS,
    "admin": ADMIN_CALLS,
}
# the calls that change something act on the caller's own connection, export and run, in this order
OWN_PHASE = {"connection_put": 0, "export_put": 0, "run_start": 1, "run_cancel": 3, "export_delete": 4}
OWN_PHASE["connection_delete"] = 5
EXPORT_BODY = {
    "connection": "ac",
    "listId": 1,
    "segments": ["ActiveCustomers"],
    "mapping": {"email": "Email"},
    "schedule": "manual",
}
HTTP_FUNCTIONS = [spec.name for spec in index_app(function_app.app) if spec.name.startswith("http_")]


async def test_each_role_may_do_what_it_holds_and_nothing_else_over_http(stack: Stack) -> None:
    # given a connection shared with contributors, the product's own report of a real run (a fifth of the rows
    # invalid) and a deleted export whose run also wrote one
    await stack.connect("ac")
    await stack.write_sample(SampleOptions(profiles=30, seed=5, partitions=1, invalid_rate=0.2, duplicate_rate=0))
    await stack.create_export("shared-export", mapping={"email": "Email"})
    await stack.create_export("gone", mapping={"email": "Email"})
    shared_run, gone_run = await stack.start_run("shared-export"), await stack.start_run("gone")
    for export, run_id in (("shared-export", shared_run), ("gone", gone_run)):
        assert (await stack.wait_run(export, run_id))["status"] == "Succeeded"
    written = await report_blob(stack, "shared-export", shared_run)
    retired_id = await stack.export_id("gone")
    retired_report = await report_blob(stack, "gone", gone_run)
    assert (await call(stack, "DELETE", "exports/gone", ADMIN))[0] == 200
    # (only the API from here on: the runs the callers start stay queued, so they can be cancelled)
    await stack.restart_host(HTTP_FUNCTIONS)
    hostname = stack.emulator.url.removeprefix("http://")
    outcomes: dict[tuple[str, str], int] = {}
    reports: dict[tuple[str, str], str] = {}

    # when every principal calls every route: on its own connection, export and run when the call changes
    # something, on the shared ones (or the deleted export's) when it reads
    for who, (header, _) in PRINCIPALS.items():
        own_run = "none-yet"
        for route in sorted(ROUTES, key=lambda r: OWN_PHASE.get(r.operation_id, 2)):
            op, own = route.operation_id, route.operation_id in OWN_PHASE
            body: Any = {}
            if op == "connection_put":
                body = connection_body(hostname, stack.emulator.api_key, displayName=who)
            elif op == "export_put":
                body = EXPORT_BODY
            elif op == "connection_verify":
                body = {"hostname": hostname, "apiKey": stack.emulator.api_key}
            elif op == "run_start":
                body = {"dryRun": True}
            path = route.path.format(
                name=f"{who}-own" if own else ("ac" if route.path.startswith("connections") else "shared-export"),
                runId=own_run if own else (gone_run if route.path.startswith("retired") else shared_run),
                exportId=retired_id,
            )
            status, answer = await call(stack, route.method, path, header, body)
            outcomes[(op, who)] = status
            if op == "run_start" and status == 202:
                own_run = answer["id"]
            if op.endswith("report") and status == 200:
                reports[(op, who)] = answer
            if not 200 <= status < 300:
                assert isinstance(answer, dict) and set(answer) == {"error"}, answer

    # then each role succeeded at exactly what it may do, with that call's status; the rest is 401 or 403
    expected = {
        (route.operation_id, who): MAY[who].get(route.operation_id, 401 if header is None else 403)
        for route in ROUTES
        for who, (header, _) in PRINCIPALS.items()
    }
    assert outcomes == expected
    assert set(ADMIN_CALLS) == {route.operation_id for route in ROUTES}  # every route is someone's to call
    # and the report a contributor or an admin downloads is the one the run wrote, with its invalid rows
    assert reports == {
        ("run_report", "contributor"): written,
        ("run_report", "admin"): written,
        ("retired_run_report", "admin"): retired_report,
    }
    rows = list(csv.DictReader(io.StringIO(written)))
    assert rows and "invalid" in {row["outcome"] for row in rows}, written
    # the refused calls changed nothing: the shared export still has its single run
    status, runs = await call(stack, "GET", "exports/shared-export/runs", VIEWER)
    assert status == 200 and [r["id"] for r in runs["items"]] == [shared_run]


async def report_blob(stack: Stack, export: str, run_id: str) -> str:
    """The report the product wrote for the run, read from storage (runs/<exportId>/<runId>/report.csv)."""
    async with stack.container(RUNS_CONTAINER) as runs:
        blob = await runs.download_blob(await stack.run_path(export, run_id, REPORT_NAME))
        return (await blob.readall()).decode("utf-8")


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
