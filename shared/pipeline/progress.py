"""What the console's live run view shows beyond the counts: totals over time, and the time left at the ceiling.

- `add_sample`: one sample of sent/confirmed/rejected per completed shard, kept short (at most
  MAX_SAMPLES: when full, every second sample is dropped, so the series still spans the whole run).
- `time_left_s`: the seconds the shards not yet completed take if the account's budget is used to
  its ceiling (the AC limit settings): a bulk import per `bulk_max_contacts` rows at
  `bulk_per_minute`, plus, for re-subscribes, two single requests per row at `requests_per_second`.
  Waits for AC (rate-limit answers, `import/info` polling) are not in it: it is a floor.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Final

from shared.config import AcLimits
from shared.models import Run, RunCounts, RunSample
from shared.pipeline.shards import Op

MAX_SAMPLES: Final = 240
RESUBSCRIBE_REQUESTS_PER_ROW: Final = 2  # GET /contacts?email= and POST /contactLists


def add_sample(samples: list[RunSample], totals: RunCounts, at: datetime) -> list[RunSample]:
    sample = RunSample(at=at, sent=totals.sent, confirmed=totals.confirmed, rejected=totals.rejected)
    kept = samples if len(samples) < MAX_SAMPLES else samples[1::2]
    return [*kept, sample]


def time_left_s(run: Run, limits: AcLimits) -> float | None:
    """None unless the run is sending (or reconciling) with a known plan."""
    if run.status.final or not run.shards.sizes:
        return None
    done = set(run.shards.completed)
    seconds = 0.0
    for shard, rows in enumerate(run.shards.sizes):
        if shard in done or rows <= 0:
            continue
        seconds += math.ceil(rows / limits.bulk_max_contacts) * 60.0 / limits.bulk_per_minute
        op = run.shards.ops[shard] if shard < len(run.shards.ops) else Op.UPSERT
        if op == Op.RESUBSCRIBE:
            seconds += rows * RESUBSCRIBE_REQUESTS_PER_ROW / limits.requests_per_second
    return round(seconds, 1)


__all__ = ["MAX_SAMPLES", "add_sample", "time_left_s"]
