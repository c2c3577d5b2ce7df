"""The export's list is deleted in ActiveCampaign, before or during a run, under each way AC may answer bulk imports
that name a list it no longer has (the emulator's `bulk_unknown_list`):
- `fail_contacts`: accepted, then every contact fails after the 200 (import/info `failure`);
- `ignore`: accepted, the contacts written without the list: nothing in AC's answers says so;
- `reject_batch`: the whole request refused with a 400 naming the list, for every contact.
Each run ends Failed naming the list, and stops within a few requests: counted on the emulator, bounded by
the requests in flight when it happened (AC_SEND_CONCURRENCY per shard being sent) and, where AC says
nothing, the LIST_CHECK_EVERY accepted batches between two list checks (shared/pipeline/listwatch.py).

And: import/info that never knows a batch AC accepted (`unknown_batch_response` with `info_forgets_batches`)
is handled the same way in every run, within a fixed number of polls, with a reason.
"""

from __future__ import annotations

import math
import re
from typing import Any

import pytest

from local.sample_data import SampleOptions
from shared.activecampaign.client import MAX_UNKNOWN_POLLS
from shared.pipeline.listwatch import LIST_CHECK_EVERY
from tests.e2e.stack import Stack, emulator_config
from tests.faults.checks import assert_rows_accounted, write_sample
from tests.helpers import eventually

MODES = ["fail_contacts", "ignore", "reject_batch"]
BULK = "POST /import/bulk_import"
SHARDS, CONCURRENCY = 2, 2
IN_FLIGHT = SHARDS * CONCURRENCY  # bulk requests that may be on their way when the run learns the list is gone
LIST_GONE = re.compile(r"list 1 (does not exist|no longer exists)")


def options(mode: str, **config: Any) -> dict[str, Any]:
    # 20,000 contacts in 2 shards of 40 requests, each shard sending 2 at a time
    return {
        "config": emulator_config(bulk_unknown_list=mode, **config),
        "SHARD_SIZE": "10000",
        "AC_SEND_CONCURRENCY": str(CONCURRENCY),
    }


async def bulk_requests(stack: Stack) -> int:
    return sum((await stack.inspect("requests"))["counts"].get(BULK, {}).values())


async def delete_list(stack: Stack) -> None:
    async with stack.http.delete(
        f"{stack.emulator.url}/api/3/lists/1", headers={"Api-Token": stack.emulator.api_key}
    ) as response:
        assert response.status == 200  # someone deletes the list in ActiveCampaign


def assert_failed_naming_the_list(run: dict[str, Any]) -> None:
    assert run["status"] == "Failed", run  # never Succeeded with nobody on the list
    assert LIST_GONE.search(run["error"]["message"]) and "account 127.0.0.1:" in run["error"]["message"], run


@pytest.mark.parametrize("stack_options", [options(m) for m in MODES], ids=MODES)
async def test_a_list_deleted_before_the_run_fails_it_at_planning_and_nothing_is_sent(stack: Stack) -> None:
    await stack.connect()
    await stack.create_export("before")
    await write_sample(stack, SampleOptions(profiles=500, seed=91, partitions=1))
    await delete_list(stack)
    run = await stack.run("before")
    assert_failed_naming_the_list(run)
    assert await bulk_requests(stack) == 0


