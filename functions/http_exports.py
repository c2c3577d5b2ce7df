"""HTTP: /api/exports (admins and contributors on connections they may use; everyone reads)."""

from __future__ import annotations

import azure.functions as func

from functions._http import serve
from shared.api import delete_export, get_export, list_exports, put_export
from shared.api.routes import EXPORT_DELETE, EXPORT_GET, EXPORT_PUT, EXPORTS_LIST

bp = func.Blueprint()  # type: ignore[no-untyped-call]
ANONYMOUS = func.AuthLevel.ANONYMOUS  # App Service Authentication (Easy Auth) is in front in Azure


@bp.function_name(EXPORTS_LIST.function_name)
@bp.route(route=EXPORTS_LIST.path, methods=[EXPORTS_LIST.method], auth_level=ANONYMOUS)
async def exports_list(req: func.HttpRequest) -> func.HttpResponse:
    return await serve(req, EXPORTS_LIST, list_exports)


@bp.function_name(EXPORT_GET.function_name)
@bp.route(route=EXPORT_GET.path, methods=[EXPORT_GET.method], auth_level=ANONYMOUS)
async def export_get(req: func.HttpRequest) -> func.HttpResponse:
    return await serve(req, EXPORT_GET, get_export)


@bp.function_name(EXPORT_PUT.function_name)
@bp.route(route=EXPORT_PUT.path, methods=[EXPORT_PUT.method], auth_level=ANONYMOUS)
async def export_put(req: func.HttpRequest) -> func.HttpResponse:
    return await serve(req, EXPORT_PUT, put_export)


@bp.function_name(EXPORT_DELETE.function_name)
@bp.route(route=EXPORT_DELETE.path, methods=[EXPORT_DELETE.method], auth_level=ANONYMOUS)
async def export_delete(req: func.HttpRequest) -> func.HttpResponse:
    return await serve(req, EXPORT_DELETE, delete_export)
