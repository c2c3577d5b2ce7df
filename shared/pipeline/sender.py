"""Send one shard: batches in order, a checkpoint after each accepted batch, reconciliation as they go.

- Batches are cut deterministically (count and bytes), so a resumed shard skips
  exactly the batches its checkpoint holds.
- Each accepted batch is polled on import/info while later batches are sent; a
  batch AC reports failed/interrupted is resubmitted (AC says that is safe).
- Before each batch the run is checked: a cancel or a fatal error elsewhere stops
  the shard within a batch; what was not sent stays unsent (retried next run).
- Re-entrants (people we removed) are re-subscribed through contactLists, and
  contacts AC refused after a 200 are checked for a self-made unsubscribe (opted out).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Final

import pyarrow as pa

from shared.activecampaign import AcNotFound, ActiveCampaignClient, import_contacts
from shared.activecampaign.delivery import request_groups
from shared.config import AcLimits
from shared.errors import FatalError, RetriableError
from shared.pipeline.checkpoint import BatchRecord, Checkpoint, CheckpointStore
from shared.pipeline.shards import Op, shard_payloads

logger = logging.getLogger(__name__)
MAX_RESUBMISSIONS: Final = 2
MAX_OPT_OUT_LOOKUPS: Final = 25  # per shard: each costs two requests of the account's budget

StopCheck = Callable[[], Awaitable[str | None]]


class LaneLost(RetriableError):
    code = "lane_lost"


class ShardSender:
    def __init__(
        self,
        client: ActiveCampaignClient,
        table: pa.Table,
        op: Op,
        list_id: int,
        checkpoint: Checkpoint,
        store: CheckpointStore,
        limits: AcLimits,
        should_stop: StopCheck,
        lane_lost: Callable[[], bool],
    ) -> None:
        self._client = client
        self._emails: list[str] = [e or "" for e in table["email"].to_pylist()]
        self._payloads = shard_payloads(table)
        self._op = op
        self._list_id = list_id
        self.checkpoint = checkpoint
        self._store = store
        self._limits = limits
        self._should_stop = should_stop
        self._lane_lost = lane_lost
        self._save_lock = asyncio.Lock()
        self._list_checked = False
        self.stopped: str | None = None

    def batches(self) -> list[list[int]]:
        """Shard rows per request, the same every time for the same shard."""
        groups, refused = request_groups(self._payloads, self._limits)
        self.checkpoint.local_rejects.update(refused)
        return groups

    async def run(self) -> None:
        batches = self.batches()
        gate = asyncio.Semaphore(self._limits.send_concurrency)
        polls: list[asyncio.Task[None]] = [
            asyncio.create_task(self._reconcile(record))
            for record in self.checkpoint.batches.values()
            if not record.reconciled
        ]

        async def send(index: int, rows: list[int]) -> None:
            async with gate:
                if not self.stopped:
                    self.stopped = await self._should_stop()
                if self.stopped:
                    return
                if self._lane_lost():
                    raise LaneLost("this instance lost the account lane; the shard resumes from its checkpoint")
                result = await import_contacts(self._client, [self._payloads[r] for r in rows])
                record = BatchRecord(
                    start=rows[0],
                    end=rows[-1] + 1,
                    batch_ids=[batch_id for batch_id, _ in result.accepted],
                    carried=[[rows[i] for i in group] for _, group in result.accepted],
                    rejected={rows[r.index]: r.reason for r in result.rejected},
                )
                self.checkpoint.batches[index] = record
                await self._save()
                polls.append(asyncio.create_task(self._reconcile(record)))

        senders = [
            asyncio.create_task(send(i, rows)) for i, rows in enumerate(batches) if i not in self.checkpoint.batches
        ]
        try:
            await asyncio.gather(*senders)
            await asyncio.gather(*polls)
        except BaseException:
            for task in senders + polls:
                task.cancel()
            await asyncio.gather(*senders, *polls, return_exceptions=True)
            raise
        if not self.stopped:
            await self._after_import()

    async def _reconcile(self, record: BatchRecord) -> None:
        """Poll each of the batch's imports until AC finishes it; resubmit failed/interrupted ones."""
        position = 0
        while position < len(record.batch_ids):
            batch_id, rows = record.batch_ids[position], record.carried[position]
            info = await self._client.wait_for_batch(batch_id)
            if info.status != "completed":
                if record.resubmissions >= MAX_RESUBMISSIONS:
                    reason = f"ActiveCampaign could not process the import ({info.status}) after resubmitting it"
                    record.rejected.update(dict.fromkeys(rows, reason))
                else:
                    record.resubmissions += 1
                    result = await import_contacts(self._client, [self._payloads[r] for r in rows])
                    record.batch_ids.extend(b for b, _ in result.accepted)
                    record.carried.extend([rows[i] for i in group] for _, group in result.accepted)
                    record.rejected.update({rows[r.index]: r.reason for r in result.rejected})
                    await self._save()
            else:
                failed = {email.strip().lower() for email in info.failure}
                dropped = [r for r in rows if self._emails[r] in failed]
                if dropped:
                    await self._check_list(everyone=len(dropped) == len(rows))
                record.failed.extend(dropped)
            position += 1
        # Not saved on its own: the next checkpoint write carries it, and a resumed shard just polls again.
        record.reconciled = True

    async def _check_list(self, *, everyone: bool) -> None:
        """AC dropped contacts after its 200: first make sure the list still exists (once, and again whenever a
        whole batch was dropped), so a list deleted mid-run fails the run instead of rejecting every row."""
        if self._list_checked and not everyone:
            return
        self._list_checked = True
        try:
            await self._client.get_list(self._list_id)
        except AcNotFound:
            raise FatalError(
                f"list {self._list_id} no longer exists in ActiveCampaign account {self._client.host}: it was deleted "
                "while the run was sending; point the export at an existing list"
            ) from None

    async def _after_import(self) -> None:
        confirmed = self.confirmed_rows()
        if self._op is Op.RESUBSCRIBE:
            for row in sorted(confirmed - set(self.checkpoint.resubscribed) - set(self.checkpoint.resubscribe_failed)):
                await self._resubscribe(row)
        elif self._op is Op.UPSERT:
            failed = sorted(r for rec in self.checkpoint.batches.values() for r in rec.failed)
            checked = set(self.checkpoint.opted_out)
            lookups = [row for row in failed[:MAX_OPT_OUT_LOOKUPS] if row not in checked]
            for row in lookups:
                if await self._unsubscribed_in_ac(row):
                    self.checkpoint.opted_out.append(row)
            if lookups:
                await self._save()

    async def _resubscribe(self, row: int) -> None:
        contact_id = await self._client.find_contact_id(self._emails[row])
        if contact_id is None:
            self.checkpoint.resubscribe_failed[row] = "the contact was not found in ActiveCampaign"
        else:
            try:
                await self._client.set_list_status(contact_id, self._list_id, 1)
                self.checkpoint.resubscribed.append(row)
            except AcNotFound as exc:
                self.checkpoint.resubscribe_failed[row] = exc.message
        await self._save()

    async def _unsubscribed_in_ac(self, row: int) -> bool:
        contact_id = await self._client.find_contact_id(self._emails[row])
        return contact_id is not None and await self._client.list_status(contact_id, self._list_id) == 2

    def confirmed_rows(self) -> set[int]:
        rows: set[int] = set()
        for record in self.checkpoint.batches.values():
            for carried in record.carried:
                rows.update(carried)
            rows.difference_update(record.rejected)
            rows.difference_update(record.failed)
        return rows

    async def _save(self) -> None:
        async with self._save_lock:
            await self._store.save(self.checkpoint)


__all__ = ["LaneLost", "ShardSender"]