@pytest.mark.parametrize("stack_options", [options(m) for m in MODES], ids=MODES)
async def test_a_list_deleted_mid_run_fails_it_naming_the_list_within_a_few_requests(stack: Stack) -> None:
    accepted_before = 5
    stack.emulator.patch_config({"stall_bulk_after": accepted_before})  # the run pauses with 5 imports accepted
    await stack.connect()
    await stack.create_export("deleted")
    _, answer = await write_sample(stack, SampleOptions(profiles=20_000, seed=92, partitions=1))
    run_id = await stack.start_run("deleted")

    async def paused() -> bool:
        return bool((await stack.inspect("faults"))["stalled"])

    await eventually(paused, timeout=60)
    await delete_list(stack)
    stack.emulator.patch_config({"stall_bulk_after": None})  # the requests in flight go on, to a list now gone
    run = await stack.wait_run("deleted", run_id, timeout=90)

    assert_failed_naming_the_list(run)
    assert_rows_accounted(run, answer)
    after = await bulk_requests(stack) - accepted_before
    mode = stack.emulator.config.bulk_unknown_list
    # refused: the run knows at the first answer, so only what was in flight then (and what its shard had
    # already started) reaches AC; dropped after the 200 (known only once import/info answers, which a slow
    # machine may delay) or ignored: at most LIST_CHECK_EVERY more accepted before the periodic check
    bound = 2 * IN_FLIGHT + (0 if mode == "reject_batch" else LIST_CHECK_EVERY)
    assert 0 < after <= bound, (after, bound)  # of the 75 requests the run had left
    singles = (await stack.inspect("budgets"))["accepted_bulk_single"]["count"]
    assert singles == 0  # nothing was split down to single contacts


@pytest.mark.parametrize("stack_options", [options("ignore")], ids=["ignore"])
async def test_ignored_in_a_short_run_the_deleted_list_is_caught_at_the_end_of_its_shard(stack: Stack) -> None:
    stack.emulator.patch_config({"stall_bulk_after": 1})
    await stack.connect()
    await stack.create_export("short")
    _, answer = await write_sample(stack, SampleOptions(profiles=900, seed=93, partitions=1))  # 4 requests
    run_id = await stack.start_run("short")

    async def paused() -> bool:
        return bool((await stack.inspect("faults"))["stalled"])

    await eventually(paused, timeout=60)
    await delete_list(stack)
    stack.emulator.patch_config({"stall_bulk_after": None})
    run = await stack.wait_run("short", run_id, timeout=60)

    assert await bulk_requests(stack) < LIST_CHECK_EVERY  # no periodic check came due: the shard's last did it
    assert_failed_naming_the_list(run)
    assert_rows_accounted(run, answer)


UNKNOWN = ["404", "400", "false"]


@pytest.mark.parametrize(
    "stack_options",
    [
        {
            "config": emulator_config(info_forgets_batches=True, unknown_batch_response=a),
            "AC_POLL_INTERVAL_SECONDS": "0.01",
            "AC_POLL_TIMEOUT_SECONDS": "20",
        }
        for a in UNKNOWN
    ],
    ids=UNKNOWN,
)
async def test_batches_import_info_never_knows_end_unconfirmed_the_same_way_every_run(stack: Stack) -> None:
    await stack.connect()
    await stack.create_export("unknown")
    _, answer = await write_sample(stack, SampleOptions(profiles=600, seed=94, partitions=1))
    requests = math.ceil(answer.expected_unique / 250)
    runs = []
    for _ in range(2):
        polls_before = sum((await stack.inspect("requests"))["counts"].get("GET /import/info", {}).values())
        run = await stack.run("unknown", full=False, timeout=60)
        polls = sum((await stack.inspect("requests"))["counts"]["GET /import/info"].values()) - polls_before
        assert polls == requests * MAX_UNKNOWN_POLLS  # bounded: a fixed number of polls per batch
        runs.append(run)
    first, second = runs
    assert set(stack.members()) == answer.expected_set()  # AC applied them all the same: the list's end state
    for run in runs:
        assert run["status"] == "PartiallySucceeded", run
        assert run["counts"]["notSent"] == answer.expected_unique and run["counts"]["confirmed"] == 0
        assert_rows_accounted(run, answer)
    # nothing was committed, so the second run sends them all again and ends the same way
    assert second["counts"]["toSend"] == first["counts"]["toSend"] == answer.expected_unique
    report = await stack.report("unknown", second["id"])
    answered = stack.emulator.config.unknown_batch_response
    said = "status false" if answered == "false" else answered
    reasons = {r["reason"] for r in report if r["outcome"] == "unconfirmed"}
    assert reasons == {
        f"ActiveCampaign accepted the import but its import/info answered {said} {MAX_UNKNOWN_POLLS} times in a "
        "row: not confirmed, sent again next run"
    }
