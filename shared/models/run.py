"""A run of an export: its status, counts, timings and error, as the API shows them."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from enum import StrEnum
from typing import Literal

from pydantic import Field

from shared import events
from shared.models.base import ApiModel, Document
from shared.models.connection import PrincipalRecord
from shared.models.target import Target

RUN_SCHEMA_VERSION = 1


class RunStatus(StrEnum):
    QUEUED = "Queued"
    PLANNING = "Planning"
    SENDING = "Sending"
    RECONCILING = "Reconciling"
    SUCCEEDED = "Succeeded"
    PARTIALLY_SUCCEEDED = "PartiallySucceeded"
    FAILED = "Failed"
    CANCELED = "Canceled"
    SKIPPED = "Skipped"

    @property
    def final(self) -> bool:
        return self in FINAL_STATUSES


FINAL_STATUSES = frozenset(RunStatus(s) for s in events.FINAL_STATUSES)


class RunOptions(ApiModel):
    """The body of POST /exports/{name}/runs (all optional)."""

    full: bool = Field(default=False, description="Resend everyone, not only what changed")
    dry_run: bool = Field(default=False, description="Plan and report; send nothing")
    force: bool = Field(default=False, description="Pass the mass-removal guard (and remove on an empty snapshot)")


class RunCounts(ApiModel):
    """Every row read ends in exactly one of: invalid, duplicates, unchanged, optedOut, confirmed, rejected,
    notSent.  Leavers (mirror mode) are counted apart:
    toRemove = removed + removalRejected + removalNotSent + removalOptedOut."""

    profiles_read: int = 0
    invalid: int = 0
    duplicates: int = 0
    unchanged: int = 0
    opted_out: int = 0
    to_add: int = 0
    to_update: int = 0
    to_send: int = 0
    to_resubscribe: int = 0
    to_remove: int = 0
    sent: int = 0
    confirmed: int = 0
    rejected: int = 0
    not_sent: int = 0
    removed: int = 0
    removal_rejected: int = 0
    removal_not_sent: int = 0
    removal_opted_out: int = Field(
        default=0, description="Leavers who had unsubscribed themselves in ActiveCampaign: recorded, not sent"
    )
    value_errors: int = 0

    def outcome_sum(self) -> int:
        return (
            self.invalid
            + self.duplicates
            + self.unchanged
            + self.opted_out
            + self.confirmed
            + self.rejected
            + self.not_sent
        )


class RunTimings(ApiModel):
    queued_at: datetime
    started_at: datetime | None = None
    planned_at: datetime | None = None
    finished_at: datetime | None = None
    planning_s: float | None = None
    sending_s: float | None = None
    duration_s: float | None = None


class RunError(ApiModel):
    code: str
    message: str


class ShardProgress(ApiModel):
    total: int = 0
    done: int = 0
    completed: list[int] = Field(default_factory=list, description="Shards that finished (sent or stopped)")
    failed: list[int] = Field(default_factory=list, description="Shards that failed (poisoned or fatal)")
    sizes: list[int] = Field(default_factory=list, description="Rows in each shard")
    ops: list[int] = Field(
        default_factory=list, description="Each shard's operation: 1 upsert, 2 re-subscribe, 3 remove"
    )
    buckets: list[int] = Field(default_factory=list, description="The bucket each shard belongs to")

    def name(self, index: int) -> str:
        """The blob name of shard `index` under its run (its checkpoint and outcome files share the stem)."""
        if not self.buckets:  # a run planned before buckets
            return f"shards/{index:05d}"
        bucket = self.buckets[index]
        return f"shards/b{bucket:04d}-{index - self.buckets.index(bucket):05d}"


class PlanProgress(ApiModel):
    """Bucketed planning: partitions split into buckets, then each bucket planned (shared/pipeline/planner.py)."""

    bits: int = Field(default=0, description="The run plans 2**bits buckets (the number follows the segment's size)")
    partitions: int = 0
    partitions_done: list[int] = Field(default_factory=list)
    buckets_done: list[int] = Field(default_factory=list)
    bucket_shards: dict[str, list[list[int]]] = Field(
        default_factory=dict, description="bucket -> its shards as [operation, rows]"
    )
    contacts: int = 0  # rows kept after the row rules (an empty snapshot has none)
    subscribed: int = 0  # contacts the state holds subscribed (the mass-removal guard's base)
    finished: bool = False  # the plan was decided (sent, skipped, or dry run)
    committed: list[int] = Field(default_factory=list, description="Buckets whose state the finaliser wrote")
    state_blobs: dict[str, str | None] = Field(default_factory=dict, description="bucket -> its new state file")
    state_sizes: dict[str, int] = Field(default_factory=dict, description="bucket -> records in its new state")

    @property
    def buckets(self) -> int:
        return 1 << self.bits


class RunSample(ApiModel):
    """The run's totals when a shard completed: what the live view's chart draws."""

    at: datetime
    sent: int
    confirmed: int
    rejected: int


class Run(Document):
    """The run record (runs/<exportId>/<runId>/run.json), updated with ETags."""

    schema_version: Literal[1] = 1
    id: str
    export_id: str = Field(description="The id of the export the run belongs to (its name may be reused later)")
    export: str = Field(description="The export's name when the run started")
    trigger: Literal["schedule", "manual"]
    requested_by: PrincipalRecord | None = None
    options: RunOptions = Field(default_factory=RunOptions)
    status: RunStatus = RunStatus.QUEUED
    reason: str | None = Field(default=None, description="Why a run was Skipped or Canceled")
    error: RunError | None = None
    counts: RunCounts = Field(default_factory=RunCounts)
    timings: RunTimings
    shards: ShardProgress = Field(default_factory=ShardProgress)
    snapshots: dict[str, str] = Field(default_factory=dict, description="segment -> snapshot id used")
    target: Target | None = Field(default=None, description="Where this run sends (set when it is planned)")
    plan: PlanProgress | None = None
    plan_key: str | None = Field(default=None, description="What the plan depended on (shared/pipeline/ledger.py)")
    cancel_requested: bool = False
    rate_limited: int = 0
    retries: int = 0
    lane_wait_s: float = 0.0
    samples: list[RunSample] = Field(default_factory=list, description="Totals over time, one per completed shard")
    in_flight: dict[int, int] = Field(
        default_factory=dict,
        description="shard -> contacts ActiveCampaign accepted so far in a shard still sending (not in counts yet)",
    )


class PlanningView(ApiModel):
    """How far bucketed planning is: partitions split into buckets, buckets planned."""

    buckets: int
    buckets_done: int
    partitions: int
    partitions_done: int

    @classmethod
    def of(cls, plan: PlanProgress) -> PlanningView:
        return cls(
            buckets=plan.buckets,
            buckets_done=len(plan.buckets_done),
            partitions=plan.partitions,
            partitions_done=len(plan.partitions_done),
        )


class RunView(ApiModel):
    id: str
    export_id: str
    export: str
    trigger: str
    requested_by: PrincipalRecord | None
    options: RunOptions
    status: RunStatus
    reason: str | None
    error: RunError | None
    counts: RunCounts
    timings: RunTimings
    shards: ShardProgress
    cancel_requested: bool
    rate_limited: int
    retries: int
    lane_wait_s: float
    samples: list[RunSample] = Field(default_factory=list, description="Totals over time, one per completed shard")
    time_left_s: float | None = Field(
        default=None,
        description="While the run sends: seconds its remaining shards take at the account's rate ceiling "
        "(the AC limit settings), not counting waits for AC",
    )

    accepted_in_flight: int = Field(
        default=0,
        description="While the run sends: contacts ActiveCampaign has accepted in shards still sending, not in "
        "counts until their shard ends (written every RUN_PROGRESS_SECONDS by each worker process)",
    )
    planning: PlanningView | None = None

    @classmethod
    def of(cls, run: Run) -> RunView:
        view = run.model_dump(exclude={"schema_version", "snapshots", "target", "plan_key", "plan", "in_flight"})
        view["planning"] = PlanningView.of(run.plan) if run.plan else None
        view["accepted_in_flight"] = 0 if run.status.final else sum(run.in_flight.values())
        return cls.model_validate(view)


def new_run_id(now: datetime | None = None) -> str:
    """Sortable by time: 20261124T101500Z-1a2b3c."""
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    return moment.strftime("%Y%m%dT%H%M%SZ") + "-" + secrets.token_hex(3)


__all__ = [
    "FINAL_STATUSES",
    "RUN_SCHEMA_VERSION",
    "PlanProgress",
    "PlanningView",
    "Run",
    "RunCounts",
    "RunError",
    "RunOptions",
    "RunSample",
    "RunStatus",
    "RunTimings",
    "RunView",
    "ShardProgress",
    "new_run_id",
]
