"""Split one partition into buckets (plan queue, kind "split"): the first stage of bucketed planning.

The partition is streamed (CSV in blocks, Parquet by row group); each chunk goes through the first row rules
(shared/pipeline/rules.py check_rows: invalid and unreadable rows are reported and dropped) and its valid rows
are cut by bucket.  Rows wait in memory until PENDING_ROWS of them do, then every bucket's rows are added to
that bucket's file, `plan/splits/p<partition>/b<bucket>-0000.arrow` (one IPC file per bucket, written a piece
at a time as blob blocks and committed when the partition is read: shared/pipeline/table_blob.py).  Memory is
bounded by the chunk and PENDING_ROWS, whatever the partition's size; the number of files is partitions times
buckets, not also the number of flushes.

A split runs once per partition: a lease keeps a duplicated message out, a redelivered one starts over (its
earlier files are deleted first), and one already recorded does nothing.  The task that records the last
split queues a bucket task per bucket.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Final

import numpy as np
import pyarrow as pa
from azure.core.exceptions import ResourceNotFoundError
from azure.storage.blob.aio import ContainerClient

from shared.events import DIM_EXPORT, DIM_RUN
from shared.models import Run
from shared.names import PLAN_QUEUE
from shared.pipeline.buckets import buckets_of, email_hashes
from shared.pipeline.messages import PlanMessage
from shared.pipeline.plan_inputs import INPUTS, PlanInputs, load_inputs
from shared.pipeline.rules import REPORT_SCHEMA, check_rows
from shared.pipeline.shards import write_table
from shared.pipeline.table_blob import TableBlob
from shared.pipeline.work_lock import run_work
from shared.services import Services
from shared.snapshot import stream_partition
from shared.snapshot.csv_reader import PartitionRows
from shared.stages import Stages

logger = logging.getLogger(__name__)
PENDING_ROWS: Final = 400_000  # valid rows held before each bucket's share is written (1M: planner at 623 MB)
SPLITS: Final = "plan/splits/"


def split_prefix(index: int) -> str:
    return f"{SPLITS}p{index:05d}/"


def split_report(index: int) -> str:
    return f"plan/reports/split-{index:05d}.arrow"


class BucketWriter:
    """The split's sink: called in the parser's thread with each chunk; writes through the event loop."""

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        open_file: Callable[[str], TableBlob],
        inputs: PlanInputs,
        index: int,
    ) -> None:
        self._loop = loop
        self._open = open_file
        self._inputs = inputs
        self._index = index
        self._origin = inputs.partitions()[index][2]
        self._buckets = 1 << inputs.bits
        self.reset()

    def reset(self) -> None:
        self._pending: list[list[pa.Table]] = [[] for _ in range(self._buckets)]
        self._pending_rows = 0
        self._files: list[TableBlob | None] = [None] * self._buckets
        self.reports: list[pa.Table] = []
        self.rows_read = 0
        self.invalid = 0
        self.kept = 0

    def take(self, chunk: PartitionRows) -> None:
        checked = check_rows(chunk.table, chunk.bad_rows, chunk.rows_read, self._inputs.mapping, self._origin)
        self.rows_read += checked.rows_read
        self.invalid += checked.invalid
        if checked.report.num_rows:
            self.reports.append(checked.report)
        valid = checked.valid
        if not valid.num_rows:
            return
        self.kept += valid.num_rows
        buckets = buckets_of(email_hashes(valid["email"]), self._inputs.bits)
        order = np.argsort(buckets, kind="stable")
        counts = np.bincount(buckets, minlength=self._buckets)
        ordered = valid.take(pa.array(order))
        start = 0
        for bucket, count in enumerate(counts.tolist()):
            if count:
                self._pending[bucket].append(ordered.slice(start, count))
                start += count
        self._pending_rows += valid.num_rows
        if self._pending_rows >= PENDING_ROWS:
            self.flush()

    def flush(self) -> None:
        for bucket, tables in enumerate(self._pending):
            if tables:
                file = self._files[bucket]
                if file is None:
                    file = self._files[bucket] = self._open(f"{split_prefix(self._index)}b{bucket:04d}-0000.arrow")
                table = pa.concat_tables(tables)
                asyncio.run_coroutine_threadsafe(file.write(table), self._loop).result()
        self._pending = [[] for _ in range(self._buckets)]
        self._pending_rows = 0

    async def close(self) -> None:
        """Commit every bucket's file (in the event loop, after the last flush)."""
        for file in self._files:
            if file is not None:
                await file.close()


