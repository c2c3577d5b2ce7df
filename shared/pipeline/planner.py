"""The planner (run queue): read the snapshot, apply the rules, diff, write shards, queue them.

A redelivered run message is harmless: a run already Sending only has its unfinished
shards queued again (shards are exclusive and resume from their checkpoints), and a
run interrupted while Planning is planned again from scratch (shard files are
rewritten with the same content).

The planner calls ActiveCampaign (the list check, /fields, the leavers' list status) inside
the account's lane, like a shard: it joins the lane before its first call and leaves it
when the plan is written.  When another process holds the lane, the run message goes back
to the queue, delayed, and the run stays Queued.
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import UTC, datetime
from typing import Final

import pyarrow as pa

from shared.activecampaign import AcNotFound, ActiveCampaignClient, fields_named
from shared.activecampaign.membership import UNSUBSCRIBED, left_the_list
from shared.errors import ExportError, FatalError, NotFound, RetriableError, SnapshotError
from shared.events import DIM_EXPORT, DIM_RUN
from shared.memory import release_memory
from shared.models import Connection, Export, Run, RunError, RunStatus
from shared.names import FINALIZE_QUEUE, RUN_QUEUE, SHARD_QUEUE
from shared.pipeline.finish import end_run
from shared.pipeline.lane import LaneBusy
from shared.pipeline.ledger import plan_key, record_decision
from shared.pipeline.lookup import connection_of, export_of
from shared.pipeline.messages import FinalizeMessage, RunMessage, ShardMessage
from shared.pipeline.plan import Plan, make_plan, plan_diff
from shared.pipeline.rules import FieldSpec, RuleResult, SegmentInput, apply_rules
from shared.pipeline.shards import Op, PayloadSpec, shard_name, shard_table, write_table
from shared.pipeline.state import target_of
from shared.services import Services
from shared.snapshot import SegmentSnapshot, find_snapshot, read_snapshot
from shared.stages import Stages
from shared.tracing import current_traceparent

logger = logging.getLogger(__name__)
PLAN_REPORT: Final = "plan/report.arrow"
PLAN_STATE: Final = "plan/state.arrow"  # state changes decided at planning (leavers who had opted out)
SHARD_UPLOADS: Final = 8  # shard files written at once
MAX_CONCURRENT_PLANS: Final = 2  # planning holds a whole segment in memory: bound it per process
_plans = asyncio.Semaphore(MAX_CONCURRENT_PLANS)


async def plan_run(services: Services, msg: RunMessage) -> None:
    try:
        run = (await services.runs.get(msg.export_id, msg.run_id)).doc
    except NotFound:
        logger.warning("run message for a run that does not exist", extra={"run": msg.run_id})
        return
    if run.status.final:
        return
    if run.status in (RunStatus.SENDING, RunStatus.RECONCILING):
        await _requeue(services, run, msg)
        return
    if run.cancel_requested:
        await end_run(services, run.export_id, run.id, RunStatus.CANCELED, reason="canceled before planning started")
        return
    async with _plans:
        try:
            await _plan(services, run, msg)
        except LaneBusy as busy:  # another process sends to the account: plan later, as shards wait
            await services.enqueue(RUN_QUEUE, msg.to_json(), delay_s=busy.retry_after)
        except RetriableError:
            raise
        except ExportError as exc:
            await end_run(
                services, run.export_id, run.id, RunStatus.FAILED, error=RunError(code=exc.code, message=exc.message)
            )


async def _plan(services: Services, run: Run, msg: RunMessage) -> None:
    export = await export_of(services, run.export_id, run.export)
    connection = await connection_of(services, export)
    lane = await services.lanes.enter(connection.hostname)  # LaneBusy: the message goes back to the queue
    try:
        await _plan_in_lane(services, run, msg, export, connection)
    finally:
        await lane.leave()


async def _plan_in_lane(services: Services, run: Run, msg: RunMessage, export: Export, connection: Connection) -> None:
    started = datetime.now(UTC)
    clock = time.perf_counter()
    stages = Stages()
    run = await services.runs.update(
        run.export_id,
        run.id,
        lambda r: r.model_copy(
            update={"status": RunStatus.PLANNING, "timings": r.timings.model_copy(update={"started_at": started})}
        ),
    )
    target = target_of(export, connection)
    client = await services.ac_for(connection)
    try:
        await client.get_list(export.list_id)
    except AcNotFound:
        raise FatalError(
            f"list {export.list_id} does not exist in ActiveCampaign account {connection.hostname}"
        ) from None
    fields = await _resolve_fields(client, export)
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
    run = await services.runs.update(
        run.export_id,
        run.id,
        lambda r: r.model_copy(update={"plan_key": key, "target": target, "snapshots": snapshot_ids}),
    )
    state = await services.state.load(export.id, target)
    options = run.options
    notes: list[str] = []
    if ledger.target is not None and ledger.target != target and not options.full:
        options = options.model_copy(update={"full": True})  # a move: what the target holds from us is unknown
        notes.append("the export now sends to another connection, account or list: everyone was sent")
    stages.mark("prepare")
    segments = [await _read(services, snap, export) for snap in snapshots]
    stages.mark("read")
    release_memory()  # the partitions' download buffers
    rules: RuleResult = await asyncio.to_thread(
        apply_rules, segments, export.mapping, fields, "|".join(export.fingerprint_parts())
    )
    stages.mark("rules")
    release_memory()  # apply_rules emptied `segments`: the raw columns are gone
    diff = await asyncio.to_thread(plan_diff, rules, state, export, options)
    unsubscribed = await _self_unsubscribed(client, export.list_id, diff.leavers)
    plan: Plan = await asyncio.to_thread(
        make_plan, rules, state, export, options, services.settings.shard_size, diff, unsubscribed
    )
    plan.notes[:0] = notes
    del rules, state, diff
    stages.mark("diff")
    release_memory()
    await write_table(services.runs_container, services.runs.path(run.export_id, run.id, PLAN_REPORT), plan.report)
    await write_table(
        services.runs_container, services.runs.path(run.export_id, run.id, PLAN_STATE), plan.state_updates
    )
    planned = datetime.now(UTC)
    if plan.skipped or run.options.dry_run:
        status = RunStatus.SKIPPED if plan.skipped else RunStatus.SUCCEEDED
        reason = plan.skipped or "dry run: nothing was sent"
        ended = await end_run(
            services,
            run.export_id,
            run.id,
            status,
            reason=_with_notes(reason, plan),
            counts=plan.counts,
            report=plan.report,
        )
        if plan.skipped and ended.status is RunStatus.SKIPPED:
            await record_decision(services.ledgers, ended)  # decided once per snapshot: the timer does not loop
        return
    spec = PayloadSpec(export.list_id, tuple(export.tags), export.exclude_automations)
    uploads = asyncio.Semaphore(SHARD_UPLOADS)

    async def upload(index: int, op: Op, rows: pa.Table) -> None:
        async with uploads:
            blob = services.runs.path(run.export_id, run.id, shard_name(index))
            await write_table(services.runs_container, blob, shard_table(rows, op, spec))

    await asyncio.gather(*(upload(i, op, rows) for i, (op, rows) in enumerate(plan.shards)))
    total = len(plan.shards)

    def sending(r: Run) -> Run:
        timings = r.timings.model_copy(
            update={"planned_at": planned, "planning_s": round(time.perf_counter() - clock, 3)}
        )
        status = RunStatus.SENDING if total else RunStatus.RECONCILING
        shards = r.shards.model_copy(update={"total": total, "sizes": sizes, "ops": ops})
        reason = "; ".join(plan.notes) or None
        return r.model_copy(
            update={"status": status, "timings": timings, "counts": plan.counts, "shards": shards, "reason": reason}
        )

    stages.mark("shards")
    sizes = [rows.num_rows for _, rows in plan.shards]
    ops = [int(op) for op, _ in plan.shards]
    plan.shards.clear()  # the contacts are in the shard files now
    release_memory()
    run = await services.runs.update(run.export_id, run.id, sending)
    logger.info("run planned", extra={DIM_EXPORT: run.export, DIM_RUN: run.id, "shards": total, **stages.fields()})
    await _requeue(services, run, msg)


async def _requeue(services: Services, run: Run, msg: RunMessage) -> None:
    """Queue every shard that has not finished (or the finaliser, when none is left)."""
    host = run.target.account if run.target else ""
    pending = [i for i in range(run.shards.total) if i not in run.shards.completed]
    parent = current_traceparent() or msg.traceparent  # the run's trace: shards and finaliser under this plan
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


async def _self_unsubscribed(client: ActiveCampaignClient, list_id: int, leavers: pa.Table) -> frozenset[str]:
    """The leavers AC shows unsubscribed from the list: they left it themselves (opted out)."""
    if not leavers.num_rows:
        return frozenset()
    statuses = await left_the_list(client, list_id, [str(e) for e in leavers["email"].to_pylist()])
    return frozenset(email for email, status in statuses.items() if status == UNSUBSCRIBED)


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


async def _read(services: Services, snapshot: SegmentSnapshot, export: Export) -> SegmentInput:
    rows = await read_snapshot(services.snapshot_container, snapshot, export.mapping.attributes())
    return SegmentInput(snapshot.entity, rows)  # columns named as the mapping names them


def _with_notes(reason: str, plan: Plan) -> str:
    return "; ".join([reason, *plan.notes])


__all__ = ["PLAN_REPORT", "PLAN_STATE", "SnapshotError", "plan_run"]
