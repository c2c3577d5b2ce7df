"""Timer triggers: NCRONTAB (six fields, seconds first) or TimeSpan schedules."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from azure.functions.timer import TimerRequest
from croniter import croniter

from local.host.config import parse_timespan
from local.host.index import FunctionSpec

logger = logging.getLogger("local.host")


class TimerSchedule:
    """A host schedule.  Six-field NCRONTAB in UTC ("0 */5 * * * *") or a TimeSpan ("00:05:00")."""

    def __init__(self, expression: str) -> None:
        self.expression = expression.strip()
        self._interval: float | None = None
        if ":" in self.expression and " " not in self.expression:
            self._interval = parse_timespan(self.expression)
            if self._interval <= 0:
                raise ValueError(f"timer interval must be positive: {expression!r}")
        elif len(self.expression.split()) != 6 or not croniter.is_valid(self.expression, second_at_beginning=True):
            raise ValueError(f"not a six-field NCRONTAB expression (sec min hour day month weekday): {expression!r}")

    def next_after(self, moment: datetime) -> datetime:
        if self._interval is not None:
            return moment + timedelta(seconds=self._interval)
        it = croniter(self.expression, moment, second_at_beginning=True)
        nxt: datetime = it.get_next(datetime)
        return nxt


def timer_request(*, past_due: bool, last: datetime | None, nxt: datetime) -> TimerRequest:
    status = {
        "Last": (last or nxt).isoformat(),
        "Next": nxt.isoformat(),
        "LastUpdated": datetime.now(UTC).isoformat(),
    }
    return TimerRequest(past_due=past_due, schedule_status=status, schedule={"AdjustForDST": True})


Runner = Callable[[FunctionSpec, Any, str], Awaitable[None]]


class TimerRunner:
    """Fires one timer function on its schedule (and at start-up when runOnStartup is set)."""

    def __init__(self, spec: FunctionSpec, schedule: TimerSchedule, run: Runner) -> None:
        self.spec = spec
        self.schedule = schedule
        self._run = run
        self.last: datetime | None = None

    async def fire(self, reason: str, *, past_due: bool = False) -> None:
        now = datetime.now(UTC)
        request = timer_request(past_due=past_due, last=self.last, nxt=self.schedule.next_after(now))
        self.last = now
        try:
            await self._run(self.spec, request, reason)
        except Exception:
            logger.exception("timer %s failed", self.spec.name)

    async def run_forever(self) -> None:
        if self.spec.trigger.get("runOnStartup"):
            await self.fire("Timer fired at startup (runOnStartup)")
        while True:
            now = datetime.now(UTC)
            due = self.schedule.next_after(now)
            await asyncio.sleep(max(0.0, (due - datetime.now(UTC)).total_seconds()))
            late = (datetime.now(UTC) - due).total_seconds()
            await self.fire("Timer fired on schedule", past_due=late > 1.0)
