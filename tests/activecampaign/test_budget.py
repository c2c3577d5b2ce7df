"""The per-account budget and the client's backoff, on a fake clock (no real sleeping)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import pytest
from tenacity import RetryCallState

from shared.activecampaign import AccountBudget, ActiveCampaignClient, BudgetRegistry, RequestKind
from shared.activecampaign.errors import AcRateLimited, AcTransientError
from shared.config import AcLimits


class FakeClock:
    """Replaces the running loop's clock: time moves only when the test says so."""

    def __init__(self) -> None:
        self.now = 0.0

    async def advance(self, seconds: float, step: float = 0.01) -> None:
        target = self.now + seconds
        while self.now < target - 1e-9:
            self.now = min(target, self.now + step)
            for _ in range(5):
                await asyncio.sleep(0)


@pytest.fixture
async def clock(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[FakeClock]:
    fake = FakeClock()
    loop = asyncio.get_running_loop()
    monkeypatch.setattr(loop, "time", lambda: fake.now)
    yield fake


async def settle() -> None:
    for _ in range(10):
        await asyncio.sleep(0)


def start(budget: AccountBudget, kind: RequestKind, n: int) -> list[asyncio.Task[None]]:
    return [asyncio.ensure_future(budget.acquire(kind)) for _ in range(n)]


async def test_general_budget_allows_a_small_burst_then_five_per_second(clock: FakeClock) -> None:
    budget = AccountBudget(AcLimits())  # AC's defaults: 5 rps, paced at 98%
    tasks = start(budget, RequestKind.GENERAL, 30)
    await settle()
    # the burst stays half a second of the rate below AC's 5: 2 at once (never 5)
    assert sum(t.done() for t in tasks) == 2
    await clock.advance(1.0)
    assert 6 <= sum(t.done() for t in tasks) <= 7  # 2 + 4.9 per second
    await clock.advance(4.0)
    assert 26 <= sum(t.done() for t in tasks) <= 27  # 4.9 per second, never 5
    await clock.advance(1.0)
    assert all(t.done() for t in tasks)


async def test_bulk_budget_caps_multi_contact_imports_per_minute(clock: FakeClock) -> None:
    limits = AcLimits(requests_per_second=1000)  # isolate the bulk budget
    budget = AccountBudget(limits)
    tasks = start(budget, RequestKind.BULK_MULTI, 150)
    await settle()
    assert sum(t.done() for t in tasks) == 97  # 98% of 100, less half a second of the rate: never 100
    await clock.advance(30.0)
    done = sum(t.done() for t in tasks)
    assert 97 + 47 <= done <= 97 + 50  # 98 per minute = 49 in 30 s
    for t in tasks:
        t.cancel()


async def test_single_contact_imports_have_their_own_smaller_budget(clock: FakeClock) -> None:
    budget = AccountBudget(AcLimits(requests_per_second=1000))
    singles = start(budget, RequestKind.BULK_SINGLE, 30)
    multis = start(budget, RequestKind.BULK_MULTI, 30)
    await settle()
    assert sum(t.done() for t in singles) == 19  # 98% of 20, less half a second of the rate
    assert all(t.done() for t in multis)
    for t in singles:
        t.cancel()


async def test_a_pause_holds_every_request_of_the_account(clock: FakeClock) -> None:
    budget = AccountBudget(AcLimits())
    budget.pause(3.0)
    tasks = start(budget, RequestKind.GENERAL, 2) + start(budget, RequestKind.BULK_MULTI, 1)
    await clock.advance(2.9)
    assert not any(t.done() for t in tasks)
    await clock.advance(0.6)  # the pause is over; three requests take ~0.2 s of general budget
    assert all(t.done() for t in tasks)


async def test_a_pause_that_arrives_while_waiting_for_a_token_is_respected(clock: FakeClock) -> None:
    budget = AccountBudget(AcLimits())
    first = start(budget, RequestKind.GENERAL, 2)
    await settle()
    assert all(t.done() for t in first)
    third, waiting = start(budget, RequestKind.GENERAL, 2)  # tokens come at ~0.11 s and ~0.32 s
    await clock.advance(0.15)
    assert third.done() and not waiting.done()
    budget.pause(5.0)  # a 429 arrives for another request
    await clock.advance(1.0)
    assert not waiting.done()  # the token came, but the pause holds it
    await clock.advance(4.5)
    assert waiting.done()


async def test_the_lane_and_its_guests_share_the_general_rate_and_one_pause(clock: FakeClock) -> None:
    registry = BudgetRegistry(AcLimits())  # AC's 5 requests/s
    lane, guest = registry.for_host("acme.api-us1.com"), registry.guest_for_host("ACME.activehosted.com")
    lanes, guests = start(lane, RequestKind.GENERAL, 100), start(guest, RequestKind.GENERAL, 100)
    await clock.advance(10.0)
    done_lane, done_guest = sum(t.done() for t in lanes), sum(t.done() for t in guests)
    # 90% and 10% of 5/s, each paced at 98%: together 98% of AC's rate, and their bursts (2 + 1) stay below
    # AC's bucket of 5
    assert 2 + 43 <= done_lane <= 2 + 45 and 1 + 4 <= done_guest <= 1 + 5
    assert done_lane + done_guest <= 3 + 0.98 * 5 * 10
    guest.pause(3.0)  # a 429 answered to a guest holds the lane's requests too (one account, one budget)
    assert lane.paused_for == pytest.approx(3.0)
    for t in lanes + guests:
        t.cancel()


async def test_status_polls_go_before_other_requests_waiting_for_the_general_rate(clock: FakeClock) -> None:
    budget = AccountBudget(AcLimits())
    others = start(budget, RequestKind.BULK_MULTI, 30)  # a run's imports, queued for the general rate
    await settle()
    poll = start(budget, RequestKind.POLL, 1)[0]
    await clock.advance(0.5)
    assert poll.done()  # next in line, not behind the 28 imports still waiting
    assert sum(t.done() for t in others) <= 4
    for t in others:
        t.cancel()


def _state(exc: BaseException, attempt: int) -> RetryCallState:
    state = RetryCallState(retry_object=None, fn=None, args=(), kwargs={})  # type: ignore[arg-type]
    state.attempt_number = attempt
    state.set_exception((type(exc), exc, None))
    return state


def test_backoff_honours_retry_after_clamps_it_and_grows_with_jitter(
    make_client: Callable[..., ActiveCampaignClient],
) -> None:
    client = make_client("http://127.0.0.1:9/api/3", limits=AcLimits(max_retry_after_s=30))
    assert client._wait(_state(AcTransientError("x", retry_after=7), 1)) == 7
    assert client._wait(_state(AcTransientError("x", retry_after=500), 1)) == 30
    assert client._wait(_state(AcRateLimited("x", retry_after=0), 3)) == 0  # the account pause does the waiting
    first = [client._wait(_state(AcTransientError("x"), 1)) for _ in range(20)]
    fifth = [client._wait(_state(AcTransientError("x"), 5)) for _ in range(20)]
    assert all(0.25 <= d <= 0.75 for d in first)
    assert all(4.0 <= d <= 4.5 for d in fifth)
    assert len(set(first)) > 1  # jitter
    assert all(client._wait(_state(AcTransientError("x"), 30)) <= 20.5 for _ in range(5))
