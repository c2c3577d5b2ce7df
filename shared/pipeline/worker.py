"""The shard worker: send one shard inside its account's lane, then record its outcome exactly once.

Retriable trouble (AC unavailable, lane busy, a lost lease) propagates, so the queue
redelivers the message and the shard resumes from its checkpoint.  Fatal trouble (a
revoked key, a deleted list) fails the run at once: the other shards see it before
their next batch and stop, so AC is not hammered.
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime
from functools import partial

from shared.activecampaign.account import account_key
from shared.errors import CorruptDocument, FatalError, NotFound
from shared.events import DIM_ACCOUNT_HOST, DIM_EVENT, DIM_EXPORT, DIM_RUN, DIM_SHARD, EVENT_SHARD_FINISHED
from shared.metrics import record_ac_responses, record_shard
from shared.models import Connection, Run, RunError
from shared.names import FINALIZE_QUEUE, SHARD_QUEUE
from shared.pipeline.checkpoint import Checkpoint, CheckpointStore, ShardCounts
from shared.pipeline.in_flight import InFlight
from shared.pipeline.lane import LaneBusy
from shared.pipeline.lookup import connection_of, export_of
from shared.pipeline.messages import FinalizeMessage, ShardMessage
from shared.pipeline.outcomes import shard_outcomes
from shared.pipeline.progress import add_sample
from shared.pipeline.run_watch import RunWatch, stop_reason
from shared.pipeline.sender import ShardSender
from shared.pipeline.shards import (
    Op,
    checkpoint_name,
    outcome_name,
    outcome_table,
    read_table,
    shard_name,
    shard_op,
    shard_spec,
    write_table,
)
from shared.pipeline.work_lock import held
from shared.services import Services

logger = logging.getLogger(__name__)


async def run_shard(services: Services, msg: ShardMessage) -> None:
    """Process the shard; if its account's lane is busy, send the message back, delayed (it does not spin)."""
    try:
        await process_shard(services, msg)
    except LaneBusy as busy:
        again = msg.model_copy(update={"lane_waits": msg.lane_waits + 1})
        await services.enqueue(SHARD_QUEUE, again.to_json(), delay_s=busy.retry_after)


def _blob_path(services: Services, msg: ShardMessage, name: str) -> str:
    return services.runs.path(msg.export_id, msg.run_id, name)


def checkpoint_store(services: Services, msg: ShardMessage, run: Run) -> CheckpointStore:
    stem = run.shards.name(msg.shard)
    return CheckpointStore(services.runs_container, _blob_path(services, msg, checkpoint_name(stem)))


async def record_outcome(
    services: Services,
    msg: ShardMessage,
    run: Run,
    store: CheckpointStore,
    checkpoint: Checkpoint,
    outcomes: tuple[list[int], list[str | None], ShardCounts],
    *,
    failed: bool,
) -> None:
    """Write the shard's per-row outcomes, then mark its checkpoint done with the counts (in that order)."""
    codes, reasons, counts = outcomes
    outcome_path = _blob_path(services, msg, outcome_name(run.shards.name(msg.shard)))
    await write_table(services.runs_container, outcome_path, outcome_table(codes, reasons))
    checkpoint.counts, checkpoint.failed, checkpoint.done = counts, failed, True
    await store.save(checkpoint)


async def process_shard(services: Services, msg: ShardMessage) -> None:
    started = time.perf_counter()
    try:
        run = (await services.runs.get(msg.export_id, msg.run_id)).doc
    except NotFound:
        logger.warning("shard message for a run that no longer exists", extra={DIM_RUN: msg.run_id})
        return
    if run.status.final:
        return
    store = checkpoint_store(services, msg, run)
    checkpoint = await store.load(msg.shard)
    if not checkpoint.done:
        shard_blob = services.runs_container.get_blob_client(
            _blob_path(services, msg, shard_name(run.shards.name(msg.shard)))
        )
        settings = services.settings
        busy = LaneBusy(f"shard {msg.shard} is being sent by another worker", retry_after=settings.lane_busy_delay_s)
        async with held(shard_blob, settings.lane_lease_s, busy):
            checkpoint = await store.load(msg.shard)  # re-read under the lease
            if not checkpoint.done:
                await _send(services, msg, run, checkpoint, store)
    await complete_shard(services, msg, checkpoint)
    logger.info(
        "shard finished",
        extra={
            DIM_EVENT: EVENT_SHARD_FINISHED,
            DIM_EXPORT: msg.export,
            DIM_RUN: msg.run_id,
            DIM_SHARD: msg.shard,
            DIM_ACCOUNT_HOST: msg.account_host,
            "duration_ms": round((time.perf_counter() - started) * 1000),
            **(checkpoint.counts.model_dump() if checkpoint.counts else {}),
        },
    )


