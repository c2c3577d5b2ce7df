"""The finaliser (finalize queue): once every shard has an outcome, commit the state bucket by bucket, then end.

1. The run's finalize message (no bucket) marks the run Reconciling and queues one commit per bucket not
   committed yet.
2. A bucket's commit reads its shards' outcomes, writes the bucket's new state file (the old records with the
   rows AC confirmed, and the opt-outs it found, replaced) and the bucket's report part, and records both on the
   run; the commit that records the last bucket queues the run's message again.
3. With every bucket committed, the run's message makes the new files the target's state in one step (the
   state's meta.json, replaced with its ETag), composes the report and ends the run.

Memory holds one bucket.  Each step runs once: a lease keeps a duplicated message out, a redelivered message
finds its step recorded, and a switch already made (the meta names this run) is not made again.  Unsent and
rejected rows keep their old record, so they go again next run.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from typing import Final

import pyarrow as pa
import pyarrow.compute as pc
from azure.core.exceptions import ResourceNotFoundError

from shared.errors import CorruptDocument, FatalError, NotFound, WorkBusy
from shared.events import DIM_EXPORT, DIM_RUN
from shared.memory import release_memory
from shared.models import Run, RunError, RunStatus
from shared.names import FINALIZE_QUEUE
from shared.pipeline.bucket import bucket_report
from shared.pipeline.finish import end_run
from shared.pipeline.ledger import record_decision
from shared.pipeline.messages import FinalizeMessage
from shared.pipeline.plan_inputs import INPUTS, PlanInputs, load_inputs
from shared.pipeline.report import rows_of, write_part
from shared.pipeline.rules import REPORT_SCHEMA
from shared.pipeline.shards import Op, Outcome, outcome_name, read_table, shard_name, shard_op
from shared.pipeline.split import split_report
from shared.pipeline.state import STATE_SCHEMA, ListStatus, LoadedMeta, StateMeta, merge, state_rows
from shared.pipeline.work_lock import run_work
from shared.services import Services
from shared.stages import Stages

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
    (Op.UNSUBSCRIBE, Outcome.OPTED_OUT): "opted-out",
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
    (Op.UNSUBSCRIBE, Outcome.OPTED_OUT): ListStatus.OPTED_OUT,  # a leaver who had unsubscribed themselves
}


def commit_report(bucket: int) -> str:
    return f"finalize/reports/bucket-{bucket:04d}.arrow"


async def finalize_run(services: Services, msg: FinalizeMessage) -> None:
    try:
        await _finalize(services, msg)
    except WorkBusy as busy:  # a duplicate, or a holder that crashed: look again once its lease has lapsed
        await services.enqueue(FINALIZE_QUEUE, msg.to_json(), delay_s=busy.retry_after)


async def _finalize(services: Services, msg: FinalizeMessage) -> None:
    try:
        run = (await services.runs.get(msg.export_id, msg.run_id)).doc
    except NotFound:
        return
    if run.status.final or run.shards.done < run.shards.total:
        return
    if run.plan is None:  # planned by a version without buckets: its files cannot be committed
        error = RunError(code="finalize_failed", message="this run was planned by an older version; start it again")
        await end_run(services, run.export_id, run.id, RunStatus.FAILED, error=error)
        return
    name = "finalize.lock" if msg.bucket is None else f"finalize/b{msg.bucket:04d}.lock"
    what = "the end" if msg.bucket is None else f"bucket {msg.bucket}'s commit"
    async with run_work(services, msg.export_id, msg.run_id, name, what):
        run = (await services.runs.get(msg.export_id, msg.run_id)).doc
        if run.status.final:
            return
        if msg.bucket is None:
            await _finish(services, run, msg)
        else:
            await _commit_bucket(services, run, msg)


async def _finish(services: Services, run: Run, msg: FinalizeMessage) -> None:
    """Queue the buckets left to commit; with none left, switch the state and end the run."""
    assert run.plan is not None
    if run.status is not RunStatus.RECONCILING:
        run = await services.runs.update(
            run.export_id, run.id, lambda r: r.model_copy(update={"status": RunStatus.RECONCILING})
        )
    assert run.plan is not None
    left = [b for b in range(run.plan.buckets) if b not in run.plan.committed]
    for bucket in left:
        await services.enqueue(FINALIZE_QUEUE, msg.model_copy(update={"bucket": bucket}).to_json())
    if left:
        return
    stages = Stages()
    inputs = await load_inputs(services.runs_container, services.runs.path(run.export_id, run.id, INPUTS))
    await _switch_state(services, run, inputs)
    stages.mark("state")
    plan = run.plan
    parts = (
        [split_report(i) for i in range(plan.partitions)]
        + [bucket_report(b) for b in range(plan.buckets)]
        + [commit_report(b) for b in range(plan.buckets)]
    )
    final, error = _final_status(run)
    ended = await end_run(services, run.export_id, run.id, final, error=error, report=parts)
    if ended.status is final and _complete(run):
        await record_decision(services.ledgers, ended)  # everything was sent: the timer waits for a new snapshot
    stages.mark("report")
    logger.info("run finalized", extra={DIM_EXPORT: run.export, DIM_RUN: run.id, **stages.fields()})


async def _switch_state(services: Services, run: Run, inputs: PlanInputs) -> None:
    """Make the committed buckets the target's state, unless this run already did; then name the target as where
    the export last wrote."""
    assert run.plan is not None
    plan = run.plan
    if await _retired(services, run.export_id):
        logger.info("export deleted while its run was in flight: its state is not committed", extra={DIM_RUN: run.id})
        return
    loaded = await services.state.load_meta(run.export_id, inputs.target, legacy_name=inputs.legacy_name)
    if loaded.meta.last_run_id != run.id:
        if loaded.etag != inputs.state_etag:
            raise FatalError(
                f"the incremental state of export {run.export!r} changed while this run was sending; "
                "its results were not committed, so its confirmed rows are sent again by the next run"
            )
        sizes = [plan.state_sizes.get(str(b), 0) for b in range(plan.buckets)]
        new = StateMeta(
            bits=plan.bits,
            blobs=[plan.state_blobs.get(str(b)) for b in range(plan.buckets)],
            sizes=sizes,
            rows=sum(sizes),
            last_run_id=run.id,
            updated_at=datetime.now(UTC),
        )
        await services.state.switch(run.export_id, inputs.target, loaded, new)
    target = inputs.target
    await services.ledgers.update(run.export_id, lambda ledger: ledger.model_copy(update={"target": target}))


async def _commit_bucket(services: Services, run: Run, msg: FinalizeMessage) -> None:
    assert run.plan is not None and msg.bucket is not None
    bucket = msg.bucket
    if bucket in run.plan.committed:
        return
    try:
        blob, rows = await _write_bucket(services, run, bucket)
    except FatalError as exc:
        await end_run(
            services, run.export_id, run.id, RunStatus.FAILED, error=RunError(code=exc.code, message=exc.message)
        )
        return

    def record(r: Run) -> Run:
        assert r.plan is not None
        if bucket in r.plan.committed:
            return r
        plan = r.plan.model_copy(
            update={
                "committed": [*r.plan.committed, bucket],
                "state_blobs": {**r.plan.state_blobs, str(bucket): blob},
                "state_sizes": {**r.plan.state_sizes, str(bucket): rows},
            }
        )
        return r.model_copy(update={"plan": plan})

    run = await services.runs.update(run.export_id, run.id, record)
    assert run.plan is not None
    if len(run.plan.committed) == run.plan.buckets:
        await services.enqueue(FINALIZE_QUEUE, msg.model_copy(update={"bucket": None}).to_json())


async def _retired(services: Services, export_id: str) -> bool:
    """The export was deleted (its id retired): its state was dropped and nothing may write it again."""
    return await services.retired.find(export_id) is not None


async def _write_bucket(services: Services, run: Run, bucket: int) -> tuple[str | None, int]:
    """The bucket's new state file (None: nobody in it) and its record count; its report part too."""
    assert run.plan is not None
    stages = Stages()
    container = services.runs_container
    inputs = await load_inputs(container, services.runs.path(run.export_id, run.id, INPUTS))
    loaded = await services.state.load_meta(run.export_id, inputs.target, legacy_name=inputs.legacy_name)
    if loaded.meta.last_run_id == run.id:  # switched already (a redelivery after the switch): nothing to redo
        return _current_file(loaded, bucket), 0
    updates, reports = await _outcomes(services, run, bucket)
    await write_part(container, services.runs.path(run.export_id, run.id, commit_report(bucket)), reports)
    stages.mark("outcomes")
    if await _retired(services, run.export_id):  # deleted mid-run: its state was dropped and stays dropped
        return None, 0
    if not updates.num_rows and loaded.meta.bits == inputs.bits and loaded.meta.blobs:
        blob = loaded.meta.blobs[bucket]  # unchanged: the same file stays in the new state
        sizes = loaded.meta.sizes
        if bucket < len(sizes):
            return blob, sizes[bucket]
        return blob, (await services.state.load_bucket(loaded.meta, inputs.bits, bucket)).num_rows if blob else 0
    old = await services.state.load_bucket(loaded.meta, inputs.bits, bucket)
    table = merge(old, updates)
    del old, updates
    release_memory()
    name = None
    if table.num_rows:
        name = await services.state.write_bucket(run.export_id, inputs.target, run.id, bucket, table)
    stages.mark("state")
    logger.info(
        "bucket committed",
        extra={DIM_EXPORT: run.export, DIM_RUN: run.id, "bucket": bucket, "rows": table.num_rows, **stages.fields()},
    )
    return name, table.num_rows


