"""Runs over HTTP: start one now, list, read, cancel, and download the per-row report."""

from __future__ import annotations

from shared.api.access import require_export_access
from shared.api.request import Call
from shared.api.result import ApiResult
from shared.api.routes import RUN_GET, RUNS_LIST
from shared.api.schemas import RunList
from shared.errors import NotFound
from shared.models import Run, RunOptions, RunView
from shared.pipeline.progress import time_left_s
from shared.pipeline.runs import cancel_run, get_run, list_runs, open_report, start_run
from shared.services import Services

RUN_ID = "runId"


async def start_export_run(services: Services, call: Call) -> ApiResult:
    """202 + Location; the run-queue message goes out through the trigger's output binding."""
    name = call.name()
    options = call.body(RunOptions, required=False)
    if await require_export_access(services, call.principal, name) is None:
        raise NotFound(f"export {name!r} does not exist")
    started = await start_run(services, name, options, trigger="manual", requested_by=call.who)
    location = RUN_GET.url(name=name, runId=started.run.id)
    return ApiResult(202, RunView.of(started.run), {"Location": location}, queue_message=started.message)


async def list_export_runs(services: Services, call: Call) -> ApiResult:
    name = call.name()
    limit = call.query_int(RUNS_LIST.query[0])
    runs = await list_runs(services, name, limit=limit)
    return ApiResult(200, RunList(items=[live_view(services, r) for r in runs]))


async def get_export_run(services: Services, call: Call) -> ApiResult:
    run = await get_run(services, call.name(), call.name(RUN_ID))
    return ApiResult(200, live_view(services, run))


def live_view(services: Services, run: Run) -> RunView:
    """The run's view with the time its remaining shards take at the account's ceiling (the console's live view)."""
    return RunView.of(run).model_copy(update={"time_left_s": time_left_s(run, services.settings.ac)})


async def cancel_export_run(services: Services, call: Call) -> ApiResult:
    name, run_id = call.name(), call.name(RUN_ID)
    await require_export_access(services, call.principal, name)
    run = await cancel_run(services, name, run_id)
    return ApiResult(202, RunView.of(run), {"Location": RUN_GET.url(name=name, runId=run_id)})


async def download_report(services: Services, call: Call) -> ApiResult:
    """The CSV, read whole: the Functions Python worker (1.x) answers with a complete body."""
    name, run_id = call.name(), call.name(RUN_ID)
    await require_export_access(services, call.principal, name)
    chunks = await open_report(services, name, run_id)
    body = b"".join([chunk async for chunk in chunks])
    disposition = f'attachment; filename="{name}-{run_id}-report.csv"'
    return ApiResult(200, body, {"Content-Disposition": disposition}, media_type="text/csv")


__all__ = ["cancel_export_run", "download_report", "get_export_run", "list_export_runs", "start_export_run"]