async def split_partition(services: Services, msg: PlanMessage, run: Run) -> None:
    plan = run.plan
    assert plan is not None
    if msg.index not in plan.partitions_done:
        lock, what = f"{SPLITS}p{msg.index:05d}.lock", f"partition {msg.index}'s split"
        async with run_work(services, run.export_id, run.id, lock, what):
            run = (await services.runs.get(run.export_id, run.id)).doc
            assert run.plan is not None
            if msg.index not in run.plan.partitions_done and not run.status.final:
                await _split(services, run, msg.index)
    await queue_buckets_when_split(services, run.export_id, run.id, msg)


async def _split(services: Services, run: Run, index: int) -> None:
    stages = Stages()
    container = services.runs_container
    path = services.runs.path
    inputs = await load_inputs(container, path(run.export_id, run.id, INPUTS))
    snapshot, partition, _ = inputs.partitions()[index]
    prefix = path(run.export_id, run.id, split_prefix(index))
    await _delete_prefix(container, prefix)  # an earlier attempt's files

    def open_file(name: str) -> TableBlob:
        return TableBlob(container.get_blob_client(path(run.export_id, run.id, name)))

    writer = BucketWriter(asyncio.get_running_loop(), open_file, inputs, index)

    async def restart() -> None:
        writer.reset()
        await _delete_prefix(container, prefix)

    await stream_partition(
        services.snapshot_container, snapshot, partition, inputs.mapping.attributes(), writer.take, restart
    )
    await asyncio.to_thread(writer.flush)
    await writer.close()
    reports = writer.reports
    report = pa.concat_tables(reports) if reports else REPORT_SCHEMA.empty_table()
    await write_table(container, path(run.export_id, run.id, split_report(index)), report)
    stages.mark("split")

    def record(r: Run) -> Run:
        assert r.plan is not None
        if index in r.plan.partitions_done:
            return r
        counts = r.counts.model_copy(
            update={
                "profiles_read": r.counts.profiles_read + writer.rows_read,
                "invalid": r.counts.invalid + writer.invalid,
            }
        )
        plan = r.plan.model_copy(
            update={"partitions_done": [*r.plan.partitions_done, index], "contacts": r.plan.contacts + writer.kept}
        )
        return r.model_copy(update={"counts": counts, "plan": plan})

    await services.runs.update(run.export_id, run.id, record)
    logger.info(
        "partition split",
        extra={
            DIM_EXPORT: run.export,
            DIM_RUN: run.id,
            "partition": index,
            "rows": writer.rows_read,
            **stages.fields(),
        },
    )


async def queue_buckets_when_split(services: Services, export_id: str, run_id: str, msg: PlanMessage) -> None:
    """Once every partition is split, queue a task for each bucket not planned yet (again on redelivery)."""
    run = (await services.runs.get(export_id, run_id)).doc
    plan = run.plan
    if plan is None or run.status.final or len(plan.partitions_done) < plan.partitions or plan.finished:
        return
    for bucket in range(plan.buckets):
        if bucket not in plan.buckets_done:
            task = PlanMessage(
                export_id=export_id,
                export=run.export,
                run_id=run_id,
                traceparent=msg.traceparent,
                kind="bucket",
                index=bucket,
            )
            await services.enqueue(PLAN_QUEUE, task.to_json())


async def bucket_files(container: ContainerClient, prefix: str, bucket: int, partitions: int) -> list[str]:
    """The files every split wrote for `bucket` (under the run's `prefix`): listed per partition by the bucket's
    own name prefix, so each bucket lists only its files (not every bucket's, which grew with buckets²)."""
    names: list[str] = []
    for partition in range(partitions):
        wanted = f"{prefix}{split_prefix(partition)}b{bucket:04d}-"
        names += [b.name async for b in container.list_blobs(name_starts_with=wanted)]
    return sorted(names)


async def _delete_prefix(container: ContainerClient, prefix: str) -> None:
    async for blob in container.list_blobs(name_starts_with=prefix):
        with contextlib.suppress(ResourceNotFoundError):
            await container.delete_blob(blob.name)


__all__ = ["PENDING_ROWS", "BucketWriter", "bucket_files", "split_partition", "split_prefix", "split_report"]
