"""GET /api/openapi.json: a valid OpenAPI document listing every route, generated from the routes table."""

from __future__ import annotations

from typing import Any

from openapi_spec_validator import validate

from shared.api import ROUTES
from shared.services import Services
from tests.api.client import ApiClient

ERROR_REF = {"$ref": "#/components/schemas/ErrorBody"}


async def fetch(api: ApiClient) -> dict[str, Any]:
    reply = await api.call("GET", "openapi.json")  # no principal needed
    assert reply.status == 200
    assert (reply.header("Content-Type") or "").startswith("application/json")
    document: dict[str, Any] = reply.json()
    return document


async def test_the_document_is_valid_openapi(api: ApiClient, dev: Services) -> None:
    document = await fetch(api)
    validate(document)
    assert document["openapi"].startswith("3.1") and document["servers"] == [{"url": "/api"}]


async def test_every_route_is_listed_with_request_response_and_error_schemas(api: ApiClient, dev: Services) -> None:
    document = await fetch(api)
    components = document["components"]
    listed = {(m.upper(), path) for path, ops in document["paths"].items() for m in ops}
    assert listed == {(r.method, "/" + r.path) for r in ROUTES}

    for route in ROUTES:
        operation = document["paths"]["/" + route.path][route.method.lower()]
        assert operation["operationId"] == route.operation_id
        if route.request is not None:
            schema = operation["requestBody"]["content"]["application/json"]["schema"]
            assert schema["$ref"].rsplit("/", 1)[-1] in components["schemas"]
        for code in route.success:
            answer = operation["responses"][str(code)]
            if code != 204:
                assert answer["content"], (route.operation_id, code)
        for code in (*route.errors, 500):
            ref = operation["responses"][str(code)]["$ref"]
            assert components["responses"][ref.rsplit("/", 1)[-1]]["content"]["application/json"]["schema"] == ERROR_REF
        if route.roles:
            assert {"401", "403"} <= set(operation["responses"])
    assert {"400", "401", "403", "404", "409", "412", "413", "500"} <= set(components["responses"])


async def test_schemas_come_from_the_models_on_the_wire(api: ApiClient, dev: Services) -> None:
    schemas = (await fetch(api))["components"]["schemas"]
    request = schemas["ConnectionRequest"]
    assert set(request["required"]) == {"displayName", "hostname", "apiKey", "consent"}
    assert request["properties"]["apiKey"]["writeOnly"] is True
    assert "apiKey" not in schemas["ConnectionView"]["properties"]
    assert "secretName" not in schemas["ConnectionView"]["properties"]
    assert set(schemas["ErrorBody"]["properties"]) == {"error"}
    assert set(schemas["ErrorInfo"]["required"]) >= {"code", "message"}
    assert set(schemas["RunOptions"]["properties"]) == {"full", "dryRun", "force"}


async def test_the_consoles_routes_are_listed_with_their_inputs_and_the_console_itself_is_not(
    api: ApiClient, dev: Services
) -> None:
    document = await fetch(api)
    paths, schemas = document["paths"], document["components"]["schemas"]
    assert paths["/me"]["get"]["security"] == []  # anyone may ask who they are
    verify = paths["/verify-connection"]["post"]
    assert verify["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith("/ConnectionCheckRequest")
    assert set(schemas["ConnectionCheckRequest"]["required"]) == {"hostname", "apiKey"}
    assert schemas["ConnectionCheckRequest"]["properties"]["apiKey"]["writeOnly"] is True
    [root] = paths["/segments"]["get"]["parameters"]
    assert (root["name"], root["in"]) == ("root", "query")
    assert root["schema"]["maxLength"] == 256 and "pattern" in root["schema"]
    for path in ("/connections/{name}/lists", "/connections/{name}/fields"):
        assert [p["name"] for p in paths[path]["get"]["parameters"]] == ["name"]
    assert {"samples", "timeLeftS"} <= set(schemas["RunView"]["properties"])
    assert not any(path.startswith("/console") for path in paths)
