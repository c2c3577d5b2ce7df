"""HTTP: /api/exports (admins and contributors on connections they may use; everyone reads)."""

from __future__ import annotations

import azure.functions as func

from functions._http import http_function, serve
from shared.api import delete_export, get_export, list_exports, put_export
from shared.api.routes import EXPORT_DELETE, EXPORT_GET, EXPORT_PUT, EXPORTS_LIST

bp = func.Blueprint()  # type: ignore[no-untyped-call]


@http_function(bp, EXPORTS_LIST)
async def exports_list(req: func.HttpRequest) -> func.HttpResponse:
    return await serve(req, EXPORTS_LIST, list_exports)


@http_function(bp, EXPORT_GET)
async def export_get(req: func.HttpRequest) -> func.HttpResponse:
    return await serve(req, EXPORT_GET, get_export)


@http_function(bp, EXPORT_PUT)
async def export_put(req: func.HttpRequest) -> func.HttpResponse:
    return await serve(req, EXPORT_PUT, put_export)


@http_function(bp, EXPORT_DELETE)
async def export_delete(req: func.HttpRequest) -> func.HttpResponse:
    return await serve(req, EXPORT_DELETE, delete_export)
