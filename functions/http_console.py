"""HTTP: the web console's static files (/api/console/...) and GET /api/me (who the console talks for)."""

from __future__ import annotations

import azure.functions as func

from functions._http import error_response, http_function, response, serve
from shared.api import console_file, get_me
from shared.api.routes import CONSOLE, ME
from shared.errors import ExportError

bp = func.Blueprint()  # type: ignore[no-untyped-call]


@http_function(bp, CONSOLE)
async def console(req: func.HttpRequest) -> func.HttpResponse:
    """Static files need no storage and no sign-in check (Easy Auth is in front in Azure)."""
    try:
        return response(console_file(req.route_params.get("path") or ""))
    except ExportError as exc:
        return error_response(CONSOLE, exc)


@http_function(bp, ME)
async def me(req: func.HttpRequest) -> func.HttpResponse:
    return await serve(req, ME, get_me)
