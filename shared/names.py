"""Names that the code, the bindings and the Bicep templates must agree on.

Queue and container names, and the app-setting names that triggers resolve
(`%REFRESH_SCHEDULE%`, the `connection=` setting).  tests/test_wiring.py checks
the bindings against these constants and tests/infra checks the Bicep.
"""

from __future__ import annotations

from typing import Final

# App setting that names the storage account the triggers and our documents use.
STORAGE_CONNECTION: Final = "AzureWebJobsStorage"
# App setting holding the timer's NCRONTAB schedule (resolved as %REFRESH_SCHEDULE%).
REFRESH_SCHEDULE_SETTING: Final = "REFRESH_SCHEDULE"

# Queues (each trigger queue also has a "<name>-poison" queue, created by the host).
RUN_QUEUE: Final = "export-runs"
PLAN_QUEUE: Final = "export-plan"  # bucketed planning: split a partition, or plan a bucket
SHARD_QUEUE: Final = "export-shards"
FINALIZE_QUEUE: Final = "export-finalize"
POISON_SUFFIX: Final = "-poison"
RUN_POISON_QUEUE: Final = RUN_QUEUE + POISON_SUFFIX
PLAN_POISON_QUEUE: Final = PLAN_QUEUE + POISON_SUFFIX
SHARD_POISON_QUEUE: Final = SHARD_QUEUE + POISON_SUFFIX
FINALIZE_POISON_QUEUE: Final = FINALIZE_QUEUE + POISON_SUFFIX
ALL_QUEUES: Final = (
    RUN_QUEUE,
    PLAN_QUEUE,
    SHARD_QUEUE,
    FINALIZE_QUEUE,
    RUN_POISON_QUEUE,
    PLAN_POISON_QUEUE,
    SHARD_POISON_QUEUE,
    FINALIZE_POISON_QUEUE,
)

# Blob containers in the app's storage account.
CONFIG_CONTAINER: Final = "config"  # connections/<name>.json, exports/<name>.json
RUNS_CONTAINER: Final = "runs"  # <export>/<runId>/... run records, shards, checkpoints, reports
STATE_CONTAINER: Final = "state"  # <export>/contacts.arrow (incremental state), lanes/<host>
ALL_CONTAINERS: Final = (CONFIG_CONTAINER, RUNS_CONTAINER, STATE_CONTAINER)

__all__ = [
    "ALL_CONTAINERS",
    "ALL_QUEUES",
    "CONFIG_CONTAINER",
    "FINALIZE_POISON_QUEUE",
    "FINALIZE_QUEUE",
    "PLAN_POISON_QUEUE",
    "PLAN_QUEUE",
    "POISON_SUFFIX",
    "REFRESH_SCHEDULE_SETTING",
    "RUNS_CONTAINER",
    "RUN_POISON_QUEUE",
    "RUN_QUEUE",
    "SHARD_POISON_QUEUE",
    "SHARD_QUEUE",
    "STATE_CONTAINER",
    "STORAGE_CONNECTION",
]
