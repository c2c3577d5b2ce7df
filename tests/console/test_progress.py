"""The live run view's extras: the short series of totals, and the time left at the account's ceiling."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from shared.config import AcLimits
from shared.models import Run, RunCounts, RunStatus, RunTimings, ShardProgress
from shared.pipeline.progress import MAX_SAMPLES, add_sample, time_left_s

T0 = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def test_samples_grow_by_one_per_shard_then_halve_so_they_span_the_whole_run() -> None:
    samples = []
    for i in range(MAX_SAMPLES + 1):
        samples = add_sample(samples, RunCounts(sent=i, confirmed=i, rejected=0), T0 + timedelta(seconds=i))

    assert len(samples) == MAX_SAMPLES // 2 + 1
    assert samples[0].sent == 1 and samples[-1].sent == MAX_SAMPLES  # first kept and the newest
    assert [s.at for s in samples] == sorted(s.at for s in samples)


def run_with(sizes: list[int], ops: list[int], completed: list[int], status: RunStatus = RunStatus.SENDING) -> Run:
    shards = ShardProgress(total=len(sizes), done=len(completed), completed=completed, sizes=sizes, ops=ops)
    return Run(
        id="r",
        export_id="e-1",
        export="e",
        trigger="manual",
        status=status,
        timings=RunTimings(queued_at=T0),
        shards=shards,
    )


def test_time_left_counts_bulk_imports_of_the_shards_not_completed_at_the_ceiling() -> None:
    limits = AcLimits(bulk_per_minute=100, bulk_max_contacts=250, requests_per_second=5)
    # 3 shards of 5,000 upserts (20 imports each), one done: 40 imports at 100/min = 24 s;
    # a re-subscribe shard of 10 rows: 1 import (0.6 s) and 20 single requests at 5/s (4 s)
    run = run_with([5000, 5000, 5000, 10], [1, 1, 1, 2], completed=[1])

    assert time_left_s(run, limits) == 28.6


def test_time_left_is_unknown_before_the_plan_and_after_the_end() -> None:
    limits = AcLimits()
    assert time_left_s(run_with([], [], [], RunStatus.PLANNING), limits) is None
    assert time_left_s(run_with([100], [1], [], RunStatus.SUCCEEDED), limits) is None
    assert time_left_s(run_with([100, 100], [1, 3], [0, 1]), limits) == 0.0
