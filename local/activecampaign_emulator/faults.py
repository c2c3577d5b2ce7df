"""Fault injection: random 5xx, connection resets, latency, storm windows, stalled bulk imports and bulk imports
applied whose answer is held.

All randomness comes from one RNG seeded with `fault_seed`, so a run is reproducible for a given request
sequence.  Storms and stalls are (re)armed whenever their config fields are patched.
"""

from __future__ import annotations

import asyncio
import math
import random
from collections.abc import Iterable

from aiohttp import web

from local.activecampaign_emulator.config import EmulatorConfig

STORM_FIELDS = frozenset({"storm_kind", "storm_start_after_s", "storm_duration_s"})


def route_matches(patterns: Iterable[str], method: str, subpath: str) -> bool:
    """'/import' or 'POST /import/bulk_import' against a path relative to /api/3; no patterns = every route."""
    patterns = list(patterns)
    if not patterns:
        return True
    for pattern in patterns:
        want_method, _, prefix = pattern.partition(" ") if " " in pattern else ("", "", pattern)
        if (not want_method or want_method.upper() == method) and subpath.startswith(prefix):
            return True
    return False


class Faults:
    def __init__(self, config: EmulatorConfig) -> None:
        self._config = config
        self.rng = random.Random(config.fault_seed)
        self.storm_window: tuple[float, float] | None = None
        self._release = asyncio.Event()
        self.stall_accepted = 0
        self.stalled = 0
        self._answer = asyncio.Event()
        self.hold_accepted = 0
        self.held = 0
        self.held_batches: list[str] = []  # every batch whose answer was held, in order

    def on_config(self, changed: Iterable[str], now: float) -> None:
        changed = set(changed)
        config = self._config
        if "fault_seed" in changed:
            self.rng.seed(config.fault_seed)
        if changed & STORM_FIELDS:
            self.arm_storm(now)
        if "stall_bulk_after" in changed:
            self.stall_accepted = 0
            if config.stall_bulk_after is None:  # cleared: hung requests proceed
                self.release_all()
        if "hold_bulk_answer_after" in changed:
            self.hold_accepted = 0
            if config.hold_bulk_answer_after is None:  # cleared: the held answers go out
                self.answer_all()

    def arm_storm(self, now: float) -> None:
        config = self._config
        if config.storm_kind is None or config.storm_duration_s <= 0:
            self.storm_window = None
        else:
            start = now + config.storm_start_after_s
            self.storm_window = (start, start + config.storm_duration_s)

    def storm(self, now: float) -> tuple[str, int] | None:
        """(kind, Retry-After seconds = remaining storm time, ceil, >= 1) while a storm is on."""
        window = self.storm_window
        if window is None or not window[0] <= now < window[1] or self._config.storm_kind is None:
            return None
        return self._config.storm_kind, max(1, math.ceil(window[1] - now))

    def pick_error(self, method: str, subpath: str) -> int | None:
        c = self._config
        total = c.error_500_probability + c.error_502_probability + c.error_503_probability
        if total <= 0 or not route_matches(c.fault_routes, method, subpath):
            return None
        draw = self.rng.random()
        for status, p in (
            (500, c.error_500_probability),
            (502, c.error_502_probability),
            (503, c.error_503_probability),
        ):
            if draw < p:
                return status
            draw -= p
        return None

    def reset_phase(self, method: str, subpath: str) -> str | None:
        c = self._config
        if c.reset_probability <= 0 or not route_matches(c.fault_routes, method, subpath):
            return None
        return c.reset_phase if self.rng.random() < c.reset_probability else None

    def latency_s(self, method: str, subpath: str) -> float:
        c = self._config
        if (c.latency_ms <= 0 and c.latency_jitter_ms <= 0) or not route_matches(c.latency_routes, method, subpath):
            return 0.0
        jitter = self.rng.uniform(0.0, c.latency_jitter_ms) if c.latency_jitter_ms > 0 else 0.0
        return (c.latency_ms + jitter) / 1000.0

    async def stall_gate(self, request: web.Request) -> str:
        """Called when a bulk import is about to be accepted.  "go": carry on; "resumed": it hung and was
        released (re-check it, the account may have changed); "gone": its client went away while it hung,
        so it must not be applied.  (With handler cancellation a disconnect usually cancels it instead.)"""
        limit = self._config.stall_bulk_after
        if limit is None:
            return "go"
        if self.stall_accepted < limit:
            self.stall_accepted += 1
            return "go"
        self.stalled += 1
        try:
            await self._release.wait()
        finally:
            self.stalled -= 1
        transport = request.transport
        return "resumed" if transport is not None and not transport.is_closing() else "gone"

    async def hold_answer(self, batch_id: str) -> None:
        """Called after a bulk import was applied, before it is answered: returns at once, or (after the
        hold_bulk_answer_after-th) when the hold is cleared.  A client that disconnects meanwhile cancels the
        handler (handler cancellation): the batch stays applied and its answer is never sent."""
        limit = self._config.hold_bulk_answer_after
        if limit is None:
            return
        if self.hold_accepted < limit:
            self.hold_accepted += 1
            return
        self.held += 1
        self.held_batches.append(batch_id)
        try:
            await self._answer.wait()
        finally:
            self.held -= 1

    def reset(self) -> None:
        self.stall_accepted = 0
        self.hold_accepted = 0
        self.held_batches = []
        self.rng.seed(self._config.fault_seed)

    def release_all(self) -> None:
        """Let every hung bulk import go on (at shutdown, or when the stall is cleared)."""
        self._release.set()
        self._release = asyncio.Event()

    def answer_all(self) -> None:
        """Send every held bulk import answer (at shutdown, or when the hold is cleared)."""
        self._answer.set()
        self._answer = asyncio.Event()
