"""Starting, cancelling and reading runs: the operations behind the timer and the runs API.

Starting a run creates its record (Queued), claims the export's active-run lock so
an export never runs twice at once, and returns the run-queue message; the trigger
sends it through its queue output binding.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from azure.core.exceptions import ResourceNotFoundError

from shared.errors import Conflict, NotFound
from shared.events import DIM_EVENT, DIM_EXPORT, DIM_RUN, EVENT_RUN_STARTED
from shared.models import Export, PrincipalRecord, Run, RunOptions, RunTimings, new_run_id
from shared.pipeline.messages import RunMessage
from shared.pipeline.report import REPORT_NAME
from shared.services import Services
from shared.tracing import current_traceparent, run_trace

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class StartedRun:
    run: Run
    message: str  # for the run queue


async def start_run(
    services: Services,
    export: Export,
    options: RunOptions,
    *,
    trigger: Literal["schedule", "manual"],
    requested_by: PrincipalRecord | None = None,
) -> StartedRun:
    """Queue a run of `export`.  Conflict (409) if the export already has a run in flight."""
    now = datetime.now(UTC)
    run = Run(
        id=new_run_id(now),
        export_id=export.id,
        export=export.name,
        trigger=trigger,
        requested_by=requested_by,
        options=options,
        timings=RunTimings(queued_at=now),
    )
    holder = await services.runs.claim_active(export.id, run.id)
    if holder is not None:
        raise Conflict(f"export {export.name!r} already has a run in progress ({holder}); wait for it or cancel it")
    await services.runs.create(run)
    with run_trace(export.name, run.id, new_trace=trigger == "schedule"):  # one trace per run, from here on
        logger.info(
            "run queued",
            extra={DIM_EVENT: EVENT_RUN_STARTED, DIM_EXPORT: export.name, DIM_RUN: run.id, "trigger": trigger},
        )
        message = RunMessage(export_id=export.id, export=export.name, run_id=run.id, traceparent=current_traceparent())
    return StartedRun(run, message.to_json())


async def cancel_run(services: Services, export_id: str, run_id: str) -> Run:
    """Ask a run to stop.  Shards stop before their next batch; the finaliser marks it Canceled."""

    def request(run: Run) -> Run:
        if run.status.final:
            raise Conflict(f"run {run_id!r} already finished ({run.status.value})")
        return run.model_copy(update={"cancel_requested": True})

    return await services.runs.update(export_id, run_id, request)


async def cancel_active_run(services: Services, export_id: str) -> str | None:
    """Cancel the export's run in flight, if any (when the export is deleted)."""
    run_id = await services.runs.active_run_id(export_id)
    if run_id is None:
        return None
    try:
        await cancel_run(services, export_id, run_id)
    except (Conflict, NotFound):
        return None
    return run_id


async def get_run(services: Services, export_id: str, run_id: str) -> Run:
    """The run `run_id` of the export with this id (NotFound for another export's run, whatever its name)."""
    run = (await services.runs.get(export_id, run_id)).doc
    if run.export_id != export_id:  # a record copied under another id: never shown there
        raise NotFound(f"run {run_id!r} does not exist")
    return run


async def list_runs(services: Services, export_id: str, *, limit: int = 20) -> list[Run]:
    return [r for r in await services.runs.list(export_id, limit=limit) if r.export_id == export_id]


async def open_report(services: Services, export_id: str, run_id: str) -> AsyncIterator[bytes]:
    """The run's per-row report (CSV), streamed.  NotFound until the run has finished planning."""
    run = await get_run(services, export_id, run_id)
    blob = services.runs_container.get_blob_client(services.runs.path(export_id, run_id, REPORT_NAME))
    try:
        downloader = await blob.download_blob()
    except ResourceNotFoundError:
        state = "has no report" if run.status.final else f"is {run.status.value}; its report is written when it ends"
        raise NotFound(f"run {run_id!r} {state}") from None
    return downloader.chunks()


__all__ = [
    "REPORT_NAME",
    "StartedRun",
    "cancel_active_run",
    "cancel_run",
    "get_run",
    "list_runs",
    "open_report",
    "start_run",
]
