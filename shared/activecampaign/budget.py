"""Per-account rate budgets: one `AccountBudget` per AC account (shared/activecampaign/account.py) per process.

Every client of an account shares its budget, so all exports and shards running in
this process stay inside ActiveCampaign's per-account limits together.  Across
processes the account lane (shared/pipeline/lane.py) makes sure only one process
sends for an account at a time.

The limiters are aiolimiter leaky buckets that mirror AC's documented budgets:
5 requests/s overall, 100 multi-contact and 20 single-contact bulk imports per
minute.  The client paces at `safety` (default 98%) of each rate, and keeps its
burst JITTER_TOLERANCE_S worth of requests below AC's bucket, so requests that
arrive bunched (network jitter, a paused event loop) still find AC's bucket with
room: the long-run rate stays at 98% of the ceiling, the burst gives up a little.
A 429 (or the bulk "Rate limit exceeded." answer) pauses the whole account until
its Retry-After has passed: no request for the account is sent inside that window.
"""

from __future__ import annotations

import asyncio
from enum import Enum

from aiolimiter import AsyncLimiter

from shared.activecampaign.account import account_key
from shared.config import AcLimits

DEFAULT_SAFETY = 0.98
JITTER_TOLERANCE_S = 0.5  # how much bunching of our requests on the way to AC the budget absorbs
MIN_POLL_SHARE = 0.2  # polls always get at least this share of the general budget


def paced(limit: float, window_s: float, safety: float) -> AsyncLimiter:
    """A leaky bucket at `safety` of AC's rate, its burst kept JITTER_TOLERANCE_S of that rate below AC's."""
    rate = limit / window_s * safety
    capacity = max(1.0, limit * safety - rate * JITTER_TOLERANCE_S)
    return AsyncLimiter(capacity, capacity / rate)


class RequestKind(Enum):
    GENERAL = "general"
    BULK_MULTI = "bulk_multi"
    BULK_SINGLE = "bulk_single"
    POLL = "poll"


class AccountBudget:
    def __init__(self, limits: AcLimits, *, safety: float = DEFAULT_SAFETY) -> None:
        bulk_rps = limits.bulk_per_minute / 60.0
        self.general = paced(limits.requests_per_second, 1, safety)
        self.bulk = paced(limits.bulk_per_minute, 60, safety)
        self.bulk_single = paced(limits.bulk_single_per_minute, 60, safety)
        # Status polls use what bulk imports leave of the general budget, so that
        # polling never starves sending.
        poll_rps = max(limits.requests_per_second - bulk_rps, limits.requests_per_second * MIN_POLL_SHARE)
        self.poll = paced(poll_rps, 1, safety)
        self._pause_until = 0.0

    @staticmethod
    def _now() -> float:
        return asyncio.get_running_loop().time()

    @property
    def paused_for(self) -> float:
        """Seconds left in the current Retry-After pause (0 when not paused)."""
        return max(0.0, self._pause_until - self._now())

    def pause(self, seconds: float) -> None:
        """Hold every request of this account for `seconds` (a Retry-After)."""
        self._pause_until = max(self._pause_until, self._now() + max(0.0, seconds))

    async def acquire(self, kind: RequestKind) -> None:
        """Wait until a request of `kind` may be sent now."""
        while True:
            while (left := self.paused_for) > 0:  # noqa: ASYNC110 (sleeps exactly until the pause ends)
                await asyncio.sleep(left)
            if kind is RequestKind.BULK_MULTI:
                await self.bulk.acquire()
            elif kind is RequestKind.BULK_SINGLE:
                await self.bulk_single.acquire()
            elif kind is RequestKind.POLL:
                await self.poll.acquire()
            await self.general.acquire()
            if self.paused_for <= 0:  # a 429 may have arrived while we waited for a token
                return


class BudgetRegistry:
    """The budgets of this process, one per account host."""

    def __init__(self, limits: AcLimits, *, safety: float = DEFAULT_SAFETY) -> None:
        self._limits = limits
        self._safety = safety
        self._budgets: dict[str, AccountBudget] = {}

    def for_host(self, host: str) -> AccountBudget:
        """The budget of the account `host` reaches (two hostnames of one account share one budget)."""
        key = account_key(host)
        budget = self._budgets.get(key)
        if budget is None:
            budget = self._budgets[key] = AccountBudget(self._limits, safety=self._safety)
        return budget


__all__ = ["AccountBudget", "BudgetRegistry", "RequestKind"]