async def _send(
    services: Services, msg: ShardMessage, run: Run, checkpoint: Checkpoint, store: CheckpointStore
) -> None:
    table = await read_table(services.runs_container, _blob_path(services, msg, shard_name(run.shards.name(msg.shard))))
    watch = RunWatch(services, msg.export_id, msg.run_id)
    stopped = stop_reason(run)
    lane_wait = 0.0
    retries = rate_limited = 0
    sending_started = time.perf_counter()
    fatal = False
    try:
        op, list_id = shard_op(table), shard_spec(table).list_id
    except CorruptDocument as exc:  # never sent with a guessed list or operation
        op, list_id = Op(run.shards.ops[msg.shard]), 0
        error = FatalError(f"shard {msg.shard}: {exc.message}")
        await fail_run(services, msg, error)
        stopped, fatal = f"the run failed: {error.message}", True
    if stopped is None:
        try:
            connection = await _connection(services, run)
        except FatalError as exc:
            await fail_run(services, msg, exc)
            stopped, fatal = f"the run failed: {exc.message}", True
        else:
            lane = await services.lanes.enter(connection.hostname)  # LaneBusy goes back to the queue
            lane_wait = (datetime.now(UTC) - msg.first_enqueued_at).total_seconds()
            client = await services.ac_for(connection)
            progress = InFlight.enter(services, msg.export_id, msg.run_id)
            accepted = partial(progress.accepted, msg.shard)
            sender = ShardSender(
                client, table, op, list_id, checkpoint, store, services.settings.ac, watch, lambda: lane.lost, accepted
            )
            try:
                await sender.run()
                stopped = sender.stopped
            except FatalError as exc:
                await fail_run(services, msg, exc)
                stopped, fatal = f"the run failed: {exc.message}", True
            finally:
                progress.done(msg.shard)
                await lane.leave()
                retries, rate_limited = client.stats.retries, client.stats.rate_limited
                record_ac_responses(msg.export, msg.account_host, client.stats.by_status)
    outcomes = shard_outcomes(table.num_rows, checkpoint, op, stopped)
    counts = outcomes[2]
    counts.retries, counts.rate_limited, counts.lane_wait_s = retries, rate_limited, lane_wait
    record_shard(
        msg.export,
        msg.account_host,
        sent=counts.sent + counts.removed,
        seconds=time.perf_counter() - sending_started,
        lane_wait_s=lane_wait,
    )
    await record_outcome(services, msg, run, store, checkpoint, outcomes, failed=fatal)


async def _connection(services: Services, run: Run) -> Connection:
    """The connection the run was planned on, still reaching the same account; FatalError otherwise (the export
    or its connection was deleted, re-created or moved mid-run: what was planned no longer applies)."""
    export = await export_of(services, run.export_id, run.export)
    connection = await connection_of(services, export)
    target = run.target
    if target is None or connection.id != target.connection_id or account_key(connection.hostname) != target.account:
        raise FatalError(
            f"the connection of export {run.export!r} changed while the run was sending; start the run again"
        )
    return connection


async def fail_run(services: Services, msg: ShardMessage, error: FatalError) -> None:
    """Record a fatal error on the run (the first one wins); every shard stops before its next batch."""

    def record(run: Run) -> Run:
        if run.error is not None or run.status.final:
            return run
        return run.model_copy(update={"error": RunError(code=error.code, message=error.message)})

    await services.runs.update(msg.export_id, msg.run_id, record)


async def complete_shard(services: Services, msg: ShardMessage, checkpoint: Checkpoint) -> None:
    """Add the shard's counts to the run once; the update that completes the last shard queues the finaliser."""
    counts = checkpoint.counts or ShardCounts()

    def apply(run: Run) -> Run:
        if msg.shard in run.shards.completed:
            return run
        totals = run.counts.model_copy(update={k: getattr(run.counts, k) + v for k, v in counts.run_counts().items()})
        in_flight = {shard: n for shard, n in run.in_flight.items() if shard != msg.shard}
        completed = [*run.shards.completed, msg.shard]
        failed = [*run.shards.failed, msg.shard] if checkpoint.failed else run.shards.failed
        shards = run.shards.model_copy(update={"completed": completed, "done": len(completed), "failed": failed})
        return run.model_copy(
            update={
                "counts": totals,
                "shards": shards,
                "retries": run.retries + counts.retries,
                "rate_limited": run.rate_limited + counts.rate_limited,
                "lane_wait_s": max(run.lane_wait_s, counts.lane_wait_s),
                "samples": add_sample(run.samples, totals, datetime.now(UTC)),  # the console's chart
                "in_flight": in_flight,  # its counts are in now: shown once
            }
        )

    run = await services.runs.update(msg.export_id, msg.run_id, apply)
    if run.shards.done >= run.shards.total and not run.status.final:
        message = FinalizeMessage(
            export_id=msg.export_id, export=msg.export, run_id=msg.run_id, traceparent=msg.traceparent
        )
        await services.enqueue(FINALIZE_QUEUE, message.to_json())


__all__ = [
    "checkpoint_store",
    "complete_shard",
    "fail_run",
    "process_shard",
    "record_outcome",
    "run_shard",
]
