"""The AC account changes under a running export: its API key is revoked, or its list is deleted.

Neither can be retried away.  The run must end promptly with a reason a user can act on, stop talking to
the account, and still account for every row.
"""

from __future__ import annotations

import re

import pytest

from local.sample_data import SampleOptions
from tests.e2e.stack import Stack, emulator_config
from tests.faults.checks import arrivals_with, assert_rows_accounted, write_sample

BUSY = {"config": emulator_config(latency_ms=30.0), "SHARD_SIZE": "500"}  # 12 shards, sending side by side
LIST_GONE = re.compile(r"list\b.*\b(does not exist|no longer exists|was deleted|not found)", re.IGNORECASE)


@pytest.mark.parametrize("stack_options", [BUSY])
async def test_a_key_revoked_mid_run_fails_it_fast_naming_the_account_and_stops_all_traffic(stack: Stack) -> None:
    await stack.connect()
    await stack.create_export("revoked")
    _, answer = await write_sample(stack, SampleOptions(profiles=6000, seed=71, partitions=1))
    run_id = await stack.start_run("revoked")
    await stack.imports_accepted(3)
    stack.emulator.patch_config({"revoked_keys": [stack.emulator.api_key]})
    run = await stack.wait_run("revoked", run_id, timeout=60)

    assert run["status"] == "Failed", run
    host = stack.emulator.url.removeprefix("http://")
    assert host in run["error"]["message"] and "API key" in run["error"]["message"], run["error"]
    report = await stack.report("revoked", run_id)
    assert stack.emulator.api_key not in str(run) + str(report)
    arrivals = (await stack.inspect("arrivals"))["arrivals"]
    forbidden = [a["t"] for a in arrivals_with(arrivals, 403)]
    # failed at once, no hammering (counted, not timed): from the first 403 on, AC hears only what was already
    # in flight (12 shards x (4 sends + their polls)), answered 403 or cut off when the run stopped
    assert 0 < len(forbidden) <= 12 * 6
    assert len([a for a in arrivals if a["t"] >= min(forbidden)]) <= 12 * 6
    assert_rows_accounted(run, answer)
    counts = run["counts"]
    assert counts["notSent"] > 0
    members = stack.members()
    assert set(members) <= answer.expected_set()
    # AC holds at least what it confirmed and at most what it accepted; the unconfirmed rest goes again next run
    assert counts["confirmed"] <= len(members) <= counts["sent"]
    assert max(stack.emulator.state.write_counts().values()) == 1
    not_sent = [r for r in report if r["outcome"] in ("not-sent", "unconfirmed")]
    assert len(not_sent) == counts["notSent"] and all(host in r["reason"] for r in not_sent)


@pytest.mark.parametrize("stack_options", [BUSY])
async def test_the_list_deleted_mid_run_ends_the_run_saying_the_list_is_gone(stack: Stack) -> None:
    await stack.connect()
    await stack.create_export("deleted")
    _, answer = await write_sample(stack, SampleOptions(profiles=6000, seed=72, partitions=1))
    run_id = await stack.start_run("deleted")
    await stack.imports_accepted(3)
    async with stack.http.delete(
        f"{stack.emulator.url}/api/3/lists/1", headers={"Api-Token": stack.emulator.api_key}
    ) as response:
        assert response.status == 200  # someone deletes the list in ActiveCampaign
    run = await stack.wait_run("deleted", run_id, timeout=60)

    assert run["status"] == "Failed", run  # never a silent Succeeded, and it stops
    assert_rows_accounted(run, answer)
    assert run["counts"]["confirmed"] < answer.expected_unique
    report = await stack.report("deleted", run_id)
    reasons = [run["error"]["message"] if run.get("error") else ""] + [r["reason"] for r in report]
    assert any(LIST_GONE.search(reason or "") for reason in reasons), "nothing says the list is gone"
