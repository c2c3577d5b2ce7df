"""Runs over HTTP: start one now, list, read, cancel, and download the per-row report.

Runs belong to an export's immutable id.  `/exports/{name}/runs...` shows the runs of the export that has
the name now, never those of a deleted export that had it; admins read those under
`/retired-exports/{exportId}/runs...`.  Access to a run and its report is decided by the export it belongs to.
"""

from __future__ import annotations

from shared.api.access import require_export_access
from shared.api.request import Call
from shared.api.result import ApiResult
from shared.api.routes import RUN_GET, RUNS_LIST
from shared.api.schemas import RetiredExportList, RunList
from shared.errors import NotFound
from shared.models import Export, RetiredExportView, Run, RunOptions, RunView
from shared.pipeline.progress import time_left_s
from shared.pipeline.runs import cancel_run, get_run, list_runs, open_report, start_run
from shared.services import Services

RUN_ID = "runId"
EXPORT_ID = "exportId"


async def _export(services: Services, call: Call, *, change: bool) -> Export:
    """The export named in the URL; for changes and reports, one the caller may work on."""
    name = call.name()
    if change:
        found = await require_export_access(services, call.principal, name)
        if found is None:
            raise NotFound(f"export {name!r} does not exist")
        return found
    return (await services.exports.get(name)).doc


async def start_export_run(services: Services, call: Call) -> ApiResult:
    """202 + Location; the run-queue message goes out through the trigger's output binding."""
    options = call.body(RunOptions, required=False)
    export = await _export(services, call, change=True)
    started = await start_run(services, export, options, trigger="manual", requested_by=call.who)
    location = RUN_GET.url(name=export.name, runId=started.run.id)
    return ApiResult(202, RunView.of(started.run), {"Location": location}, queue_message=started.message)


async def list_export_runs(services: Services, call: Call) -> ApiResult:
    limit = call.query_int(RUNS_LIST.query[0])
    export = await _export(services, call, change=False)
    runs = await list_runs(services, export.id, limit=limit)
    return ApiResult(200, RunList(items=[live_view(services, r) for r in runs]))


async def get_export_run(services: Services, call: Call) -> ApiResult:
    run_id = call.name(RUN_ID)
    export = await _export(services, call, change=False)
    return ApiResult(200, live_view(services, await get_run(services, export.id, run_id)))


def live_view(services: Services, run: Run) -> RunView:
    """The run's view with the time its remaining shards take at the account's ceiling (the console's live view)."""
    return RunView.of(run).model_copy(update={"time_left_s": time_left_s(run, services.settings.ac)})


async def cancel_export_run(services: Services, call: Call) -> ApiResult:
    run_id = call.name(RUN_ID)
    export = await _export(services, call, change=True)
    await get_run(services, export.id, run_id)  # NotFound for another export's run
    run = await cancel_run(services, export.id, run_id)
    return ApiResult(202, RunView.of(run), {"Location": RUN_GET.url(name=export.name, runId=run_id)})


async def download_report(services: Services, call: Call) -> ApiResult:
    run_id = call.name(RUN_ID)
    export = await _export(services, call, change=True)
    return await _report(services, export.id, export.name, run_id)


async def _report(services: Services, export_id: str, name: str, run_id: str) -> ApiResult:
    """The CSV, read whole: the Functions Python worker (1.x) answers with a complete body."""
    chunks = await open_report(services, export_id, run_id)
    body = b"".join([chunk async for chunk in chunks])
    disposition = f'attachment; filename="{name}-{run_id}-report.csv"'
    return ApiResult(200, body, {"Content-Disposition": disposition}, media_type="text/csv")


# -- retired exports (admins) ------------------------------------------------------------------


async def _retired_id(services: Services, call: Call) -> str:
    export_id = call.name(EXPORT_ID)
    if await services.retired.find(export_id) is None:
        raise NotFound(f"no deleted export has the id {export_id!r}")
    return export_id


async def list_retired_exports(services: Services, call: Call) -> ApiResult:
    docs, _ = await services.retired.list()
    items = sorted((RetiredExportView.of(d.doc) for d in docs), key=lambda r: r.deleted_at, reverse=True)
    return ApiResult(200, RetiredExportList(items=items))


async def list_retired_runs(services: Services, call: Call) -> ApiResult:
    limit = call.query_int(RUNS_LIST.query[0])
    runs = await list_runs(services, await _retired_id(services, call), limit=limit)
    return ApiResult(200, RunList(items=[RunView.of(r) for r in runs]))


async def get_retired_run(services: Services, call: Call) -> ApiResult:
    run_id = call.name(RUN_ID)
    run = await get_run(services, await _retired_id(services, call), run_id)
    return ApiResult(200, RunView.of(run))


async def download_retired_report(services: Services, call: Call) -> ApiResult:
    run_id = call.name(RUN_ID)
    export_id = await _retired_id(services, call)
    retired = await services.retired.get(export_id)
    return await _report(services, export_id, retired.doc.name, run_id)


__all__ = [
    "cancel_export_run",
    "download_report",
    "download_retired_report",
    "get_export_run",
    "get_retired_run",
    "list_export_runs",
    "list_retired_exports",
    "list_retired_runs",
    "start_export_run",
]
