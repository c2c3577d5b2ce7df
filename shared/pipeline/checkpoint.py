"""A shard's checkpoint: which batches AC accepted (and their batchIds), and what reconciliation found.

Written after every accepted batch, with ETags, so a redelivered or crashed shard
resumes after its last checkpoint and never re-sends confirmed work.
"""

from __future__ import annotations

import asyncio
from typing import Any

from azure.core.exceptions import ResourceNotFoundError
from azure.storage.blob.aio import ContainerClient
from pydantic import BaseModel, Field, ValidationError, field_serializer, field_validator

from shared.errors import CorruptDocument
from shared.storage import upload_if


class BatchRecord(BaseModel):
    """One request's worth of rows (a [start, end) range of the shard's sendable rows)."""

    start: int
    end: int
    batch_ids: list[str] = Field(default_factory=list)  # AC batches that carried (some of) these rows
    carried: list[list[int]] = Field(default_factory=list)  # the shard rows each batch carried (stored as spans)
    rejected: dict[int, str] = Field(default_factory=dict)  # shard row -> AC's reason (validation 400s)
    failed: list[int] = Field(default_factory=list)  # shard rows in import/info `failure`
    failed_reasons: dict[int, str] = Field(default_factory=dict)  # AC's reason text for a failed row, when given
    unconfirmed: dict[int, str] = Field(default_factory=dict)  # rows of an import that import/info never knew
    reconciled: bool = False
    resubmissions: int = 0

    @field_serializer("carried")
    def _spans(self, carried: list[list[int]]) -> list[list[list[int]]]:
        """Each batch's rows as [start, end) spans: a 250-row batch is one pair, not 250 numbers (a checkpoint is
        rewritten after every batch, so its size is paid again each time)."""
        return [to_spans(rows) for rows in carried]

    @field_validator("carried", mode="before")
    @classmethod
    def _rows(cls, value: Any) -> Any:
        """Spans, or (written before spans) the rows themselves."""
        if not isinstance(value, list):
            return value
        return [from_spans(group) if _is_spans(group) else group for group in value]


def to_spans(rows: list[int]) -> list[list[int]]:
    """Rows (ascending, as a batch carries them) as [start, end) spans."""
    if rows and rows == list(range(rows[0], rows[0] + len(rows))):  # the usual batch, compared in C
        return [[rows[0], rows[0] + len(rows)]]
    spans: list[list[int]] = []
    for row in rows:
        if spans and spans[-1][1] == row:
            spans[-1][1] = row + 1
        else:
            spans.append([row, row + 1])
    return spans


def from_spans(spans: list[list[int]]) -> list[int]:
    return [row for start, end in spans for row in range(start, end)]


def _is_spans(group: Any) -> bool:
    return isinstance(group, list) and any(isinstance(item, list) for item in group)


class ShardCounts(BaseModel):
    """What one shard did.  Profile outcomes for upserts and re-subscribes; removals for leavers."""

    sent: int = 0
    confirmed: int = 0
    rejected: int = 0
    not_sent: int = 0
    opted_out: int = 0
    removed: int = 0
    removal_rejected: int = 0
    removal_not_sent: int = 0
    removal_opted_out: int = 0
    retries: int = 0
    rate_limited: int = 0
    lane_wait_s: float = 0.0

    def run_counts(self) -> dict[str, int]:
        """The fields that add into RunCounts."""
        return self.model_dump(exclude={"retries", "rate_limited", "lane_wait_s"})


class Checkpoint(BaseModel):
    shard: int
    batches: dict[int, BatchRecord] = Field(default_factory=dict)  # batch index -> record
    local_rejects: dict[int, str] = Field(default_factory=dict)  # rows refused before sending (too large)
    resubscribed: list[int] = Field(default_factory=list)
    resubscribe_failed: dict[int, str] = Field(default_factory=dict)
    opted_out: list[int] = Field(default_factory=list)  # rows that unsubscribed themselves in AC (never sent again)
    leavers_checked: bool = False  # a leavers' shard: who unsubscribed themselves was learnt before sending
    dropped: dict[int, str] = Field(default_factory=dict)  # the other failed rows -> what is known of why
    done: bool = False
    failed: bool = False
    counts: ShardCounts | None = None


class CheckpointStore:
    def __init__(self, container: ContainerClient, blob_name: str) -> None:
        self._blob = container.get_blob_client(blob_name)
        self.etag: str | None = None
        self._lock = asyncio.Lock()
        self._changes = self._stored = 0  # saves asked for, and how many of them a finished write holds

    async def load(self, shard: int) -> Checkpoint:
        try:
            downloader = await self._blob.download_blob()
            data = await downloader.readall()
        except ResourceNotFoundError:
            self.etag = None
            return Checkpoint(shard=shard)
        self.etag = str(downloader.properties.etag)
        try:
            return Checkpoint.model_validate_json(data)
        except ValidationError:
            raise CorruptDocument(f"shard {shard}: its checkpoint cannot be read") from None

    async def save(self, checkpoint: Checkpoint) -> None:
        """Return once the checkpoint as it is now is stored; refused (412) if another worker wrote this shard's
        checkpoint since we read it.  Writes go one at a time, and saves asked for while one is under way share
        the next write (it serialises the checkpoint when it starts, so it holds every change made before)."""
        self._changes += 1
        mine = self._changes
        async with self._lock:
            if self._stored >= mine:
                return  # a write that started after this save was asked for has stored it
            holds = self._changes
            body = checkpoint.model_dump_json().encode()
            self.etag = await upload_if(self._blob, body, self.etag, what=f"the checkpoint of shard {checkpoint.shard}")
            self._stored = holds


__all__ = ["BatchRecord", "Checkpoint", "CheckpointStore", "ShardCounts"]
