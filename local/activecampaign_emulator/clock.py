"""Clocks: the emulator reads time only through one of these, so tests can freeze and advance it."""

from __future__ import annotations

import time
from typing import Protocol


class Clock(Protocol):
    def __call__(self) -> float:
        """Seconds on a monotonic scale."""
        ...


def monotonic_clock() -> float:
    return time.monotonic()


class ManualClock:
    """A clock that moves only when told to: `clock.advance(1.5)`.  Rate limits, Retry-After values,
    storm windows and batch lifecycles then become exact, with no real sleeps."""

    def __init__(self, start: float = 0.0) -> None:
        self._now = start

    def __call__(self) -> float:
        return self._now

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("a clock cannot go back")
        self._now += seconds

    def set(self, now: float) -> None:
        if now < self._now:
            raise ValueError("a clock cannot go back")
        self._now = now
