"""A process runs at most PLAN_TASKS_PER_PROCESS plan tasks at once, whatever the host hands it: each holds a
bucket's rows, so this bounds the process's memory."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

import pytest

from shared.pipeline import planner


@pytest.mark.parametrize("limit", [1, 3])
async def test_plan_tasks_wait_for_the_process_gate(monkeypatch: pytest.MonkeyPatch, limit: int) -> None:
    running, peak = 0, 0

    async def task(services: Any, msg: Any) -> None:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        await asyncio.sleep(0.01)
        running -= 1

    monkeypatch.setattr(planner, "_plan_task", task)
    services: Any = SimpleNamespace(settings=SimpleNamespace(plan_tasks_per_process=limit))
    await asyncio.gather(*(planner.plan_task(services, None) for _ in range(10)))  # type: ignore[arg-type]
    assert peak == limit
