"""Rate limits: the account's 5 req/s budget and the bulk importer's per-minute budgets (token buckets).

The emulator runs on a ManualClock here, so "within one second" is exact and nothing sleeps."""

from __future__ import annotations

import asyncio

import pytest

from local.activecampaign_emulator import EmulatorServer, ManualClock
from local.activecampaign_emulator.ratelimit import TokenBucket
from tests.emulator.conftest import KEY, OTHER_KEY, Client, people

RATE_LIMITED = {
    "success": 0,
    "message": "Rate limit exceeded.",
    "failureReasons": [
        "Up to 100 imports may be requested per minute."
        "Please batch contacts into larger requests, or retry this request in a minute."
    ],
}


@pytest.fixture(autouse=True)
def limits_on(emu: EmulatorServer) -> None:
    emu.patch_config(limits_enabled=True)


async def test_twenty_requests_in_one_second_get_at_least_fourteen_429s(client: Client) -> None:
    replies = await asyncio.gather(*(client.get("/api/3/users/me") for _ in range(20)))
    limited = [r for r in replies if r.status == 429]
    assert len(limited) >= 14
    assert all(r.status == 200 for r in replies if r not in limited)
    for reply in limited:
        assert int(reply.headers["Retry-After"]) >= 1
        assert reply.headers["RateLimit-Limit"] == "5"
        assert reply.headers["RateLimit-Remaining"] == "0"
        assert reply.body == {"message": "Too Many Requests"}


async def test_two_keys_share_the_accounts_budget(client: Client, clock: ManualClock) -> None:
    first = [await client.get("/api/3/users/me", key=KEY) for _ in range(3)]
    second = [await client.get("/api/3/users/me", key=OTHER_KEY) for _ in range(3)]
    assert [r.status for r in first + second] == [200, 200, 200, 200, 200, 429]
    clock.advance(0.2)  # one token back at 5 per second
    assert (await client.get("/api/3/users/me", key=OTHER_KEY)).status == 200
    assert (await client.get("/api/3/users/me", key=KEY)).status == 429


async def test_budget_refills_continuously_and_remaining_counts_down(client: Client, clock: ManualClock) -> None:
    remaining = [(await client.get("/api/3/lists")).headers["RateLimit-Remaining"] for _ in range(5)]
    assert remaining == ["4", "3", "2", "1", "0"]
    clock.advance(0.4)
    statuses = [(await client.get("/api/3/lists")).status for _ in range(3)]
    assert statuses == [200, 200, 429]


def test_token_bucket_admits_at_most_capacity_plus_rate_times_t() -> None:
    bucket = TokenBucket()
    admitted = 0
    for step in range(1000):  # T = 9.99 s in 10 ms steps, three attempts each step
        for _ in range(3):
            if bucket.take(step * 0.01, capacity=5, rate=5) == 0.0:
                admitted += 1
    assert admitted == 5 + int(5 * 9.99)  # capacity + rate * T, in whole requests
    wait = bucket.take(9.99, capacity=5, rate=5)
    assert 0 < wait <= 1 / 5  # the time until the next whole token


async def test_ratelimit_headers_only_on_429_and_body_switch(client: Client, emu: EmulatorServer) -> None:
    emu.patch_config(ratelimit_headers="429_only", rate_limit_body="")
    ok = await client.get("/api/3/users/me")
    assert "RateLimit-Limit" not in ok.headers
    for _ in range(4):
        await client.get("/api/3/users/me")
    limited = await client.get("/api/3/users/me")
    assert limited.status == 429
    assert limited.headers["RateLimit-Limit"] == "5"
    assert limited.text == ""
    assert "Content-Type" not in limited.headers


async def test_bulk_multi_contact_budget_is_100_per_minute(
    client: Client, emu: EmulatorServer, clock: ManualClock
) -> None:
    emu.patch_config(bulk_counts_toward_general=False)
    statuses = [(await client.bulk(people(2, start=2 * i))).status for i in range(100)]
    assert statuses == [200] * 100
    refused = await client.bulk(people(2, start=500))
    assert (refused.status, refused.body) == (400, RATE_LIMITED)
    assert "Retry-After" not in refused.headers
    assert emu.state.contact("person500@example.com") is None
    single = await client.bulk(people(1, start=900))
    assert single.status == 200  # the single-contact budget is separate
    emu.patch_config(bulk_rate_limit_status=429)
    as_429 = await client.bulk(people(2, start=600))
    assert as_429.status == 429
    assert as_429.headers["Retry-After"] == "1"  # one token per 0.6 s
    clock.advance(0.6)
    assert (await client.bulk(people(2, start=700))).status == 200
    budgets = await client.inspect("budgets")
    assert budgets["budgets"]["bulk_multi"] == {
        "limit": 100.0,
        "window_s": 60.0,
        "capacity": 100.0,
        "rate_per_s": pytest.approx(100 / 60),
    }
    multi = budgets["accepted_bulk_multi"]
    assert multi["count"] == 101
    assert multi["interval_s"] == pytest.approx(0.6)
    assert multi["ceiling_use"] == pytest.approx(101 / (100 + 100 / 60 * 0.6))
    limited = (await client.inspect("requests"))["rate_limited"]
    assert [(e["kind"], e["status"], e["retry_after"]) for e in limited] == [
        ("bulk_multi", 400, None),
        ("bulk_multi", 429, 1),
    ]


async def test_bulk_single_contact_budget_is_20_per_minute(client: Client, emu: EmulatorServer) -> None:
    emu.patch_config(bulk_counts_toward_general=False)
    statuses = [(await client.bulk(people(1, start=i))).status for i in range(21)]
    assert statuses == [200] * 20 + [400]
    assert (await client.bulk(people(2, start=50))).status == 200


async def test_bulk_requests_take_from_the_general_budget_unless_switched_off(
    client: Client, emu: EmulatorServer
) -> None:
    for i in range(5):
        assert (await client.bulk(people(2, start=2 * i))).status == 200
    assert (await client.get("/api/3/lists")).status == 429
    emu.reset()
    emu.patch_config(bulk_counts_toward_general=False)
    for i in range(6):
        assert (await client.bulk(people(2, start=2 * i))).status == 200
    assert (await client.get("/api/3/lists")).status == 200


async def test_rate_scale_multiplies_and_limits_can_be_lifted(client: Client, emu: EmulatorServer) -> None:
    emu.patch_config(rate_scale=2)
    statuses = [(await client.get("/api/3/lists")).status for _ in range(11)]
    assert statuses == [200] * 10 + [429]
    emu.patch_config(limits_enabled=False)
    assert all(r.status == 200 for r in await asyncio.gather(*(client.get("/api/3/lists") for _ in range(50))))


async def test_arrivals_inside_a_retry_after_window_are_reported(client: Client, clock: ManualClock) -> None:
    for _ in range(6):
        await client.get("/api/3/lists")
    clock.advance(0.5)
    await client.get("/api/3/lists")  # inside the 1 s window the 429 asked for
    clock.advance(1.0)
    await client.get("/api/3/lists")  # after it
    violations = (await client.inspect("retry-after-violations"))["violations"]
    assert [v["t"] for v in violations] == [pytest.approx(0.5)]
    arrivals = (await client.inspect("arrivals"))["arrivals"]
    assert [a["status"] for a in arrivals] == [200] * 5 + [429, 200, 200]
    assert [a["t"] for a in arrivals][-2:] == [pytest.approx(0.5), pytest.approx(1.5)]
