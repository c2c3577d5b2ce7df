"""Why a shard should stop sending: a cancel, a fatal error elsewhere in the run, or the run ended.

Checked before each batch (shared/pipeline/sender.py), from reads of the run record that the shards of one run in
one process share.
"""

from __future__ import annotations

import asyncio
from typing import ClassVar, Final

from shared.models import Run
from shared.services import Services

WATCH_MAX_AGE_S: Final = 0.25  # a read of the run record serves every shard of the run in the process this long


class RunWatch:
    """Why this shard should stop (a cancel, a fatal error elsewhere, the run ended), checked before each batch.

    Shards of one run in one process share each read of the run record: a check that starts while another is in
    flight waits for it, and a read at most WATCH_MAX_AGE_S old is reused.  So a cancel or a fatal error is seen
    before the first batch a shard starts a quarter second after it was recorded (at AC's limits, 100 bulk
    imports a minute per account, that is at most one more batch), at four reads a second per process instead of
    one per batch (with AC's limits lifted, thousands of batches a minute).
    """

    _inflight: ClassVar[dict[tuple[int, str, str], asyncio.Future[Run]]] = {}
    _recent: ClassVar[dict[tuple[int, str, str], tuple[float, Run]]] = {}

    def __init__(self, services: Services, export_id: str, run_id: str) -> None:
        self._services = services
        self._export_id = export_id
        self._run_id = run_id
        self._reason: str | None = None

    async def __call__(self) -> str | None:
        if self._reason is None:
            loop = asyncio.get_running_loop()
            key = (id(loop), self._export_id, self._run_id)
            recent = self._recent.get(key)
            if recent is not None and loop.time() - recent[0] <= WATCH_MAX_AGE_S:
                self._reason = stop_reason(recent[1])
                return self._reason
            pending = self._inflight.get(key)
            if pending is None:
                pending = asyncio.ensure_future(self._read())
                self._inflight[key] = pending
                pending.add_done_callback(lambda _: self._inflight.pop(key, None))
            self._reason = stop_reason(await asyncio.shield(pending))
        return self._reason

    async def _read(self) -> Run:
        loop = asyncio.get_running_loop()
        started = loop.time()
        run = (await self._services.runs.get(self._export_id, self._run_id)).doc
        key = (id(loop), self._export_id, self._run_id)
        for old in [k for k, (at, _) in self._recent.items() if started - at > 60]:  # runs no shard asks about
            del self._recent[old]
        if run.status.final:
            self._recent.pop(key, None)
        else:
            self._recent[key] = (started, run)  # its age counts from before the read
        return run


def stop_reason(run: Run) -> str | None:
    if run.cancel_requested:
        return "the run was canceled before this contact was sent"
    if run.error is not None:
        return f"the run failed before this contact was sent: {run.error.message}"
    if run.status.final:
        return "the run ended before this contact was sent"
    return None


__all__ = ["WATCH_MAX_AGE_S", "RunWatch", "stop_reason"]
