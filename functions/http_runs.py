"""HTTP: /api/exports/{name}/runs (start, list, read, cancel, report)."""

from __future__ import annotations

import azure.functions as func

from functions._http import http_function, serve
from shared.api import cancel_export_run, download_report, get_export_run, list_export_runs, start_export_run
from shared.api.routes import RUN_CANCEL, RUN_GET, RUN_REPORT, RUN_START, RUNS_LIST
from shared.names import RUN_QUEUE, STORAGE_CONNECTION

bp = func.Blueprint()  # type: ignore[no-untyped-call]


@http_function(bp, RUN_START)
@bp.queue_output(arg_name="run_queue", queue_name=RUN_QUEUE, connection=STORAGE_CONNECTION)
async def run_start(req: func.HttpRequest, run_queue: func.Out[str]) -> func.HttpResponse:
    return await serve(req, RUN_START, start_export_run, run_queue)


@http_function(bp, RUNS_LIST)
async def runs_list(req: func.HttpRequest) -> func.HttpResponse:
    return await serve(req, RUNS_LIST, list_export_runs)


@http_function(bp, RUN_GET)
async def run_get(req: func.HttpRequest) -> func.HttpResponse:
    return await serve(req, RUN_GET, get_export_run)


@http_function(bp, RUN_CANCEL)
async def run_cancel(req: func.HttpRequest) -> func.HttpResponse:
    return await serve(req, RUN_CANCEL, cancel_export_run)


@http_function(bp, RUN_REPORT)
async def run_report(req: func.HttpRequest) -> func.HttpResponse:
    return await serve(req, RUN_REPORT, download_report)
