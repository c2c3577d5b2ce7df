"""ActiveCampaign misbehaving mid-run: 429 and 503 storms, random 5xx, slow answers past the client timeout,
connection resets.  Each run must still deliver exactly the oracle's list, and every extra write must be
explained by an import whose answer was lost (tests/faults/checks.py).

What AC applies, per fault (the emulator's order of checks, local/activecampaign_emulator/gate.py):
- 429/503 storms and random 5xx are answered before the route runs: nothing is applied, so nothing may be
  written twice.
- A reset "before" loses the request: nothing applied, nothing written twice.
- A reset "after" applies the import and loses the answer; a timeout may do the same on real AC.  The
  client cannot know, so it sends again: bulk import is an upsert of the same values (product.md 6,
  activecampaign-api.md 12), so a second write is harmless for the data.  Asserted: such extra writes
  come only from imports no checkpoint recorded, and the contacts hold the right values.
"""

from __future__ import annotations

from typing import Any

import pytest

from local.sample_data import SampleOptions
from tests.e2e.stack import Stack, emulator_config
from tests.faults.checks import (
    arrivals_with,
    assert_delivered,
    assert_values_match,
    assert_writes_explained,
    write_sample,
)

BULK = "POST /import/bulk_import"
# AC's limits x4 (20 req/s, 400 bulk/min) and the same budget for the client: a run of a few thousand
# contacts takes a couple of seconds, long enough to start a storm in the middle of it.
PACED = {"AC_RATE_PER_SECOND": "20", "AC_BULK_PER_MINUTE": "400", "AC_BULK_SINGLE_PER_MINUTE": "80"}
STORM_S = 3.0  # AC storms last ~30 s (activecampaign-api.md 12); scaled down, not away


async def status_counts(stack: Stack) -> dict[int, int]:
    counts: dict[int, int] = {}
    for by_status in (await stack.inspect("requests"))["counts"].values():
        for status, n in by_status.items():
            counts[int(status)] = counts.get(int(status), 0) + n
    return counts


@pytest.mark.parametrize("stack_options", [{"config": emulator_config(rate_scale=4.0), **PACED}])
async def test_a_429_storm_pauses_the_account_and_every_contact_still_arrives(stack: Stack) -> None:
    await stack.connect()
    await stack.create_export("storm")
    _, answer = await write_sample(stack, SampleOptions(profiles=3000, seed=31, partitions=1))
    run_id = await stack.start_run("storm")
    await stack.imports_accepted(3)
    stack.emulator.patch_config({"storm_kind": "429", "storm_duration_s": STORM_S})
    run = await stack.wait_run("storm", run_id, timeout=90)

    assert_delivered(run, stack, answer)
    assert max(stack.emulator.state.write_counts().values()) == 1  # a 429 applies nothing
    limited = [r for r in (await stack.inspect("requests"))["rate_limited"] if r["kind"] == "storm"]
    assert limited, "the storm never met the run"
    assert run["rateLimited"] > 0
    # no request inside a Retry-After window, except those already in flight when the first 429 came back
    violations = (await stack.inspect("retry-after-violations?grace_s=1.0"))["violations"]
    assert violations == []
    # the whole account paused at the first 429: the storm answered only what was already in flight
    assert max(r["t"] for r in limited) - min(r["t"] for r in limited) < 2.0  # the storm lasts 3 s
    assert len(limited) <= 16


@pytest.mark.parametrize("stack_options", [{"config": emulator_config(rate_scale=4.0), **PACED}])
async def test_a_503_storm_is_retried_with_backoff_and_every_contact_arrives_once(stack: Stack) -> None:
    await stack.connect()
    await stack.create_export("unavailable")
    _, answer = await write_sample(stack, SampleOptions(profiles=3000, seed=32, partitions=1))
    run_id = await stack.start_run("unavailable")
    await stack.imports_accepted(3)
    stack.emulator.patch_config({"storm_kind": "503", "storm_duration_s": STORM_S})
    run = await stack.wait_run("unavailable", run_id, timeout=90)

    assert_delivered(run, stack, answer)
    assert (await status_counts(stack)).get(503, 0) > 0, "the storm never met the run"
    assert run["retries"] > 0
    assert max(stack.emulator.state.write_counts().values()) == 1  # a 503 applies nothing


