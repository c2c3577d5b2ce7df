"""HTTP: /api/connections (admins manage them; contributors see the ones shared with them)."""

from __future__ import annotations

import azure.functions as func

from functions._http import http_function, serve
from shared.api import delete_connection, get_connection, list_connections, put_connection
from shared.api.routes import CONNECTION_DELETE, CONNECTION_GET, CONNECTION_PUT, CONNECTIONS_LIST

bp = func.Blueprint()  # type: ignore[no-untyped-call]


@http_function(bp, CONNECTIONS_LIST)
async def connections_list(req: func.HttpRequest) -> func.HttpResponse:
    return await serve(req, CONNECTIONS_LIST, list_connections)


@http_function(bp, CONNECTION_GET)
async def connection_get(req: func.HttpRequest) -> func.HttpResponse:
    return await serve(req, CONNECTION_GET, get_connection)


@http_function(bp, CONNECTION_PUT)
async def connection_put(req: func.HttpRequest) -> func.HttpResponse:
    return await serve(req, CONNECTION_PUT, put_connection)


@http_function(bp, CONNECTION_DELETE)
async def connection_delete(req: func.HttpRequest) -> func.HttpResponse:
    return await serve(req, CONNECTION_DELETE, delete_connection)
