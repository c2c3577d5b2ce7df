"""Progress inside shards still sending: how many of their contacts ActiveCampaign has accepted so far.

A shard adds its counts to the run once, when it ends (worker.complete_shard).  A large shard at AC's limits
takes minutes, and a run's counts would not move until shards end; so each process also writes, at most every
`progress_every_s`, what each of its sending shards has had accepted (run.in_flight: shard -> contacts).  It is
one run-record write per process and run, whichever of its shards notices the time is up, never one per shard.

The figure is shown, never added into the counts: complete_shard removes the shard's entry in the same write
that adds its counts, and a write from here leaves out shards already completed, so nothing is counted twice.
A process that dies leaves its entries until their shards resume elsewhere and overwrite them; a shard that
stops here for any reason stops being reported from here.  A write that fails is skipped: progress is shown
late, the shard is not disturbed.  The figure is approximate: a resumed shard counts its batches from its
checkpoint, resubmitted batches included.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from typing import ClassVar

from azure.core.exceptions import AzureError

from shared.errors import ExportError
from shared.models import Run
from shared.services import Services

logger = logging.getLogger(__name__)


class InFlight:
    """The sending shards of one run in this process (one instance per event loop and run)."""

    _all: ClassVar[weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[tuple[str, str], InFlight]]] = (
        weakref.WeakKeyDictionary()
    )

    def __init__(self, services: Services, export_id: str, run_id: str) -> None:
        self._services = services
        self._export_id = export_id
        self._run_id = run_id
        self._accepted: dict[int, int] = {}
        self._written_at = asyncio.get_running_loop().time()
        self._writing = False
        self._shards = 0  # shards of the run sending in this process

    @classmethod
    def enter(cls, services: Services, export_id: str, run_id: str) -> InFlight:
        """The run's reporter in this process, for one more sending shard (call done() when it stops)."""
        runs = cls._all.setdefault(asyncio.get_running_loop(), {})
        found = runs.get((export_id, run_id))
        if found is None:
            found = runs[(export_id, run_id)] = cls(services, export_id, run_id)
        found._shards += 1
        return found

    async def accepted(self, shard: int, contacts: int) -> None:
        """Shard `shard` has had `contacts` accepted so far; writes this process's figures if it is time."""
        self._accepted[shard] = contacts
        loop = asyncio.get_running_loop()
        if self._writing or loop.time() - self._written_at < self._services.settings.progress_every_s:
            return
        self._writing = True
        try:
            await self._write()
        finally:
            self._written_at = loop.time()
            self._writing = False

    def done(self, shard: int) -> None:
        """The shard stopped sending here (it ended, or it goes back to the queue): no longer reported from here."""
        self._accepted.pop(shard, None)
        self._shards -= 1
        if self._shards <= 0:
            runs = self._all.get(asyncio.get_running_loop(), {})
            if runs.get((self._export_id, self._run_id)) is self:
                del runs[(self._export_id, self._run_id)]

    async def _write(self) -> None:
        mine = dict(self._accepted)

        def apply(run: Run) -> Run:
            if run.status.final:
                return run
            done = set(run.shards.completed)
            update = {shard: n for shard, n in mine.items() if shard not in done and run.in_flight.get(shard) != n}
            if not update:
                return run
            return run.model_copy(update={"in_flight": {**run.in_flight, **update}})

        try:
            await self._services.runs.update(self._export_id, self._run_id, apply)
        except (ExportError, AzureError) as exc:  # progress only: never the shard's failure
            logger.warning("in-flight progress not written", extra={"run": self._run_id, "error": type(exc).__name__})


__all__ = ["InFlight"]