def _current_file(loaded: LoadedMeta, bucket: int) -> str | None:
    blobs = loaded.meta.blobs
    return blobs[bucket] if bucket < len(blobs) else None


async def _outcomes(services: Services, run: Run, bucket: int) -> tuple[pa.Table, pa.Table]:
    """From the bucket's shards: the state records AC's answers change, and the report rows."""
    shards = run.shards
    reads = asyncio.Semaphore(SHARD_READS)

    async def outcome_of(index: int) -> tuple[pa.Table, pa.Table, Op] | None:
        stem = shards.name(index)
        path = services.runs.path
        async with reads:
            try:
                shard = await read_table(
                    services.runs_container, path(run.export_id, run.id, shard_name(stem)), ["email", "hash"]
                )
                outcome = await read_table(services.runs_container, path(run.export_id, run.id, outcome_name(stem)))
                op = shard_op(shard)
            except (ResourceNotFoundError, pa.ArrowException, CorruptDocument):  # a failed shard: counted only
                logger.warning("shard %d of run %s cannot be read; its rows are counted but not listed", index, run.id)
                return None
        return shard, outcome, op

    mine = [i for i in range(shards.total) if shards.buckets[i] == bucket]
    updates: list[pa.Table] = [STATE_SCHEMA.empty_table()]
    reports: list[pa.Table] = [REPORT_SCHEMA.empty_table()]
    for found in await asyncio.gather(*(outcome_of(i) for i in mine)):
        if found is None:
            continue
        shard, outcome, op = found
        codes = outcome["outcome"]
        for (kind, result), list_status in STATE_AFTER.items():
            if kind is op:
                rows = shard.filter(pc.equal(codes, pa.scalar(int(result), pa.int8())))
                updates.append(state_rows(rows, list_status))
        for (kind, result), name in OUTCOME_NAMES.items():
            if kind is op:
                mask = pc.equal(codes, pa.scalar(int(result), pa.int8()))
                if pc.any(mask).as_py():
                    reports.append(rows_of(shard.filter(mask), name, outcome["reason"].filter(mask)))
    return pa.concat_tables(updates), pa.concat_tables(reports)


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


__all__ = ["commit_report", "finalize_run"]
