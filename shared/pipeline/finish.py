"""Ending a run: the one place that sets a final status, writes the report, frees the export and says so.

Used by the finaliser (the normal end), the planner (Skipped, Failed, Canceled,
dry run) and the poison handlers.  Idempotent: a run that is already final is left
as it is.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from shared.events import DIM_EVENT, DIM_EXPORT, DIM_RUN, DIM_STATUS, EVENT_RUN_FINISHED
from shared.metrics import record_run_finished
from shared.models import Run, RunCounts, RunError, RunStatus
from shared.pipeline.report import REPORT_NAME, compose
from shared.services import Services

logger = logging.getLogger(__name__)


async def write_report(services: Services, export_id: str, run_id: str, parts: Sequence[str]) -> None:
    """The per-row report (CSV, header always present) from the run's report parts (shared/pipeline/report.py)."""
    path = services.runs.path
    await compose(
        services.runs_container, path(export_id, run_id, REPORT_NAME), [path(export_id, run_id, p) for p in parts]
    )


async def end_run(
    services: Services,
    export_id: str,
    run_id: str,
    status: RunStatus,
    *,
    reason: str | None = None,
    error: RunError | None = None,
    counts: RunCounts | None = None,
    report: Sequence[str] | None = None,
    updates: dict[str, Any] | None = None,
) -> Run:
    """`report`: the run's report parts (names under the run), composed into its report.csv first."""
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


__all__ = ["end_run", "write_report"]
