"""HTTP: what feeds the console's forms: Connect (verify, save nothing), AC lists and fields, segments."""

from __future__ import annotations

import azure.functions as func

from functions._http import http_function, serve
from shared.api import list_account_fields, list_account_lists, list_segments, verify_connection
from shared.api.routes import CONNECTION_FIELDS, CONNECTION_LISTS, SEGMENTS_LIST, VERIFY_CONNECTION

bp = func.Blueprint()  # type: ignore[no-untyped-call]


@http_function(bp, VERIFY_CONNECTION)
async def connection_verify(req: func.HttpRequest) -> func.HttpResponse:
    return await serve(req, VERIFY_CONNECTION, verify_connection)


@http_function(bp, CONNECTION_LISTS)
async def connection_lists(req: func.HttpRequest) -> func.HttpResponse:
    return await serve(req, CONNECTION_LISTS, list_account_lists)


@http_function(bp, CONNECTION_FIELDS)
async def connection_fields(req: func.HttpRequest) -> func.HttpResponse:
    return await serve(req, CONNECTION_FIELDS, list_account_fields)


@http_function(bp, SEGMENTS_LIST)
async def segments_list(req: func.HttpRequest) -> func.HttpResponse:
    return await serve(req, SEGMENTS_LIST, list_segments)
