"""A worker process killed in the middle of a shard: the redelivered shard resumes after its checkpoint.

Two instants: a safe one (an import hangs before AC applies it: nothing is written twice) and the unsafe one
(AC applied the import, the worker dies before its answer arrives: only that import is written twice).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from local.sample_data import SampleOptions
from tests.e2e.stack import ALL_BUT_SHARDS, HostProcess, Stack
from tests.faults.checks import assert_delivered, assert_writes_explained, checkpointed_batches, write_sample
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


@pytest.mark.parametrize(
    "stack_options", [{"functions": ALL_BUT_SHARDS, "SHARD_SIZE": "100000", "AC_SEND_CONCURRENCY": "1"}]
)
async def test_a_worker_killed_after_ac_applied_an_import_and_before_its_checkpoint_writes_only_that_import_twice(
    stack: Stack, tmp_path: Path
) -> None:
    """The unsafe instant: AC applied the import, its answer (the batchId) never reached the worker, so no
    checkpoint holds it.  The resumed shard sends that import again and nothing else."""
    await stack.connect()
    await stack.create_export("unsafe")
    _, answer = await write_sample(stack, SampleOptions(profiles=2000, seed=14, partitions=1))  # one shard, 8 imports
    stack.emulator.patch_config(hold_bulk_answer_after=3)  # the 4th import is applied, then its answer is held
    first = HostProcess(stack.settings, tmp_path, ["shard_worker"]).start()
    try:
        run_id = await stack.start_run("unsafe")

        async def held() -> bool:
            return bool((await stack.inspect("faults"))["held"])

        await eventually(held, timeout=60)
        first.kill()  # mid-request: AC has the batch, the worker never learnt its id

        async def answer_dropped() -> bool:  # the emulator saw the connection die; the import stays applied
            return not await held()

        await eventually(answer_dropped, timeout=10)
        stack.emulator.patch_config(hold_bulk_answer_after=None)
        in_flight_id = (await stack.inspect("faults"))["held_batches"][-1]
        async with stack.workers():  # takes the shard over once the dead worker's message lease lapses
            run = await stack.wait_run("unsafe", run_id, timeout=120)
    finally:
        first.kill()

    assert in_flight_id not in await checkpointed_batches(stack, "unsafe", run_id)  # the kill was at the unsafe instant
    state = stack.emulator.state
    email_of = {contact.id: key for key, contact in state.by_email.items()}
    in_flight = {
        email_of[cid] for cid in [*state.batches[in_flight_id].new_ids, *state.batches[in_flight_id].updated_ids]
    }
    assert len(in_flight) == 250

    assert_delivered(run, stack, answer)  # nothing missing, nothing extra, each row counted once
    writes = state.write_counts()
    assert max(writes.values()) <= 2  # each contact written at most twice
    assert {email for email, n in writes.items() if n > 1} <= in_flight  # and only the in-flight import's twice
    await assert_writes_explained(stack, "unsafe", run_id)  # every second write is that orphan's
