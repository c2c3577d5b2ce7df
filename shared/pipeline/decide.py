"""Deciding a planned run, once every bucket is planned (the last bucket task calls `finish_plan`): an empty
snapshot removes nobody unless forced; the mass-removal guard (more than maxRemovalPercent of the contacts we hold
subscribed would be removed) skips the run with the numbers unless forced; a dry run ends with its counts; otherwise
the run moves to Sending with every bucket's shards and they are queued (`queue_shards`, also used to re-queue).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from shared.events import DIM_EXPORT, DIM_RUN
from shared.models import PlanProgress, Run, RunStatus, ShardProgress
from shared.names import FINALIZE_QUEUE, SHARD_QUEUE
from shared.pipeline.bucket import bucket_report
from shared.pipeline.finish import end_run
from shared.pipeline.ledger import record_decision
from shared.pipeline.messages import FinalizeMessage, ShardMessage
from shared.pipeline.plan_inputs import INPUTS, load_inputs
from shared.pipeline.shards import Op
from shared.pipeline.split import split_report
from shared.services import Services
from shared.tracing import current_traceparent

logger = logging.getLogger(__name__)


async def finish_plan(services: Services, run: Run, traceparent: str | None) -> None:
    """Every bucket is planned: decide the run (guard, empty snapshot, dry run) and queue its shards, once."""
    assert run.plan is not None
    plan = run.plan
    if plan.finished:
        await queue_shards(services, run, traceparent)
        return
    counts = run.counts
    leavers = counts.to_remove
    notes: list[str] = [run.reason] if run.reason else []
    skipped: str | None = None
    drop_leavers = False
    if leavers and plan.contacts == 0 and not run.options.force:
        notes.append(f"the snapshot is empty: nobody was removed ({leavers} would have been); use force")
        drop_leavers, leavers = True, 0
    if counts.profiles_read == 0 and not leavers:
        skipped = "no data: the segment snapshot is empty, so nothing was sent"
    max_percent = await _max_removal_percent(services, run)
    if leavers and not run.options.force and plan.subscribed:
        share = 100.0 * leavers / plan.subscribed
        if share > max_percent:
            skipped = (
                f"mass-removal guard: {leavers} of {plan.subscribed} contacts ({share:.1f}%) would be removed, "
                f"more than maxRemovalPercent={max_percent:g}%; nothing was sent. Run again with force=true to proceed."
            )
    parts = [split_report(i) for i in range(plan.partitions)] + [bucket_report(b) for b in range(plan.buckets)]
    decided = counts.model_copy(update={"to_remove": leavers})
    if skipped or run.options.dry_run:
        status = RunStatus.SKIPPED if skipped else RunStatus.SUCCEEDED
        reason = "; ".join([skipped or "dry run: nothing was sent", *notes])
        finished = plan.model_copy(update={"finished": True})
        ended = await end_run(
            services,
            run.export_id,
            run.id,
            status,
            reason=reason,
            counts=decided,
            report=parts,
            updates={"plan": finished},
        )
        if skipped and ended.status is RunStatus.SKIPPED:
            await record_decision(services.ledgers, ended)  # decided once per snapshot: the timer does not loop
        return
    shards = _shard_progress(plan, drop_leavers)
    planned = datetime.now(UTC)

    def sending(r: Run) -> Run:
        if r.plan is None or r.plan.finished:
            return r
        started = r.timings.started_at or r.timings.queued_at
        timings = r.timings.model_copy(
            update={"planned_at": planned, "planning_s": round((planned - started).total_seconds(), 3)}
        )
        return r.model_copy(
            update={
                "status": RunStatus.SENDING if shards.total else RunStatus.RECONCILING,
                "timings": timings,
                "counts": r.counts.model_copy(update={"to_remove": leavers}),
                "shards": shards,
                "reason": "; ".join(notes) or None,
                "plan": r.plan.model_copy(update={"finished": True}),
            }
        )

    run = await services.runs.update(run.export_id, run.id, sending)
    logger.info("run planned", extra={DIM_EXPORT: run.export, DIM_RUN: run.id, "shards": run.shards.total})
    await queue_shards(services, run, traceparent)


def _shard_progress(plan: PlanProgress, drop_leavers: bool) -> ShardProgress:
    """Every bucket's shards, in bucket order (a bucket's shards are numbered from its first)."""
    sizes: list[int] = []
    ops: list[int] = []
    buckets: list[int] = []
    for bucket in range(plan.buckets):
        for op, size in plan.bucket_shards.get(str(bucket), []):
            if drop_leavers and op == int(Op.UNSUBSCRIBE):
                continue  # written, never sent: they are the bucket's last shards, so the names stay right
            sizes.append(size)
            ops.append(op)
            buckets.append(bucket)
    return ShardProgress(total=len(sizes), sizes=sizes, ops=ops, buckets=buckets)


async def _max_removal_percent(services: Services, run: Run) -> float:
    inputs = await load_inputs(services.runs_container, services.runs.path(run.export_id, run.id, INPUTS))
    return inputs.max_removal_percent


async def queue_shards(services: Services, run: Run, traceparent: str | None) -> None:
    """Queue every shard that has not finished (or the finaliser, when none is left)."""
    host = run.target.account if run.target else ""
    pending = [i for i in range(run.shards.total) if i not in run.shards.completed]
    parent = current_traceparent() or traceparent  # the run's trace: shards and finaliser under this plan
    for index in pending:
        message = ShardMessage(
            export_id=run.export_id,
            export=run.export,
            run_id=run.id,
            traceparent=parent,
            shard=index,
            account_host=host,
        )
        await services.enqueue(SHARD_QUEUE, message.to_json())
    if not pending:
        done = FinalizeMessage(export_id=run.export_id, export=run.export, run_id=run.id, traceparent=parent)
        await services.enqueue(FINALIZE_QUEUE, done.to_json())


__all__ = ["finish_plan", "queue_shards"]
