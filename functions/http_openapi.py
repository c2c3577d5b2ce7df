"""HTTP: GET /api/openapi.json, generated from the routes table (no sign-in needed)."""

from __future__ import annotations

import azure.functions as func

from functions._http import http_function, serve
from shared.api import get_openapi
from shared.api.routes import OPENAPI

bp = func.Blueprint()  # type: ignore[no-untyped-call]


@http_function(bp, OPENAPI)
async def openapi(req: func.HttpRequest) -> func.HttpResponse:
    return await serve(req, OPENAPI, get_openapi)
