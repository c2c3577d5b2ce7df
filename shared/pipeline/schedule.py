"""The scheduled refresh: which exports are due, start them, and end runs that stopped moving.

- `refresh` exports run when their plan key (shared/pipeline/ledger.py: the export as saved, its target
  and its segments' snapshots) differs from the one last decided: a run that ended Skipped (guard,
  empty snapshot, nothing new) or sent everything settles its key, so the timer never plans the same
  snapshot twice until a new one lands, the export or its target changes, or someone runs it by hand;
- cron exports run when their schedule has fired since they last ran (the first time: since the export
  was saved, so a new cron export waits for its schedule);
- `manual` exports never run from here; disabled exports neither;
- an export with a run in flight is not started again;
- a run that ended without settling its key (Failed, Canceled, or leavers not removed) is retried at most
  every RETRY_S;
- a run that made no progress for STALE_AFTER ends Failed, whatever its export's schedule or state.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Final

from croniter import croniter

from shared.errors import Conflict, NotFound, PreconditionFailed, SnapshotError
from shared.events import DIM_EVENT, DIM_EXPORT, EVENT_EXPORT_CHECKED
from shared.models import Export, RunError, RunOptions, RunStatus
from shared.pipeline.finish import end_run
from shared.pipeline.ledger import plan_key
from shared.pipeline.runs import start_run
from shared.pipeline.state import target_of
from shared.services import Services
from shared.snapshot import find_snapshot

logger = logging.getLogger(__name__)
RETRY_S: Final = 1800  # a snapshot whose run did not settle it (failed, cancelled, leavers left) is retried this often
STALE_AFTER: Final = timedelta(hours=6)


async def scheduled_refresh(services: Services, now: datetime | None = None) -> list[str]:
    """Start every due export; returns the run-queue messages for the timer's output binding."""
    now = now or datetime.now(UTC)
    exports, broken = await services.exports.list()
    for item in broken:
        logger.error("export %s cannot be read and is not scheduled: %s", item.name, item.reason)
    messages: list[str] = []
    for versioned in exports:
        try:
            message = await _refresh_one(services, versioned.doc, now)
        except Exception:
            logger.exception("the scheduled refresh of export %s failed; the other exports go on", versioned.doc.name)
            continue
        if message is not None:
            messages.append(message)
    return messages


async def _refresh_one(services: Services, export: Export, now: datetime) -> str | None:
    await _expire_stale(services, export, now)  # whether or not the export is enabled or scheduled
    if not export.enabled:
        return None
    due, why = await _due(services, export, now)
    logger.info("export checked", extra={DIM_EVENT: EVENT_EXPORT_CHECKED, DIM_EXPORT: export.name, "due": due})
    if not due:
        logger.debug("export %s not due: %s", export.name, why)
        return None
    try:
        started = await start_run(services, export, RunOptions(), trigger="schedule")
    except (Conflict, NotFound):
        return None
    if export.schedule not in ("refresh", "manual"):
        await _mark_scheduled(services, export.id, now)
    return started.message


async def _due(services: Services, export: Export, now: datetime) -> tuple[bool, str]:
    if export.schedule == "manual":
        return False, "manual"
    if await services.runs.active_run_id(export.id) is not None:
        return False, "a run is in flight"
    ledger, _ = await services.ledgers.load(export.id)
    if export.schedule == "refresh":
        connection = await services.connections.find(export.connection)
        if connection is None:
            return False, f"connection {export.connection!r} does not exist"
        root = export.snapshot_root or services.settings.snapshot_root
        try:
            ids = {
                seg: (await find_snapshot(services.snapshot_container, root, seg)).snapshot_id
                for seg in export.segments
            }
        except SnapshotError as exc:
            return False, exc.message
        key = plan_key(export, target_of(export, connection.doc), ids)
        if ledger.decided is not None and ledger.decided.key == key:
            return False, f"already decided for this snapshot ({ledger.decided.status})"
        recent = await services.runs.list(export.id, limit=1)
        if recent and recent[0].status.final and recent[0].plan_key == key:  # it ended without settling the key
            finished = recent[0].timings.finished_at or recent[0].timings.queued_at
            if (now - finished).total_seconds() < RETRY_S:
                return False, f"the last run of this snapshot ended {recent[0].status.value} recently"
        return True, "new snapshot"
    previous: datetime = croniter(export.schedule, now).get_prev(datetime)
    last = ledger.last_scheduled_at or export.updated_at  # a cron export's first run waits for its schedule
    return last < previous, "cron"


async def _mark_scheduled(services: Services, export_id: str, now: datetime) -> None:
    try:
        await services.ledgers.update(export_id, lambda ledger: ledger.model_copy(update={"last_scheduled_at": now}))
    except PreconditionFailed:  # a lost race only means the next tick decides again
        logger.warning("could not record the schedule time of export %s", export_id)


async def _expire_stale(services: Services, export: Export, now: datetime) -> None:
    run_id = await services.runs.active_run_id(export.id)
    if run_id is None:
        return
    try:
        current = await services.runs.get(export.id, run_id)
    except NotFound:
        return
    blob = services.runs_container.get_blob_client(services.runs.path(export.id, run_id, "run.json"))
    modified = (await blob.get_blob_properties()).last_modified
    if not current.doc.status.final and now - modified > STALE_AFTER:
        message = f"the run made no progress for {STALE_AFTER.total_seconds() / 3600:.0f} hours and was ended"
        await end_run(services, export.id, run_id, RunStatus.FAILED, error=RunError(code="stale_run", message=message))


__all__ = ["scheduled_refresh"]
