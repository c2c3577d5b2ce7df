"""In-flight progress: best effort, one reporter per process and run, nothing left behind."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from azure.core.exceptions import ServiceRequestError

from shared.errors import NotFound
from shared.pipeline.in_flight import InFlight


class _Runs:
    def __init__(self, error: Exception | None = None) -> None:
        self.error = error
        self.writes = 0

    async def update(self, export_id: str, run_id: str, change: Any) -> None:
        self.writes += 1
        if self.error is not None:
            raise self.error


def _services(runs: _Runs) -> Any:
    return SimpleNamespace(runs=runs, settings=SimpleNamespace(progress_every_s=0.0))


async def test_a_progress_write_that_fails_never_fails_the_shard() -> None:
    for error in (ServiceRequestError("connection reset"), NotFound("run 'r' does not exist")):
        runs = _Runs(error)
        progress = InFlight.enter(_services(runs), "e", "r")
        await progress.accepted(0, 250)  # does not raise
        assert runs.writes == 1
        progress.done(0)


async def test_shards_of_a_run_share_one_reporter_until_the_last_one_stops() -> None:
    runs = _Runs()
    first = InFlight.enter(_services(runs), "e", "r2")
    second = InFlight.enter(_services(runs), "e", "r2")
    assert first is second
    first.done(1)
    assert InFlight.enter(_services(runs), "e", "r2") is second  # one shard still sends: the same reporter
    second.done(2)
    second.done(3)
    assert InFlight.enter(_services(runs), "e", "r2") is not second  # all stopped: a new one
