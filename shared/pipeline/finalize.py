"""The finaliser (finalize queue): once every shard has an outcome, commit the state and end the run.

Runs once per run: a lease on the run's `finalize.lock` blob keeps a duplicated
message out, and a run that is already final is left alone.  The state is
committed for confirmed rows only, so unsent and rejected rows go again next run.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from typing import Any, Final

import pyarrow as pa
import pyarrow.compute as pc
from azure.core.exceptions import ResourceNotFoundError

from shared.errors import CorruptDocument, NotFound, RetriableError
from shared.events import DIM_EXPORT, DIM_RUN
from shared.memory import release_memory
from shared.models import Run, RunError, RunStatus
from shared.pipeline.finish import end_run
from shared.pipeline.ledger import record_decision
from shared.pipeline.messages import FinalizeMessage
from shared.pipeline.planner import PLAN_REPORT, PLAN_STATE
from shared.pipeline.rules import REPORT_SCHEMA
from shared.pipeline.shards import Op, Outcome, outcome_name, read_table, shard_name, shard_op
from shared.pipeline.state import STATE_SCHEMA, ListStatus
from shared.services import Services
from shared.stages import Stages
from shared.storage.lease import LeaseBusy, RenewingLease

logger = logging.getLogger(__name__)
SHARD_READS: Final = 8  # shard and outcome files read at once
OUTCOME_NAMES: Final = {
    (Op.UPSERT, Outcome.REJECTED): "rejected",
    (Op.UPSERT, Outcome.NOT_SENT): "not-sent",
    (Op.UPSERT, Outcome.OPTED_OUT): "opted-out",
    (Op.RESUBSCRIBE, Outcome.REJECTED): "rejected",
    (Op.RESUBSCRIBE, Outcome.NOT_SENT): "not-sent",
    (Op.RESUBSCRIBE, Outcome.OPTED_OUT): "opted-out",
    (Op.UNSUBSCRIBE, Outcome.REJECTED): "removal-rejected",
    (Op.UNSUBSCRIBE, Outcome.NOT_SENT): "removal-not-sent",
    (Op.UNSUBSCRIBE, Outcome.OPTED_OUT): "removal-rejected",
    (Op.UPSERT, Outcome.UNCONFIRMED): "unconfirmed",
    (Op.RESUBSCRIBE, Outcome.UNCONFIRMED): "unconfirmed",
    (Op.UNSUBSCRIBE, Outcome.UNCONFIRMED): "removal-unconfirmed",
}
STATE_AFTER: Final = {
    (Op.UPSERT, Outcome.CONFIRMED): ListStatus.SUBSCRIBED,
    (Op.RESUBSCRIBE, Outcome.CONFIRMED): ListStatus.SUBSCRIBED,
    (Op.UNSUBSCRIBE, Outcome.CONFIRMED): ListStatus.REMOVED,
    (Op.UPSERT, Outcome.OPTED_OUT): ListStatus.OPTED_OUT,
    (Op.RESUBSCRIBE, Outcome.OPTED_OUT): ListStatus.OPTED_OUT,
}


async def finalize_run(services: Services, msg: FinalizeMessage) -> None:
    try:
        run = (await services.runs.get(msg.export_id, msg.run_id)).doc
    except NotFound:
        return
    if run.status.final or run.shards.done < run.shards.total:
        return
    lock = services.runs_container.get_blob_client(services.runs.path(msg.export_id, msg.run_id, "finalize.lock"))
    lease = RenewingLease(lock, services.settings.lane_lease_s)
    try:
        await lease.acquire()
    except LeaseBusy:
        raise RetriableError(f"run {msg.run_id} is being finalised by another worker") from None
    try:
        run = (await services.runs.get(msg.export_id, msg.run_id)).doc
        if not run.status.final:
            await _finalize(services, run)
    finally:
        await lease.release()


async def _finalize(services: Services, run: Run) -> None:
    run = await services.runs.update(
        run.export_id, run.id, lambda r: r.model_copy(update={"status": RunStatus.RECONCILING})
    )
    stages = Stages()
    reports = [await _plan_table(services, run, PLAN_REPORT, REPORT_SCHEMA)]
    updates: list[pa.Table] = [await _plan_table(services, run, PLAN_STATE, STATE_SCHEMA)]
    reads = asyncio.Semaphore(SHARD_READS)

    async def outcome_of(index: int) -> tuple[pa.Table, pa.Table, Op] | None:
        path = services.runs.path
        async with reads:
            try:
                shard = await read_table(
                    services.runs_container, path(run.export_id, run.id, shard_name(index)), ["email", "hash"]
                )
                outcome = await read_table(services.runs_container, path(run.export_id, run.id, outcome_name(index)))
                op = shard_op(shard)
            except (ResourceNotFoundError, pa.ArrowException, CorruptDocument):  # a failed shard: counted only
                logger.warning("shard %d of run %s cannot be read; its rows are counted but not listed", index, run.id)
                return None
        return shard, outcome, op

    for found in await asyncio.gather(*(outcome_of(i) for i in range(run.shards.total))):
        if found is None:
            continue
        shard, outcome, op = found
        codes = outcome["outcome"]
        for (kind, result), list_status in STATE_AFTER.items():
            if kind is op:
                rows = shard.filter(pc.equal(codes, pa.scalar(int(result), pa.int8())))
                updates.append(_state_rows(rows, list_status))
        for (kind, result), name in OUTCOME_NAMES.items():
            if kind is op:
                mask = pc.equal(codes, pa.scalar(int(result), pa.int8()))
                if pc.any(mask).as_py():
                    picked = shard.filter(mask)
                    reports.append(_report(picked["email"], name, outcome["reason"].filter(mask)))
    stages.mark("outcomes")
    release_memory()
    await _commit_state(services, run, updates)
    del updates
    stages.mark("state")
    release_memory()
    final, error = _final_status(run)
    ended = await end_run(services, run.export_id, run.id, final, error=error, report=pa.concat_tables(reports))
    if ended.status is final and _complete(run):
        await record_decision(services.ledgers, ended)  # everything was sent: the timer waits for a new snapshot
    stages.mark("report")
    logger.info("run finalized", extra={DIM_EXPORT: run.export, DIM_RUN: run.id, **stages.fields()})


def _final_status(run: Run) -> tuple[RunStatus, RunError | None]:
    c = run.counts
    if run.shards.failed and run.error is None:
        shards = ", ".join(str(s) for s in run.shards.failed)
        return RunStatus.FAILED, RunError(code="shard_failed", message=f"shard(s) {shards} could not be sent")
    if run.error is not None:
        return RunStatus.FAILED, None
    if run.cancel_requested and (c.not_sent or c.removal_not_sent):
        return RunStatus.CANCELED, None
    if c.rejected or c.removal_rejected or c.not_sent or c.removal_not_sent:
        return RunStatus.PARTIALLY_SUCCEEDED, None
    return RunStatus.SUCCEEDED, None


def _complete(run: Run) -> bool:
    """Everything planned reached AC: nothing was cut short by a cancel, an error, a failed shard or upserts left
    unsent, and every leaver was removed.  Upserts AC rejected are retried with the next snapshot; a leaver who
    is still on the list keeps getting its campaigns, so the snapshot stays unsettled and the timer retries it
    (every RETRY_S, shared/pipeline/schedule.py)."""
    c = run.counts
    unsent = c.not_sent or c.removal_not_sent or c.removal_rejected
    return not (run.error or run.shards.failed or run.cancel_requested or unsent)


async def _commit_state(services: Services, run: Run, updates: list[pa.Table]) -> None:
    """The target's old state, with the rows AC confirmed (and detected opt-outs) replaced by their new values;
    the ledger then names this target as where the export last wrote."""
    target = run.target
    if target is None:  # planned by a build before targets: nothing can be committed safely
        logger.warning("run %s has no target; its state is not committed", run.id)
        return
    state = await services.state.load(run.export_id, target)
    changed = pa.concat_tables(updates) if updates else STATE_SCHEMA.empty_table()
    kept = state.table.filter(pc.invert(pc.is_in(state.table["email"], value_set=changed["email"])))
    meta = state.meta.model_copy(update={"last_run_id": run.id, "updated_at": datetime.now(UTC)})
    await services.state.save(run.export_id, target, state, pa.concat_tables([kept, changed]), meta)
    await services.ledgers.update(run.export_id, lambda ledger: ledger.model_copy(update={"target": target}))


def _state_rows(rows: pa.Table, status: ListStatus) -> pa.Table:
    return pa.table(
        {
            "email": rows["email"],
            "hash": rows["hash"],
            "status": pa.repeat(pa.scalar(int(status), pa.int8()), rows.num_rows),
        }
    ).cast(STATE_SCHEMA)


def _report(emails: pa.ChunkedArray[Any], outcome: str, reasons: pa.ChunkedArray[Any]) -> pa.Table:
    n = len(emails)
    return pa.table(
        {
            "email": emails,
            "outcome": pa.repeat(pa.scalar(outcome), n),
            "reason": reasons,
            "segment": pa.nulls(n, pa.string()),
            "row": pa.nulls(n, pa.int64()),
        }
    ).cast(REPORT_SCHEMA)


async def _plan_table(services: Services, run: Run, name: str, schema: pa.Schema) -> pa.Table:
    try:
        path = services.runs.path(run.export_id, run.id, name)
        return (await read_table(services.runs_container, path)).cast(schema)
    except ResourceNotFoundError:  # a run planned by an older version: end it anyway
        logger.warning("run %s has no %s", run.id, name)
        return schema.empty_table()


__all__ = ["finalize_run"]
