"""Whether a run's list still exists in ActiveCampaign: checked at a bounded cost, shared by the shards of a process.

When a list is deleted mid-run, AC may (the emulator's `bulk_unknown_list` switch):
- refuse every batch that names it (a 400 naming the list): the sender checks the list at once;
- accept the batch and drop every contact after its 200: reconciliation checks the list at once;
- accept the batch, write the contacts and silently drop the list: nothing in AC's answers says so.
For the last, `GET /lists/{id}` is asked
- once per LIST_CHECK_EVERY batches accepted for the (account, list) in this process, and
- at the end of each shard, after its batches are reconciled (a check that started after that is enough).
One check in flight is shared by every caller that may use it, like RunWatch's reads of the run record.  Its
cost is one general request per LIST_CHECK_EVERY bulk imports plus about one per shard.

Once a check finds the list gone, every shard of this process stops before its next batch (`raise_if_gone`)
and the run fails naming the list.  So after a deletion at most LIST_CHECK_EVERY more batches are accepted in
the process before a check starts, plus the requests already in flight (AC_SEND_CONCURRENCY per shard being
sent); when AC refuses or drops the batches, only those in flight.
"""

from __future__ import annotations

import asyncio
import weakref
from typing import ClassVar, Final

from shared.activecampaign import AcNotFound, ActiveCampaignClient
from shared.activecampaign.account import account_key
from shared.errors import FatalError

LIST_CHECK_EVERY: Final = 10  # accepted batches per (account, list) and process between two list checks


class ListGone(FatalError):
    code = "activecampaign_list_deleted"


class ListWatch:
    _watches: ClassVar[weakref.WeakValueDictionary[tuple[int, str, int], ListWatch]] = weakref.WeakValueDictionary()

    def __init__(self, host: str, list_id: int) -> None:
        self.host = host
        self.list_id = list_id
        self.accepted = 0
        self.started = 0  # checks started so far (each has its number)
        self.passed = 0  # the number of the latest check that found the list
        self.gone: ListGone | None = None
        self._inflight: tuple[int, asyncio.Future[None]] | None = None

    @classmethod
    def of(cls, host: str, list_id: int) -> ListWatch:
        """The watch of this process (event loop) for the list in the account `host` reaches."""
        key = (id(asyncio.get_running_loop()), account_key(host), list_id)
        watch = cls._watches.get(key)
        if watch is None:
            watch = cls._watches[key] = cls(host, list_id)
        return watch

    def raise_if_gone(self) -> None:
        if self.gone is not None:
            raise self.gone

    def mark(self) -> int:
        """Pass to `check(after=)` to ask for a check that starts from now on."""
        return self.started

    async def accepted_batches(self, client: ActiveCampaignClient, count: int) -> None:
        """Count accepted batches; every LIST_CHECK_EVERY-th asks AC (or joins the check in flight)."""
        before, self.accepted = self.accepted, self.accepted + count
        if self.accepted // LIST_CHECK_EVERY > before // LIST_CHECK_EVERY:
            await self.check(client)

    async def check(self, client: ActiveCampaignClient, *, after: int | None = None) -> None:
        """Raise ListGone if the list no longer exists.  `after` (a mark): only a check started after it
        counts; None: the check in flight, if any, will do."""
        self.raise_if_gone()
        if after is not None and self.passed > after:
            return
        inflight = self._inflight
        if inflight is None or (after is not None and inflight[0] <= after):
            self.started += 1
            inflight = self._inflight = (self.started, asyncio.ensure_future(self._ask(client, self.started)))
        await asyncio.shield(inflight[1])
        self.raise_if_gone()

    async def _ask(self, client: ActiveCampaignClient, number: int) -> None:
        try:
            await client.get_list(self.list_id)
        except AcNotFound:
            self.gone = ListGone(
                f"list {self.list_id} no longer exists in ActiveCampaign account {self.host}: it was deleted while "
                "the run was sending; point the export at an existing list"
            )
        else:
            self.passed = max(self.passed, number)
        finally:
            if self._inflight is not None and self._inflight[0] == number:
                self._inflight = None


__all__ = ["LIST_CHECK_EVERY", "ListGone", "ListWatch"]
