"""Per-account rate budgets: per AC account (shared/activecampaign/account.py) and process, one budget for the
account's lane and one for its guests.

Every client of an account shares its budget, so all exports and shards running in
this process stay inside ActiveCampaign's per-account limits together.  Across
processes the account lane (shared/pipeline/lane.py) makes sure only one process
sends for an account at a time; the lane's budget (shards and the planner) paces the
general rate at 1 - GUEST_SHARE of AC's, and leaves GUEST_SHARE to guests: calls a person
waits on (the API's key, list and field checks), made from any process under the
account's short guest lease, never waiting for a long run's lane.  Lane and guests
together stay inside the account's budget; the bulk budgets belong to the lane alone.
GUEST_SHARE is 10%: each bulk import also costs about one status poll, so a batch takes two
general requests and the lane's bulk rate is capped near half its general rate; at 90% that
still leaves room to spend AC's initial bulk burst (bench: ceiling use 0.971; at 80% it fell
to 0.90).  Within a budget, status polls go first for the general rate (their own rate
bounds them), so reconciliation keeps pace and shards free their worker slots.

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
from dataclasses import replace
from enum import Enum

from aiolimiter import AsyncLimiter

from shared.activecampaign.account import account_key
from shared.config import AcLimits

DEFAULT_SAFETY = 0.98
JITTER_TOLERANCE_S = 0.5  # how much bunching of our requests on the way to AC the budget absorbs
MIN_POLL_SHARE = 0.2  # polls always get at least this share of the general budget
OTHER_SHARE = 0.1  # of the general budget, kept from polls for the other calls of a run (list checks, look-ups)
GUEST_SHARE = 0.1  # of the general rate, kept free by the lane for guests (0.5 of AC's 5 requests/s)


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


class Pause:
    """Until when (loop time) every request of an account waits: a Retry-After, shared by its budgets."""

    def __init__(self) -> None:
        self.until = 0.0


class AccountBudget:
    def __init__(self, limits: AcLimits, *, safety: float = DEFAULT_SAFETY, pause: Pause | None = None) -> None:
        bulk_rps = limits.bulk_per_minute / 60.0
        self.general = paced(limits.requests_per_second, 1, safety)
        self.bulk = paced(limits.bulk_per_minute, 60, safety)
        self.bulk_single = paced(limits.bulk_single_per_minute, 60, safety)
        # Status polls use what bulk imports and a run's other calls leave of the general budget, so that
        # polling never starves sending.
        rps = limits.requests_per_second
        poll_rps = max(rps - bulk_rps - rps * OTHER_SHARE, rps * MIN_POLL_SHARE)
        self.poll = paced(poll_rps, 1, safety)
        self._pause = pause or Pause()
        # Polls go first for the general budget: reconciliation keeps pace with sending, so shards finish and
        # free their worker slots.  Every other request queues for it one at a time, behind waiting polls (the
        # poll rate above bounds what polls can take).
        self._polls_waiting = 0
        self._no_poll_waiting = asyncio.Event()
        self._no_poll_waiting.set()
        self._others = asyncio.Lock()

    @staticmethod
    def _now() -> float:
        return asyncio.get_running_loop().time()

    @property
    def paused_for(self) -> float:
        """Seconds left in the current Retry-After pause (0 when not paused)."""
        return max(0.0, self._pause.until - self._now())

    def pause(self, seconds: float) -> None:
        """Hold every request of this account for `seconds` (a Retry-After)."""
        self._pause.until = max(self._pause.until, self._now() + max(0.0, seconds))

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
            if kind is RequestKind.POLL:
                await self._general_for_poll()
            else:
                async with self._others:
                    await self._no_poll_waiting.wait()
                    await self.general.acquire()
            if self.paused_for <= 0:  # a 429 may have arrived while we waited for a token
                return

    async def _general_for_poll(self) -> None:
        self._polls_waiting += 1
        self._no_poll_waiting.clear()
        try:
            await self.general.acquire()
        finally:
            self._polls_waiting -= 1
            if not self._polls_waiting:
                self._no_poll_waiting.set()


class BudgetRegistry:
    """The budgets of this process: per account (two hostnames of one account share them), the lane's and the
    guests', which share one Retry-After pause."""

    def __init__(self, limits: AcLimits, *, safety: float = DEFAULT_SAFETY) -> None:
        rps = limits.requests_per_second
        self._lane_limits = replace(limits, requests_per_second=rps * (1 - GUEST_SHARE))
        self._guest_limits = replace(
            limits,
            requests_per_second=rps * GUEST_SHARE,
            bulk_per_minute=limits.bulk_per_minute * GUEST_SHARE,
            bulk_single_per_minute=limits.bulk_single_per_minute * GUEST_SHARE,
        )
        self._safety = safety
        self._budgets: dict[tuple[str, bool], AccountBudget] = {}
        self._pauses: dict[str, Pause] = {}

    def for_host(self, host: str) -> AccountBudget:
        """The lane's budget for the account `host` reaches: shards and the planner, inside the account lane."""
        return self._budget(host, guest=False)

    def guest_for_host(self, host: str) -> AccountBudget:
        """The guests' budget (GUEST_SHARE of the general rate), for calls made under the account's guest lease."""
        return self._budget(host, guest=True)

    def _budget(self, host: str, *, guest: bool) -> AccountBudget:
        key = account_key(host)
        budget = self._budgets.get((key, guest))
        if budget is None:
            pause = self._pauses.setdefault(key, Pause())
            limits = self._guest_limits if guest else self._lane_limits
            budget = self._budgets[key, guest] = AccountBudget(limits, safety=self._safety, pause=pause)
        return budget


__all__ = ["GUEST_SHARE", "AccountBudget", "BudgetRegistry", "Pause", "RequestKind"]
