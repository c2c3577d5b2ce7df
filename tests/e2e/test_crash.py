"""A worker process killed in the middle of a shard: the redelivered shard resumes after its checkpoint."""

from __future__ import annotations

from pathlib import Path

import pytest

from local.sample_data import SampleOptions
from tests.e2e.stack import ALL_BUT_SHARDS, HostProcess, Stack
from tests.helpers import eventually


@pytest.mark.parametrize(
    "stack_options", [{"functions": ALL_BUT_SHARDS, "SHARD_SIZE": "100000", "AC_SEND_CONCURRENCY": "1"}]
)
async def test_a_worker_killed_mid_shard_resumes_and_sends_each_contact_once(stack: Stack, tmp_path: Path) -> None:
    await stack.connect()
    await stack.create_export("crash")
    _, answer = await stack.write_sample(SampleOptions(profiles=2000, seed=13, partitions=1))  # one shard, 8 batches
    stack.emulator.patch_config(stall_bulk_after=3)  # the 4th bulk import hangs, unanswered and not applied
    first = HostProcess(stack.settings, tmp_path, ["shard_worker"]).start()
    second: HostProcess | None = None
    try:
        run_id = await stack.start_run("crash")

        async def hanging() -> bool:
            return bool((await stack.inspect("faults"))["stalled"])

        await eventually(hanging, timeout=60)
        first.kill()  # like a crashed instance: no clean-up, its leases lapse by themselves

        async def dropped() -> bool:  # the emulator saw the connection die: that import was never applied
            return not (await stack.inspect("faults"))["stalled"]

        await eventually(dropped, timeout=10)
        stack.emulator.patch_config(stall_bulk_after=None)
        second = HostProcess(stack.settings, tmp_path, ["shard_worker"]).start()
        run = await stack.wait_run("crash", run_id, timeout=120)
    finally:
        first.kill()
        if second is not None:
            second.stop()
    assert run["status"] == "Succeeded", run
    assert set(stack.members()) == answer.expected_set()
    writes = stack.emulator.state.write_counts()
    assert set(writes) == answer.expected_set()
    assert max(writes.values()) == 1  # the three checkpointed batches were not sent again
    assert run["counts"]["confirmed"] == answer.expected_unique
