"""A shard that fails on every delivery ends in the poison queue: the run ends Failed naming the shard, the
other shards' contacts arrive, and every row is still accounted for (the poisoned shard's as not sent).
"""

from __future__ import annotations

import pytest

from local.sample_data import SampleOptions
from shared.names import RUNS_CONTAINER
from shared.pipeline.shards import read_table
from tests.e2e.stack import ALL_BUT_SHARDS, Stack
from tests.faults.checks import assert_rows_accounted, write_sample
from tests.helpers import eventually


@pytest.mark.parametrize(
    "damaged",
    [
        "shard file",
        "checkpoint",
    ],
)
@pytest.mark.parametrize("stack_options", [{"functions": ALL_BUT_SHARDS, "SHARD_SIZE": "400"}])
async def test_a_shard_that_always_fails_is_poisoned_and_fails_the_run_naming_it(stack: Stack, damaged: str) -> None:
    await stack.connect()
    await stack.create_export("poisoned")
    _, answer = await write_sample(stack, SampleOptions(profiles=1200, seed=61, partitions=1))  # 3 shards
    run_id = await stack.start_run("poisoned")

    async def planned() -> bool:
        return bool((await stack.api.get_run("poisoned", run_id))["status"] == "Sending")

    await eventually(planned, timeout=30)
    async with stack.container(RUNS_CONTAINER) as runs:
        shard_file = await stack.run_path("poisoned", run_id, "shards/b0000-00001.arrow")
        shard = await read_table(runs, shard_file, ["email"])
        poisoned_emails = set(shard["email"].to_pylist())
        # shard 1 breaks for good: its file, or its checkpoint (as if written by an incompatible version)
        checkpoint = await stack.run_path("poisoned", run_id, "shards/b0000-00001.ckpt.json")
        damaged_blob = shard_file if damaged == "shard file" else checkpoint
        await runs.upload_blob(damaged_blob, b"{}", overwrite=True)
    async with stack.workers():
        run = await stack.wait_run("poisoned", run_id, timeout=90)

    assert run["status"] == "Failed", run
    message = run["error"]["message"]
    assert "shard 1" in message and "poison" in message, message
    assert run["shards"]["failed"] == [1]
    assert_rows_accounted(run, answer)
    assert run["counts"]["notSent"] == run["shards"]["sizes"][1] == len(poisoned_emails)
    # the other shards were delivered in full, once; the poisoned one sent nothing
    assert set(stack.members()) == answer.expected_set() - poisoned_emails
    assert run["counts"]["confirmed"] == answer.expected_unique - len(poisoned_emails)
    assert max(stack.emulator.state.write_counts().values()) == 1
    report = await stack.report("poisoned", run_id)
    not_sent = {r["email"] for r in report if r["outcome"] == "not-sent"}
    if damaged == "shard file":  # its rows cannot be read back, so they are counted but not listed
        assert not_sent <= poisoned_emails
    else:  # the report names each row that will go next run
        assert not_sent == poisoned_emails
