"""Ending a run: the one place that sets a final status, writes the report, frees the export and says so.

Used by the finaliser (the normal end), the planner (Skipped, Failed, Canceled,
dry run) and the poison handlers.  Idempotent: a run that is already final is left
as it is.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any, Final

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from shared.events import DIM_EVENT, DIM_EXPORT, DIM_RUN, DIM_STATUS, EVENT_RUN_FINISHED
from shared.metrics import record_run_finished
from shared.models import Run, RunCounts, RunError, RunStatus
from shared.pipeline.runs import REPORT_NAME
from shared.services import Services

logger = logging.getLogger(__name__)
REPORT_COLUMNS = ("email", "outcome", "reason", "segment", "row")
# OWASP's CSV injection rule: a spreadsheet reads a cell that starts with one of these as a formula.
FORMULA_START: Final = r"^([=+\-@\t\r])"


async def write_report(services: Services, export_id: str, run_id: str, report: pa.Table) -> None:
    """The per-row report (CSV, header always present), for admins and contributors.

    Its cells echo customer data and ActiveCampaign's answers, and people open it in a
    spreadsheet: a text cell that starts with `=`, `+`, `-`, `@`, tab or carriage return gets a
    leading single quote, so it is shown as text and never evaluated.  Text cells are always quoted.
    """
    table = report.select(list(REPORT_COLUMNS)) if report.num_rows else _empty_report()
    table = neutralise_formulas(table)
    sink = pa.BufferOutputStream()
    pacsv.write_csv(table, sink, write_options=pacsv.WriteOptions(include_header=True))
    blob = services.runs_container.get_blob_client(services.runs.path(export_id, run_id, REPORT_NAME))
    await blob.upload_blob(sink.getvalue().to_pybytes(), overwrite=True)


def neutralise_formulas(table: pa.Table) -> pa.Table:
    """Every text cell that a spreadsheet would evaluate, prefixed with `'` (vectorised; nulls stay null)."""
    for index, column in enumerate(table.columns):
        if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
            safe = pc.replace_substring_regex(column, pattern=FORMULA_START, replacement="'\\1")
            table = table.set_column(index, table.field(index), safe)
    return table


def _empty_report() -> pa.Table:
    return pa.table({name: pa.array([], pa.int64() if name == "row" else pa.string()) for name in REPORT_COLUMNS})


async def end_run(
    services: Services,
    export_id: str,
    run_id: str,
    status: RunStatus,
    *,
    reason: str | None = None,
    error: RunError | None = None,
    counts: RunCounts | None = None,
    report: pa.Table | None = None,
    updates: dict[str, Any] | None = None,
) -> Run:
    if report is not None:
        await write_report(services, export_id, run_id, report)
    now = datetime.now(UTC)

    def apply(run: Run) -> Run:
        if run.status.final:
            return run
        started = run.timings.started_at or run.timings.queued_at
        planned = run.timings.planned_at
        timings = run.timings.model_copy(
            update={
                "finished_at": now,
                "duration_s": round((now - started).total_seconds(), 3),
                "sending_s": round((now - planned).total_seconds(), 3) if planned else None,
            }
        )
        change: dict[str, Any] = {"status": status, "timings": timings, **(updates or {})}
        if reason is not None:
            change["reason"] = reason
        if error is not None and run.error is None:
            change["error"] = error
        if counts is not None:
            change["counts"] = counts
        return run.model_copy(update=change)

    run = await services.runs.update(export_id, run_id, apply)
    await services.runs.release_active(export_id, run_id)
    if run.status is status:
        _announce(run)
    return run


def _announce(run: Run) -> None:
    counts = run.counts.model_dump()
    logger.info(
        "run finished",
        extra={
            DIM_EVENT: EVENT_RUN_FINISHED,
            DIM_EXPORT: run.export,
            DIM_RUN: run.id,
            DIM_STATUS: run.status.value,
            **counts,
            "rate_limited": run.rate_limited,
            "duration_s": run.timings.duration_s or 0.0,
        },
    )
    record_run_finished(run)


__all__ = ["end_run", "neutralise_formulas", "write_report"]