@pytest.mark.parametrize(
    "stack_options",
    [
        {
            "config": emulator_config(
                error_500_probability=0.034, error_502_probability=0.033, error_503_probability=0.033, fault_seed=5
            )
        }
    ],
)
async def test_ten_percent_5xx_answers_lose_nothing_and_write_nothing_twice(stack: Stack) -> None:
    await stack.connect()
    await stack.create_export("flaky")
    _, answer = await write_sample(stack, SampleOptions(profiles=4000, seed=33, partitions=2))
    run = await stack.run("flaky", timeout=90)

    assert_delivered(run, stack, answer)
    statuses = await status_counts(stack)
    assert sum(statuses.get(s, 0) for s in (500, 502, 503)) > 0
    # AC answers these before applying anything: a retried import is its first and only write
    assert max(stack.emulator.state.write_counts().values()) == 1
    await assert_writes_explained(stack, "flaky", run["id"])


@pytest.mark.parametrize(
    "stack_options",
    [{"config": emulator_config(latency_jitter_ms=400.0, fault_seed=7), "AC_TIMEOUT_SECONDS": "0.3"}],
)
async def test_answers_slower_than_the_client_timeout_are_retried_and_the_run_completes(stack: Stack) -> None:
    # every request takes 0-400 ms and the client gives up after 300 ms: about one in four times out
    await stack.connect()
    await stack.create_export("slow")
    sample, answer = await write_sample(stack, SampleOptions(profiles=3000, seed=34, partitions=1))
    run = await stack.run("slow", timeout=90)

    assert_delivered(run, stack, answer)
    arrivals = (await stack.inspect("arrivals"))["arrivals"]
    assert arrivals_with(arrivals, 0), "no request timed out"
    assert run["retries"] > 0
    # the emulator drops a request whose client went away, as AC may not; either way every extra write
    # must come from an import whose answer was lost, and the contacts hold the right values
    await assert_writes_explained(stack, "slow", run["id"])
    assert_values_match(stack, sample)


RESET_BEFORE: dict[str, Any] = {"config": emulator_config(reset_probability=0.1, reset_phase="before", fault_seed=3)}
RESET_AFTER: dict[str, Any] = {
    # only bulk imports, so the seed decides exactly which imports lose their answer (the 1st, 6th, 7th ...)
    "config": emulator_config(reset_probability=0.25, reset_phase="after", fault_routes=[BULK], fault_seed=3)
}


@pytest.mark.parametrize("stack_options", [RESET_BEFORE, RESET_AFTER], ids=["before", "after"])
async def test_connection_resets_before_or_after_ac_applies_an_import(stack: Stack) -> None:
    phase = stack.emulator.config.reset_phase
    await stack.connect()
    await stack.create_export("resets")
    sample, answer = await write_sample(stack, SampleOptions(profiles=3000, seed=35, partitions=1))
    run = await stack.run("resets", timeout=90)

    assert_delivered(run, stack, answer)
    arrivals = (await stack.inspect("arrivals"))["arrivals"]
    assert arrivals_with(arrivals, 0, BULK if phase == "after" else None), "no connection was reset"
    orphans = await assert_writes_explained(stack, "resets", run["id"])
    if phase == "before":  # the request never reached AC: nothing applied, nothing written twice
        assert not orphans
        assert max(stack.emulator.state.write_counts().values()) == 1
    else:  # applied, answer lost, sent again: the re-sent contacts hold the same, right values
        assert orphans
        assert_values_match(stack, sample)
