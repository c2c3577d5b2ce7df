"""Send one shard: batches in order, a checkpoint after each accepted batch, reconciliation as they go.

- Batches are cut deterministically (count and bytes), so a resumed shard skips
  exactly the batches its checkpoint holds.
- Each accepted batch is polled on import/info while later batches are sent; a
  batch AC reports failed/interrupted is resubmitted (AC says that is safe); one
  that import/info never knows (client.wait_for_batch) leaves its rows unconfirmed.
- Before each batch the run is checked: a cancel or a fatal error elsewhere stops
  the shard within a batch; what was not sent stays unsent (retried next run).  A
  fatal error in any of the shard's tasks (a deleted list found while reconciling)
  stops its other sends at once.
- The list's existence is watched (listwatch.py): a refusal naming the list, a batch
  dropped whole, every LIST_CHECK_EVERY accepted batches and the end of the shard.
- Contacts AC dropped after its 200 get what is known of why (shared/activecampaign/
  dropped.py): AC's reason text when it gives one, else, for upserts, whether they
  unsubscribed themselves (opted out: reported `opted-out`, committed as such, never
  re-sent) or bounced, learnt at the fewest requests (shared/activecampaign/membership.py).
- Before a leavers' shard sends anything, the leavers AC shows unsubscribed from the list are found the same
  way: they left it themselves, so they are recorded as opted out (never re-subscribed), not removed by us.
- Re-entrants (people we removed) are re-subscribed through contactLists.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Final

import pyarrow as pa

from shared.activecampaign import AcNotFound, ActiveCampaignClient, import_contacts
from shared.activecampaign.delivery import request_groups
from shared.activecampaign.dropped import Drop, drop_of, drop_reason
from shared.activecampaign.membership import BOUNCED, UNSUBSCRIBED, left_the_list
from shared.config import AcLimits
from shared.errors import FatalError, RetriableError
from shared.pipeline.checkpoint import BatchRecord, Checkpoint, CheckpointStore
from shared.pipeline.listwatch import ListWatch
from shared.pipeline.shards import Op, shard_payloads

logger = logging.getLogger(__name__)
MAX_RESUBMISSIONS: Final = 2

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
        on_accepted: Callable[[int], Awaitable[None]] | None = None,
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
        self._on_accepted = on_accepted
        # contacts AC accepted so far, for progress only (the checkpoint is what counts); a resumed shard starts
        # from what its checkpoint holds
        self._accepted = sum(len(rows) for record in checkpoint.batches.values() for rows in record.carried)
        self._list = ListWatch.of(client.host, list_id)
        self.stopped: str | None = None

    def batches(self) -> list[list[int]]:
        """Shard rows per request, the same every time for the same shard (rows opted out are not sent)."""
        skip = set(self.checkpoint.opted_out) if self._op is Op.UNSUBSCRIBE else set()
        rows = [r for r in range(len(self._payloads)) if r not in skip]
        groups, refused = request_groups([self._payloads[r] for r in rows], self._limits)
        self.checkpoint.local_rejects.update({rows[i]: reason for i, reason in refused.items()})
        return [[rows[i] for i in group] for group in groups]

    async def run(self) -> None:
        if self._op is Op.UNSUBSCRIBE and not self.checkpoint.leavers_checked:
            self.stopped = await self._should_stop()
            if self.stopped:
                return
            await self._find_self_unsubscribed()
        batches = self.batches()
        gate = asyncio.Semaphore(self._limits.send_concurrency)
        try:
            async with asyncio.TaskGroup() as tasks:
                for record in self.checkpoint.batches.values():
                    if not record.reconciled:
                        tasks.create_task(self._reconcile(record))
                for index, rows in enumerate(batches):
                    if index not in self.checkpoint.batches:
                        tasks.create_task(self._send(tasks, gate, index, rows))
        except BaseExceptionGroup as group:
            raise _first(group) from None
        if not self.stopped:
            await self._list.check(self._client, after=self._list.mark())  # AC may have dropped the list silently
            await self._after_import()

    async def _send(self, tasks: asyncio.TaskGroup, gate: asyncio.Semaphore, index: int, rows: list[int]) -> None:
        async with gate:
            if not self.stopped:
                self.stopped = await self._should_stop()
            if self.stopped:
                return
            self._list.raise_if_gone()
            if self._lane_lost():
                raise LaneLost("this instance lost the account lane; the shard resumes from its checkpoint")
            result = await import_contacts(self._client, [self._payloads[r] for r in rows])
            if result.list_refused:  # never split: a deleted list fails the run here
                await self._list.check(self._client)
            record = BatchRecord(
                start=rows[0],
                end=rows[-1] + 1,
                batch_ids=[batch_id for batch_id, _ in result.accepted],
                carried=[[rows[i] for i in group] for _, group in result.accepted],
                rejected={rows[r.index]: r.reason for r in result.rejected},
            )
            self.checkpoint.batches[index] = record
            await self._save()
        if result.accepted:
            self._accepted += sum(len(group) for _, group in result.accepted)
            if self._on_accepted is not None:
                await self._on_accepted(self._accepted)
            tasks.create_task(self._list.accepted_batches(self._client, len(result.accepted)))
        tasks.create_task(self._reconcile(record))

    async def _reconcile(self, record: BatchRecord) -> None:
        """Poll each of the batch's imports until AC finishes it; resubmit failed/interrupted ones."""
        position = 0
        while position < len(record.batch_ids):
            batch_id, rows = record.batch_ids[position], record.carried[position]
            info = await self._client.wait_for_batch(batch_id)
            if info.lost:
                reason = f"ActiveCampaign accepted the import but {info.lost}: not confirmed, sent again next run"
                record.unconfirmed.update(dict.fromkeys(rows, reason))
            elif info.status != "completed":
                if record.resubmissions >= MAX_RESUBMISSIONS:
                    reason = f"ActiveCampaign could not process the import ({info.status}) after resubmitting it"
                    record.rejected.update(dict.fromkeys(rows, reason))
                else:
                    record.resubmissions += 1
                    result = await import_contacts(self._client, [self._payloads[r] for r in rows])
                    if result.list_refused:
                        await self._list.check(self._client)
                    record.batch_ids.extend(b for b, _ in result.accepted)
                    record.carried.extend([rows[i] for i in group] for _, group in result.accepted)
                    record.rejected.update({rows[r.index]: r.reason for r in result.rejected})
                    await self._save()
            else:
                failed = {email.strip().lower() for email in info.failure}
                dropped = [r for r in rows if self._emails[r] in failed]
                texts = {r: info.reasons[self._emails[r]] for r in dropped if self._emails[r] in info.reasons}
                record.failed.extend(dropped)
                record.failed_reasons.update(texts)
                if len(dropped) == len(rows) or any(drop_of(t) is Drop.NO_LIST for t in texts.values()):
                    await self._list.check(self._client)  # a deleted list fails the run instead of every row
            position += 1
        # Not saved on its own: the next checkpoint write carries it, and a resumed shard just polls again.
        record.reconciled = True

    async def _find_self_unsubscribed(self) -> None:
        """The leavers AC shows unsubscribed from the list: opted out, not sent (saved before any batch, so a
        resumed shard cuts the same batches)."""
        left = await left_the_list(self._client, self._list_id, self._emails)
        self.checkpoint.opted_out = [r for r, e in enumerate(self._emails) if left.get(e) == UNSUBSCRIBED]
        self.checkpoint.leavers_checked = True
        await self._save()

    async def _after_import(self) -> None:
        await self._explain_drops()
        if self._op is Op.RESUBSCRIBE:
            confirmed = self.confirmed_rows()
            for row in sorted(confirmed - set(self.checkpoint.resubscribed) - set(self.checkpoint.resubscribe_failed)):
                await self._resubscribe(row)

    async def _explain_drops(self) -> None:
        """What is known of why AC dropped each failed row: AC's words, else (for upserts) the row's status on
        the list: unsubscribed (opted out) or bounced.  Done once; the answers are checkpointed."""
        known = set(self.checkpoint.opted_out) | set(self.checkpoint.dropped)
        texts: dict[int, str | None] = {}
        for record in self.checkpoint.batches.values():
            texts.update({row: record.failed_reasons.get(row) for row in record.failed if row not in known})
        if not texts:
            return
        silent: list[int] = []
        for row, text in sorted(texts.items()):
            drop = drop_of(text)
            if self._op is Op.UPSERT and drop is Drop.UNSUBSCRIBED:
                self.checkpoint.opted_out.append(row)
            elif self._op is Op.UPSERT and drop is Drop.NO_REASON:
                silent.append(row)
            else:
                self.checkpoint.dropped[row] = drop_reason(text)
        if silent:
            left = await left_the_list(self._client, self._list_id, [self._emails[r] for r in silent])
            for row in silent:
                status = left.get(self._emails[row])
                if status == UNSUBSCRIBED:
                    self.checkpoint.opted_out.append(row)
                else:
                    self.checkpoint.dropped[row] = (Drop.BOUNCED if status == BOUNCED else Drop.NO_REASON).value
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

    def confirmed_rows(self) -> set[int]:
        rows: set[int] = set()
        for record in self.checkpoint.batches.values():
            for carried in record.carried:
                rows.update(carried)
            rows.difference_update(record.rejected)
            rows.difference_update(record.failed)
            rows.difference_update(record.unconfirmed)
        return rows

    async def _save(self) -> None:
        await self._store.save(self.checkpoint)  # saves asked for together share a write


def _first(group: BaseExceptionGroup[BaseException]) -> BaseException:
    """The error that stopped the shard's tasks: a fatal one first, then a retriable one, then any."""
    found: list[BaseException] = []

    def walk(error: BaseException) -> None:
        if isinstance(error, BaseExceptionGroup):
            for inner in error.exceptions:
                walk(inner)
        else:
            found.append(error)

    walk(group)
    for kind in (FatalError, RetriableError, BaseException):
        for error in found:
            if isinstance(error, kind):
                return error
    return group  # pragma: no cover (a group always holds at least one error)


__all__ = ["LaneLost", "ShardSender"]
