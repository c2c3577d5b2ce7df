"""GET /api/openapi.json: generated from the routes table and the pydantic models, never by hand."""

from __future__ import annotations

import functools
import json
from typing import Any, Final, Literal

from pydantic import BaseModel
from pydantic.json_schema import JsonSchemaMode, models_json_schema

from shared.api.request import MAX_BODY_BYTES, Call
from shared.api.result import ApiResult
from shared.api.routes import API_PREFIX, ROUTES, Route
from shared.api.schemas import ErrorBody
from shared.services import Services

TITLE: Final = "ActiveCampaign segment export: management API"
VERSION: Final = "1.0.0"
REF: Final = "#/components/schemas/{model}"
PRINCIPAL_HEADER_NAME: Final = "X-MS-CLIENT-PRINCIPAL"
ERROR_TEXT: Final = {
    400: "Bad input: every failing field is named in error.details",
    401: "No trusted X-MS-CLIENT-PRINCIPAL (sign in; App Service Authentication must be enabled)",
    403: "The caller lacks the role, or may not use the connection",
    404: "No such resource",
    409: "Conflicts with the current state (a run in flight, exports still using a connection, a finished run)",
    412: "If-Match / If-None-Match did not hold: the document changed (or exists) since it was read",
    413: f"The body is larger than {MAX_BODY_BYTES // 1024} KiB",
    415: "The body was sent as another media type than application/json",
    422: "A segment snapshot's model.json cannot be read: the message says what to fix",
    500: "Unexpected error: no details; error.correlationId finds it in the logs",
    502: "ActiveCampaign refused the request (e.g. the connection's stored key no longer works)",
    503: "ActiveCampaign or storage could not be reached; try again (Retry-After when known)",
}
SUCCESS_TEXT: Final = {200: "OK", 201: "Created", 202: "Accepted", 204: "No content"}
HEADER_SCHEMAS: Final = {
    "ETag": "The document's version, for If-Match",
    "Location": "The resource's URL",
}


async def get_openapi(services: Services, call: Call) -> ApiResult:
    return ApiResult(200, json.dumps(openapi_document()).encode("utf-8"))


@functools.cache
def openapi_document() -> dict[str, Any]:
    refs, schemas = _schemas()
    return {
        "openapi": "3.1.0",
        "info": {"title": TITLE, "version": VERSION},
        "servers": [{"url": API_PREFIX}],
        "paths": _paths(refs),
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "appServiceAuth": {
                    "type": "apiKey",
                    "in": "header",
                    "name": PRINCIPAL_HEADER_NAME,
                    "description": "Set by App Service Authentication (Easy Auth): base64 JSON with role claims "
                    "Admin, Contributor or Viewer",
                }
            },
            "responses": {str(code): _error_response(code) for code in ERROR_TEXT},
        },
    }


Modes = dict[tuple[Any, JsonSchemaMode], dict[str, Any]]


def _schemas() -> tuple[Modes, dict[str, Any]]:
    wanted: list[tuple[type[BaseModel], JsonSchemaMode]] = [(ErrorBody, "serialization")]
    for route in ROUTES:
        if route.request is not None:
            wanted.append((route.request, "validation"))
        wanted.extend((model, "serialization") for model in route.response)
    unique = list(dict.fromkeys(wanted))
    refs, top = models_json_schema(unique, ref_template=REF, by_alias=True)
    return dict(refs), dict(top.get("$defs", {}))


def _paths(refs: Modes) -> dict[str, Any]:
    paths: dict[str, Any] = {}
    for route in ROUTES:
        paths.setdefault("/" + route.path, {})[route.method.lower()] = _operation(route, refs)
    return paths


def _operation(route: Route, refs: Modes) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "operationId": route.operation_id,
        "summary": route.summary,
        "tags": ["runs" if "/runs" in route.path else route.path.split("/")[0]],
        "parameters": _parameters(route),
        "responses": _responses(route, refs),
    }
    if route.roles:
        roles = ", ".join(sorted(r.value for r in route.roles))
        operation["description"] = f"Roles: {roles}."
        operation["security"] = [{"appServiceAuth": []}]
    else:
        operation["description"] = "No sign-in needed."
        operation["security"] = []
    if route.request is not None:
        operation["requestBody"] = {
            "required": route.request_required,
            "content": {"application/json": {"schema": refs[(route.request, "validation")]}},
        }
    return operation


def _parameters(route: Route) -> list[dict[str, Any]]:
    params: list[dict[str, Any]] = []
    for name in _path_names(route.path):
        rule = "1-63 characters: letters, digits, '-', '_' or '.', starting with a letter or digit"
        params.append(
            {
                "name": name,
                "in": "path",
                "required": True,
                "description": rule,
                "schema": {"type": "string", "pattern": "^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$"},
            }
        )
    for query in route.query:
        schema = {"type": "integer", "minimum": query.minimum, "maximum": query.maximum, "default": query.default}
        params.append(
            {"name": query.name, "in": "query", "required": False, "description": query.description, "schema": schema}
        )
    for text_query in route.text_query:
        text_schema: dict[str, Any] = {"type": "string", "maxLength": text_query.max_length}
        if text_query.pattern is not None:
            text_schema["pattern"] = text_query.pattern
        params.append(
            {
                "name": text_query.name,
                "in": "query",
                "required": False,
                "description": text_query.description,
                "schema": text_schema,
            }
        )
    if route.conditional:
        for header, text in (
            ("If-Match", "Act only if the document's ETag is one of these (or '*': it exists)"),
            ("If-None-Match", "'*': create only, 412 if it exists"),
        ):
            params.append(
                {"name": header, "in": "header", "required": False, "description": text, "schema": {"type": "string"}}
            )
    return params


def _responses(route: Route, refs: Modes) -> dict[str, Any]:
    responses: dict[str, Any] = {}
    headers = _headers(route)
    for code in route.success:
        answer: dict[str, Any] = {"description": SUCCESS_TEXT.get(code, "OK")}
        if code != 204:
            answer["content"] = _content(route, refs)
        if headers and code != 204:
            answer["headers"] = headers
        responses[str(code)] = answer
    for code in sorted({*route.errors, *_always(route)}):
        responses[str(code)] = {"$ref": f"#/components/responses/{code}"}
    return responses


def _always(route: Route) -> set[int]:
    """What any call of the route may get: the size limit (every request), the media type (bodies), 500, and 503
    (storage could not be reached)."""
    return {413, 500, 503, *((415,) if route.request is not None else ())}


def _content(route: Route, refs: Modes) -> dict[str, Any]:
    if route.media_type != "application/json":
        return {route.media_type: {"schema": {"type": "string"}}}
    schemas = [refs[(model, "serialization")] for model in route.response]
    schema = schemas[0] if len(schemas) == 1 else {"anyOf": schemas}
    return {"application/json": {"schema": schema}}


def _headers(route: Route) -> dict[str, Any]:
    wanted: list[Literal["ETag", "Location"]] = []
    if route.etag:
        wanted.append("ETag")
    if route.location:
        wanted.append("Location")
    return {h: {"description": HEADER_SCHEMAS[h], "schema": {"type": "string"}} for h in wanted}


def _error_response(code: int) -> dict[str, Any]:
    return {
        "description": ERROR_TEXT[code],
        "content": {"application/json": {"schema": {"$ref": REF.format(model="ErrorBody")}}},
    }


def _path_names(path: str) -> list[str]:
    return [part[1:-1] for part in path.split("/") if part.startswith("{") and part.endswith("}")]


__all__ = ["get_openapi", "openapi_document"]
