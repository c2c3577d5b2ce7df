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
    notSent.  Leavers (mirror mode) are counted apart: toRemove = removed + removalRejected + removalNotSent."""

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
    plan_key: str | None = Field(default=None, description="What the plan depended on (shared/pipeline/ledger.py)")
    cancel_requested: bool = False
    rate_limited: int = 0
    retries: int = 0
    lane_wait_s: float = 0.0
    samples: list[RunSample] = Field(default_factory=list, description="Totals over time, one per completed shard")


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

    @classmethod
    def of(cls, run: Run) -> RunView:
        return cls.model_validate(run.model_dump(exclude={"schema_version", "snapshots", "target", "plan_key"}))


def new_run_id(now: datetime | None = None) -> str:
    """Sortable by time: 20261124T101500Z-1a2b3c."""
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    return moment.strftime("%Y%m%dT%H%M%SZ") + "-" + secrets.token_hex(3)


__all__ = [
    "FINAL_STATUSES",
    "RUN_SCHEMA_VERSION",
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
