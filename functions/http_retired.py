"""HTTP: /api/retired-exports (admins): deleted exports' run history, under their retired ids."""

from __future__ import annotations

import azure.functions as func

from functions._http import http_function, serve
from shared.api import download_retired_report, get_retired_run, list_retired_exports, list_retired_runs
from shared.api.routes import RETIRED_LIST, RETIRED_REPORT, RETIRED_RUN, RETIRED_RUNS

bp = func.Blueprint()  # type: ignore[no-untyped-call]


@http_function(bp, RETIRED_LIST)
async def retired_exports_list(req: func.HttpRequest) -> func.HttpResponse:
    return await serve(req, RETIRED_LIST, list_retired_exports)


@http_function(bp, RETIRED_RUNS)
async def retired_runs_list(req: func.HttpRequest) -> func.HttpResponse:
    return await serve(req, RETIRED_RUNS, list_retired_runs)


@http_function(bp, RETIRED_RUN)
async def retired_run_get(req: func.HttpRequest) -> func.HttpResponse:
    return await serve(req, RETIRED_RUN, get_retired_run)


@http_function(bp, RETIRED_REPORT)
async def retired_run_report(req: func.HttpRequest) -> func.HttpResponse:
    return await serve(req, RETIRED_REPORT, download_retired_report)
