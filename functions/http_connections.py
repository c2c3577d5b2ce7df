"""HTTP: /api/connections (admins manage them; contributors see the ones shared with them)."""

from __future__ import annotations

import azure.functions as func

from functions._http import serve
from shared.api import delete_connection, get_connection, list_connections, put_connection
from shared.api.routes import CONNECTION_DELETE, CONNECTION_GET, CONNECTION_PUT, CONNECTIONS_LIST

bp = func.Blueprint()  # type: ignore[no-untyped-call]
ANONYMOUS = func.AuthLevel.ANONYMOUS  # App Service Authentication (Easy Auth) is in front in Azure


@bp.function_name(CONNECTIONS_LIST.function_name)
@bp.route(route=CONNECTIONS_LIST.path, methods=[CONNECTIONS_LIST.method], auth_level=ANONYMOUS)
async def connections_list(req: func.HttpRequest) -> func.HttpResponse:
    return await serve(req, CONNECTIONS_LIST, list_connections)


@bp.function_name(CONNECTION_GET.function_name)
@bp.route(route=CONNECTION_GET.path, methods=[CONNECTION_GET.method], auth_level=ANONYMOUS)
async def connection_get(req: func.HttpRequest) -> func.HttpResponse:
    return await serve(req, CONNECTION_GET, get_connection)


@bp.function_name(CONNECTION_PUT.function_name)
@bp.route(route=CONNECTION_PUT.path, methods=[CONNECTION_PUT.method], auth_level=ANONYMOUS)
async def connection_put(req: func.HttpRequest) -> func.HttpResponse:
    return await serve(req, CONNECTION_PUT, put_connection)


@bp.function_name(CONNECTION_DELETE.function_name)
@bp.route(route=CONNECTION_DELETE.path, methods=[CONNECTION_DELETE.method], auth_level=ANONYMOUS)
async def connection_delete(req: func.HttpRequest) -> func.HttpResponse:
    return await serve(req, CONNECTION_DELETE, delete_connection)
