"""The API keeps the contract its OpenAPI document states: strict types, declared constraints, no 500 for any
input.  Each case here is one that a fuzzer (schemathesis) found answered otherwise; tests/contract runs the
fuzzer itself."""

from __future__ import annotations

from typing import Any

import pytest

from shared.api import openapi_document
from shared.services import Services
from tests.api.client import ADMIN, ApiClient
from tests.api.conftest import Emu, connection_body, export_body


@pytest.mark.parametrize(
    "key",
    ["abc\ndef", "key with spaces", "tab\tkey", "caf\u00e9", "\u0000", "line\r\nX-Injected: 1"],
)
async def test_an_api_key_that_cannot_travel_in_a_header_is_400_not_500(
    api: ApiClient, dev: Services, emu: Emu, key: str
) -> None:
    reply = await api.call("PUT", "connections/crm", as_=ADMIN, json_body=connection_body(emu.host, key))
    assert (reply.status, reply.fields) == (400, ["apiKey"]), reply.body
    assert key.encode() not in reply.body


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"enabled": 0}, "enabled"),
        ({"enabled": "true"}, "enabled"),
        ({"excludeAutomations": 1}, "excludeAutomations"),
        ({"maxRemovalPercent": False}, "maxRemovalPercent"),
        ({"maxRemovalPercent": "10"}, "maxRemovalPercent"),
        ({"listId": "1"}, "listId"),
        ({"listId": 1.0}, "listId"),
        ({"listId": 2**31}, "listId"),
        ({"tags": [" padded "]}, "tags"),
        ({"segments": ["Members", " Members"]}, "segments"),
        ({"segments": ["a\u0014b"]}, "segments"),
        ({"schedule": "0  6 * * *"}, "schedule"),
        ({"schedule": " refresh"}, "schedule"),
        ({"snapshotRoot": "a/../b"}, "snapshotRoot"),
        ({"mapping": {"email": " Email"}}, "mapping.email"),
    ],
)
async def test_types_are_strict_and_declared_constraints_hold(
    api: ApiClient, dev: Services, emu: Emu, unique: str, overrides: dict[str, Any], field: str
) -> None:
    body = connection_body(emu.host, emu.key)
    assert (await api.call("PUT", f"connections/{unique}", as_=ADMIN, json_body=body)).status == 201

    reply = await api.call("PUT", f"exports/{unique}", as_=ADMIN, json_body=export_body(unique, **overrides))

    assert reply.status == 400 and field in reply.fields, reply.body


async def test_a_run_option_must_be_a_boolean(api: ApiClient, dev: Services) -> None:
    reply = await api.call("POST", "exports/any/runs", as_=ADMIN, json_body={"full": 1})
    assert (reply.status, reply.fields) == (400, ["full"])


async def test_an_empty_query_value_is_not_a_number(api: ApiClient, dev: Services) -> None:
    reply = await api.call("GET", "exports/any/runs", as_=ADMIN, query={"limit": ""})
    assert (reply.status, reply.fields) == (400, ["limit"])


async def test_a_body_of_another_media_type_is_415(api: ApiClient, dev: Services, emu: Emu) -> None:
    body = b"displayName=x&hostname=y"
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    reply = await api.call("PUT", "connections/crm", as_=ADMIN, body=body, headers=headers)
    assert reply.status == 415 and reply.error["code"] == "unsupported_media_type"


def test_the_document_declares_what_the_code_enforces() -> None:
    schemas = openapi_document()["components"]["schemas"]
    export = schemas["ExportRequest"]["properties"]
    assert export["tags"]["items"] == {
        "maxLength": 100,
        "minLength": 1,
        "pattern": "^\\S(?:[\\s\\S]*\\S)?$",
        "type": "string",
    }
    assert export["segments"]["items"]["maxLength"] == 256 and "pattern" in export["segments"]["items"]
    assert export["listId"]["maximum"] == 2**31 - 1 and "pattern" in export["schedule"]
    assert "pattern" in export["snapshotRoot"]["anyOf"][0]
    connection = schemas["ConnectionRequest"]["properties"]
    assert connection["consent"]["const"] is True and connection["apiKey"]["pattern"] == "^[!-~]+$"
    for path in openapi_document()["paths"].values():
        for operation in path.values():
            declared = set(operation["responses"])
            assert {"413", "500"} <= declared
            if "requestBody" in operation:
                assert {"400", "415"} <= declared
