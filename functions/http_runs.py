"""HTTP: /api/exports/{name}/runs (start, list, read, cancel, report)."""

from __future__ import annotations

import azure.functions as func

from functions._http import serve
from shared.api import cancel_export_run, download_report, get_export_run, list_export_runs, start_export_run
from shared.api.routes import RUN_CANCEL, RUN_GET, RUN_REPORT, RUN_START, RUNS_LIST
from shared.names import RUN_QUEUE, STORAGE_CONNECTION

bp = func.Blueprint()  # type: ignore[no-untyped-call]
ANONYMOUS = func.AuthLevel.ANONYMOUS  # App Service Authentication (Easy Auth) is in front in Azure


@bp.function_name(RUN_START.function_name)
@bp.route(route=RUN_START.path, methods=[RUN_START.method], auth_level=ANONYMOUS)
@bp.queue_output(arg_name="run_queue", queue_name=RUN_QUEUE, connection=STORAGE_CONNECTION)
async def run_start(req: func.HttpRequest, run_queue: func.Out[str]) -> func.HttpResponse:
    return await serve(req, RUN_START, start_export_run, run_queue)


@bp.function_name(RUNS_LIST.function_name)
@bp.route(route=RUNS_LIST.path, methods=[RUNS_LIST.method], auth_level=ANONYMOUS)
async def runs_list(req: func.HttpRequest) -> func.HttpResponse:
    return await serve(req, RUNS_LIST, list_export_runs)


@bp.function_name(RUN_GET.function_name)
@bp.route(route=RUN_GET.path, methods=[RUN_GET.method], auth_level=ANONYMOUS)
async def run_get(req: func.HttpRequest) -> func.HttpResponse:
    return await serve(req, RUN_GET, get_export_run)


@bp.function_name(RUN_CANCEL.function_name)
@bp.route(route=RUN_CANCEL.path, methods=[RUN_CANCEL.method], auth_level=ANONYMOUS)
async def run_cancel(req: func.HttpRequest) -> func.HttpResponse:
    return await serve(req, RUN_CANCEL, cancel_export_run)


@bp.function_name(RUN_REPORT.function_name)
@bp.route(route=RUN_REPORT.path, methods=[RUN_REPORT.method], auth_level=ANONYMOUS)
async def run_report(req: func.HttpRequest) -> func.HttpResponse:
    return await serve(req, RUN_REPORT, download_report)
