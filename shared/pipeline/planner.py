"""Planning a run, in buckets, across instances (the run queue starts it; the plan queue does the work).

1. `plan_run` (run queue): finds the segments' newest snapshots, records the plan key, checks the list and the
   custom fields in ActiveCampaign (inside the account's lane, like a shard; a busy lane sends the message back,
   delayed), chooses the number of buckets from the segment's size, writes the plan's inputs
   (shared/pipeline/plan_inputs.py) and queues one split task per partition.
2. Split tasks (shared/pipeline/split.py) read the partitions into buckets; the last one queues a task per bucket.
3. Bucket tasks (shared/pipeline/bucket.py) dedupe, diff against the bucket's state and write its shards; the
   last one decides the plan (shared/pipeline/decide.py): an empty snapshot removes nobody unless forced; the
   mass-removal guard (more than maxRemovalPercent of the contacts we hold subscribed would be removed) skips the
   run with the numbers unless forced; a dry run ends with its counts and samples; otherwise every shard is queued.

Any instance can take any task, a crashed task is redone without redoing the others, and every step that moves
the run on is recorded on the run record with its ETag, once (redelivered messages find it done).  Memory is
bounded by a partition's chunk or a bucket, not by the segment.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from datetime import UTC, datetime
from typing import Final

from shared.activecampaign import AcNotFound, ActiveCampaignClient, fields_named
from shared.errors import ExportError, FatalError, NotFound, RetriableError, SnapshotError, WorkBusy
from shared.events import DIM_EXPORT, DIM_RUN
from shared.memory import release_memory
from shared.models import Connection, Export, PlanProgress, Run, RunError, RunStatus
from shared.names import PLAN_QUEUE, RUN_QUEUE
from shared.pipeline.bucket import plan_bucket
from shared.pipeline.buckets import bits_for
from shared.pipeline.decide import finish_plan, queue_shards
from shared.pipeline.finish import end_run
from shared.pipeline.lane import LaneBusy
from shared.pipeline.ledger import plan_key
from shared.pipeline.lookup import connection_of, export_of
from shared.pipeline.messages import PlanMessage, RunMessage
from shared.pipeline.plan_inputs import INPUTS, FieldRef, PlanInputs, SegmentRef, save_inputs
from shared.pipeline.rules import FieldSpec
from shared.pipeline.split import queue_buckets_when_split, split_partition
from shared.pipeline.state import StateMeta, target_of
from shared.services import Services
from shared.snapshot import CsvFormat, SegmentSnapshot, find_snapshot
from shared.tracing import current_traceparent

logger = logging.getLogger(__name__)
CSV_BYTES_PER_ROW: Final = 100  # how the bucket count is estimated from a partition's size, before reading it
PARQUET_BYTES_PER_ROW: Final = 25


async def plan_run(services: Services, msg: RunMessage) -> None:
    try:
        run = (await services.runs.get(msg.export_id, msg.run_id)).doc
    except NotFound:
        logger.warning("run message for a run that does not exist", extra={"run": msg.run_id})
        return
    if run.status.final:
        return
    if run.status in (RunStatus.SENDING, RunStatus.RECONCILING):
        await queue_shards(services, run, msg.traceparent)
        return
    if run.plan is not None:  # planning started: queue its tasks again (each does nothing if it is done)
        await _queue_splits(services, run, msg.traceparent)
        await queue_buckets_when_split(services, run.export_id, run.id, _task(run, msg.traceparent, "bucket", 0))
        return
    if run.cancel_requested:
        await end_run(services, run.export_id, run.id, RunStatus.CANCELED, reason="canceled before planning started")
        return
    try:
        await _start(services, run, msg)
    except LaneBusy as busy:  # another process sends to the account: plan later, as shards wait
        await services.enqueue(RUN_QUEUE, msg.to_json(), delay_s=busy.retry_after)
    except RetriableError:
        raise
    except ExportError as exc:
        await fail(services, run, exc)


async def fail(services: Services, run: Run, exc: ExportError) -> None:
    await end_run(services, run.export_id, run.id, RunStatus.FAILED, error=RunError(code=exc.code, message=exc.message))


async def _start(services: Services, run: Run, msg: RunMessage) -> None:
    """Inside the account's lane (held elsewhere: LaneBusy, the run stays Queued and the message comes back), so the
    checks' AC calls share the account's budget."""
    export = await export_of(services, run.export_id, run.export)
    connection = await connection_of(services, export)
    lane = await services.lanes.enter(connection.hostname)
    try:
        await _start_in_lane(services, run, msg, export, connection)
    finally:
        await lane.leave()


async def _start_in_lane(services: Services, run: Run, msg: RunMessage, export: Export, connection: Connection) -> None:
    started = datetime.now(UTC)
    target = target_of(export, connection)
    run = await services.runs.update(
        run.export_id,
        run.id,
        lambda r: r.model_copy(
            update={"status": RunStatus.PLANNING, "timings": r.timings.model_copy(update={"started_at": started})}
        ),
    )
    root = export.snapshot_root or services.settings.snapshot_root
    snapshots = [await find_snapshot(services.snapshot_container, root, seg) for seg in export.segments]
    snapshot_ids = {s.entity: s.snapshot_id for s in snapshots}
    key = plan_key(export, target, snapshot_ids)
    ledger, _ = await services.ledgers.load(export.id)
    if run.trigger == "schedule" and export.schedule == "refresh" and ledger.decided and ledger.decided.key == key:
        await end_run(
            services, run.export_id, run.id, RunStatus.SKIPPED, reason="no new segment snapshot since the last run"
        )
        return
    # the key first: a run that fails the checks below is then retried every 30 minutes, not on every timer tick
    run = await services.runs.update(
        run.export_id,
        run.id,
        lambda r: r.model_copy(update={"plan_key": key, "target": target, "snapshots": snapshot_ids}),
    )
    fields = await _check_account(services, export, connection)
    loaded = await services.state.load_meta(export.id, target, legacy_name=export.legacy_name)
    full = run.options.full
    notes: list[str] = []
    if ledger.target is not None and ledger.target != target and not full:
        full = True  # a move: what the target holds from us is unknown
        notes.append("the export now sends to another connection, account or list: everyone was sent")
    bits = choose_bits(snapshots, loaded.meta, services.settings.rows_per_bucket)
    inputs = PlanInputs(
        segments=[SegmentRef.of(s) for s in snapshots],
        mapping=export.mapping,
        fields=[FieldRef(attribute=f.attribute, field_id=f.field_id, field_type=f.field_type) for f in fields],
        fingerprint="|".join(export.fingerprint_parts()),
        list_id=export.list_id,
        tags=list(export.tags),
        exclude_automations=export.exclude_automations,
        mirror=export.mirrors,
        full=full,
        max_removal_percent=export.max_removal_percent,
        target=target,
        bits=bits,
        shard_size=services.settings.shard_size,
        legacy_name=export.legacy_name,
        state_etag=loaded.etag,
        notes=notes,
    )
    await save_inputs(services.runs_container, services.runs.path(run.export_id, run.id, INPUTS), inputs)
    plan = PlanProgress(bits=bits, partitions=len(inputs.partitions()))
    run = await services.runs.update(
        run.export_id,
        run.id,
        lambda r: r.model_copy(update={"plan": plan, "reason": "; ".join(notes) or None}),
    )
    logger.info(
        "run planning",
        extra={DIM_EXPORT: run.export, DIM_RUN: run.id, "partitions": plan.partitions, "buckets": plan.buckets},
    )
    parent = current_traceparent() or msg.traceparent
    await _queue_splits(services, run, parent)
    if plan.partitions == 0:  # else the last split queues the buckets
        await queue_buckets_when_split(services, run.export_id, run.id, _task(run, parent, "bucket", 0))


def choose_bits(snapshots: list[SegmentSnapshot], meta: StateMeta, rows_per_bucket: int) -> int:
    """Buckets for the segment's size (estimated from its partitions' bytes) and the contacts we hold; a state
    already cut in buckets keeps its count unless the size moved by more than a factor of two."""
    estimate = 0
    for snapshot in snapshots:
        for partition in snapshot.partitions:
            per_row = CSV_BYTES_PER_ROW if isinstance(partition.format, CsvFormat) else PARQUET_BYTES_PER_ROW
            estimate += partition.size // per_row
    wanted = bits_for(max(estimate, meta.rows), rows_per_bucket=rows_per_bucket)
    if meta.blobs and abs(wanted - meta.bits) <= 1:
        return meta.bits
    return wanted


async def _check_account(services: Services, export: Export, connection: Connection) -> list[FieldSpec]:
    """The list exists and the custom fields resolve (asked inside the account's lane)."""
    client = await services.ac_for(connection)
    try:
        await client.get_list(export.list_id)
    except AcNotFound:
        message = f"list {export.list_id} does not exist in ActiveCampaign account {connection.hostname}"
        raise FatalError(message) from None
    return await _resolve_fields(client, export)


async def _queue_splits(services: Services, run: Run, traceparent: str | None) -> None:
    assert run.plan is not None
    for index in range(run.plan.partitions):
        if index not in run.plan.partitions_done:
            await services.enqueue(PLAN_QUEUE, _task(run, traceparent, "split", index).to_json())


def _task(run: Run, traceparent: str | None, kind: str, index: int) -> PlanMessage:
    return PlanMessage.model_validate(
        {
            "export_id": run.export_id,
            "export": run.export,
            "run_id": run.id,
            "traceparent": traceparent,
            "kind": kind,
            "index": index,
        }
    )


_GATES: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = weakref.WeakKeyDictionary()


def _process_gate(limit: int) -> asyncio.Semaphore:
    """At most `limit` plan tasks at once in this process (event loop): each holds a partition's block or a
    bucket's rows, so the process's memory follows the setting, not how many messages the host hands it at once."""
    loop = asyncio.get_running_loop()
    gate = _GATES.get(loop)
    if gate is None:
        gate = _GATES[loop] = asyncio.Semaphore(limit)
    return gate


async def plan_task(services: Services, msg: PlanMessage) -> None:
    """A task of the plan queue: split a partition, or plan a bucket (and, after the last bucket, decide)."""
    async with _process_gate(services.settings.plan_tasks_per_process):
        try:
            await _plan_task(services, msg)
        finally:
            release_memory()


async def _plan_task(services: Services, msg: PlanMessage) -> None:
    try:
        run = (await services.runs.get(msg.export_id, msg.run_id)).doc
    except NotFound:
        return
    if run.status.final or run.plan is None:
        return
    try:
        if msg.kind == "split":
            await split_partition(services, msg, run)
            return
        run = await plan_bucket(services, run, msg.index)
        if run.plan is not None and len(run.plan.buckets_done) == run.plan.buckets and not run.status.final:
            await finish_plan(services, run, msg.traceparent)
    except WorkBusy as busy:  # a duplicate, or a holder that crashed: look again once its lease has lapsed
        await services.enqueue(PLAN_QUEUE, msg.to_json(), delay_s=busy.retry_after)
    except RetriableError:
        raise
    except ExportError as exc:
        await fail(services, run, exc)


async def _resolve_fields(client: ActiveCampaignClient, export: Export) -> list[FieldSpec]:
    if not export.mapping.custom_fields:
        return []
    available = await client.fields()
    specs: list[FieldSpec] = []
    for mapping in export.mapping.custom_fields:
        found = fields_named(available, mapping.field)
        if len(found) != 1:
            raise FatalError(
                f"custom field {mapping.field!r} (for attribute {mapping.attribute}) is not in ActiveCampaign"
            )
        match = found[0]
        specs.append(FieldSpec(attribute=mapping.attribute, field_id=int(match.id), field_type=match.type))
    return specs


__all__ = ["SnapshotError", "choose_bits", "plan_run", "plan_task"]
