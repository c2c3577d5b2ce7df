"""Plan one bucket (plan queue, kind "bucket"): the second stage of bucketed planning.

A bucket holds every row of its emails, from every segment and partition, so its duplicates meet here: the
second row rules (shared/pipeline/rules.py settle_rows) keep the first row of each email in reading order and
format its values.  The contacts are diffed against the bucket's slice of the state (shared/pipeline/diff.py)
and cut into shards (`shards/b<bucket>-<n>.arrow`), which are queued only once every bucket is planned and the
whole plan is decided (shared/pipeline/decide.py finish_plan): the mass-removal guard needs every bucket's
leavers.  Memory holds one bucket: about ROWS_PER_BUCKET rows and their slice of the state.

A bucket is planned once: a lease keeps a duplicated message out, a redelivered one plans it again (the same
files), and one already recorded does nothing.  The task that records the last bucket decides the plan.
"""

from __future__ import annotations

import logging
from typing import Final

import pyarrow as pa

from shared.events import DIM_EXPORT, DIM_RUN
from shared.models import Run
from shared.pipeline.diff import Diff, compute_diff
from shared.pipeline.outcomes import OPTED_OUT_REASON
from shared.pipeline.plan_inputs import INPUTS, PlanInputs, load_inputs
from shared.pipeline.report import SAMPLE_SIZE, rows_of, write_part
from shared.pipeline.rules import REPORT_SCHEMA, empty_valid, settle_rows
from shared.pipeline.shards import Op, read_table, shard_name, shard_table, write_table
from shared.pipeline.split import bucket_files
from shared.pipeline.state import subscribed
from shared.pipeline.work_lock import run_work
from shared.services import Services
from shared.stages import Stages

logger = logging.getLogger(__name__)
BUCKETS: Final = "plan/buckets/"


def bucket_report(bucket: int) -> str:
    return f"plan/reports/bucket-{bucket:04d}.arrow"


def bucket_shard(bucket: int, index: int) -> str:
    """Shard `index` of `bucket` (ShardProgress.name gives the same name for its global index)."""
    return f"shards/b{bucket:04d}-{index:05d}"


async def plan_bucket(services: Services, run: Run, bucket: int) -> Run:
    """Plan `bucket` unless it is recorded already; the run as it is afterwards."""
    assert run.plan is not None
    if bucket in run.plan.buckets_done:
        return run
    async with run_work(services, run.export_id, run.id, f"{BUCKETS}b{bucket:04d}.lock", f"bucket {bucket}'s plan"):
        run = (await services.runs.get(run.export_id, run.id)).doc
        assert run.plan is not None
        if bucket in run.plan.buckets_done or run.status.final:
            return run
        return await _plan(services, run, bucket)


async def _plan(services: Services, run: Run, bucket: int) -> Run:
    stages = Stages()
    container = services.runs_container

    def path(name: str) -> str:
        return services.runs.path(run.export_id, run.id, name)

    inputs = await load_inputs(container, path(INPUTS))
    assert run.plan is not None
    files = await bucket_files(container, path(""), bucket, run.plan.partitions)
    tables = [await read_table(container, f) for f in files]
    rows = pa.concat_tables(tables) if tables else None
    del tables
    stages.mark("read")
    contacts, report, duplicates, value_errors = settle_rows(
        rows if rows is not None else empty_valid(inputs.mapping),
        inputs.mapping,
        inputs.field_specs(),
        inputs.fingerprint,
        inputs.origins(),
    )
    del rows
    stages.mark("rules")
    loaded = await services.state.load_meta(run.export_id, inputs.target, legacy_name=inputs.legacy_name)
    state = await services.state.load_bucket(loaded.meta, inputs.bits, bucket)
    diff = compute_diff(contacts, state, full=inputs.full, mirror=inputs.mirror)
    holding = subscribed(state)
    del state, contacts
    stages.mark("diff")
    parts = [report, rows_of(diff.opted_out, "opted-out", OPTED_OUT_REASON)]
    if run.options.dry_run:
        parts += _samples(diff, inputs.bits)
    await write_part(container, path(bucket_report(bucket)), pa.concat_tables([p.cast(REPORT_SCHEMA) for p in parts]))
    shards = await _write_shards(services, run, inputs, bucket, diff)
    stages.mark("shards")

    def record(r: Run) -> Run:
        assert r.plan is not None
        if bucket in r.plan.buckets_done:
            return r
        c = r.counts
        counts = c.model_copy(
            update={
                "duplicates": c.duplicates + duplicates,
                "value_errors": c.value_errors + value_errors,
                "unchanged": c.unchanged + diff.unchanged,
                "opted_out": c.opted_out + diff.opted_out.num_rows,
                "to_add": c.to_add + diff.adds.num_rows,
                "to_update": c.to_update + diff.updates.num_rows,
                "to_resubscribe": c.to_resubscribe + diff.resubscribes.num_rows,
                "to_send": c.to_send + diff.to_send,
                "to_remove": c.to_remove + diff.leavers.num_rows,
            }
        )
        plan = r.plan.model_copy(
            update={
                "buckets_done": [*r.plan.buckets_done, bucket],
                "bucket_shards": {**r.plan.bucket_shards, str(bucket): shards},
                "subscribed": r.plan.subscribed + holding,
            }
        )
        return r.model_copy(update={"counts": counts, "plan": plan})

    run = await services.runs.update(run.export_id, run.id, record)
    logger.info(
        "bucket planned",
        extra={DIM_EXPORT: run.export, DIM_RUN: run.id, "bucket": bucket, "shards": len(shards), **stages.fields()},
    )
    return run


async def _write_shards(services: Services, run: Run, inputs: PlanInputs, bucket: int, diff: Diff) -> list[list[int]]:
    """The bucket's shard files (upserts, re-subscribes, leavers, each cut at the shard size): [operation, rows]."""
    spec = inputs.spec()
    upserts = pa.concat_tables([diff.adds, diff.updates]) if diff.updates.num_rows else diff.adds
    written: list[list[int]] = []
    for op, rows in ((Op.UPSERT, upserts), (Op.RESUBSCRIBE, diff.resubscribes), (Op.UNSUBSCRIBE, diff.leavers)):
        for start in range(0, rows.num_rows, inputs.shard_size):
            piece = rows.slice(start, inputs.shard_size)
            name = services.runs.path(run.export_id, run.id, shard_name(bucket_shard(bucket, len(written))))
            await write_table(services.runs_container, name, shard_table(piece, op, spec))
            written.append([int(op), piece.num_rows])
    return written


def _samples(diff: Diff, bits: int) -> list[pa.Table]:
    """A dry run's samples of what would happen: about SAMPLE_SIZE of each kind over all buckets."""
    size = max(1, SAMPLE_SIZE >> bits)
    return [
        rows_of(diff.adds.slice(0, size), "would-add", "sample: new to the list"),
        rows_of(diff.updates.slice(0, size), "would-update", "sample: values changed"),
        rows_of(diff.resubscribes.slice(0, size), "would-resubscribe", "sample: came back after removal"),
        rows_of(diff.leavers.slice(0, size), "would-remove", "sample: left every segment"),
    ]


__all__ = ["bucket_report", "bucket_shard", "plan_bucket"]
