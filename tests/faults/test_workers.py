"""Workers that die or run twice: a shard worker killed while it reconciles, a shard message delivered twice
at once, a bucket's planner killed while it writes shards.  Each run completes exactly once: no contact is sent
again after its checkpoint, and every row is counted once.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from azure.storage.blob.aio import ContainerClient
from azure.storage.queue import TextBase64EncodePolicy
from azure.storage.queue.aio import QueueClient

import function_app
from local.host import HostConfig, StandInHost
from local.sample_data import Oracle, SampleOptions
from shared.names import RUNS_CONTAINER, SHARD_QUEUE
from shared.pipeline.messages import ShardMessage
from tests.e2e.stack import ALL_BUT_SHARDS, FAST_QUEUES, HostProcess, Stack, emulator_config
from tests.faults.checks import assert_delivered, assert_writes_explained, checkpoints, write_sample
from tests.helpers import eventually

ONE_SHARD = {"SHARD_SIZE": "100000"}
ALL_BUT_BUCKETS = [name for name in [*ALL_BUT_SHARDS, "shard_worker"] if name != "plan_tasks"]


def imports(answer: Oracle) -> int:
    """Bulk imports needed for a one-shard run of this sample (250 contacts each)."""
    return math.ceil(answer.expected_unique / 250)


def worker_host(stack: Stack, functions: list[str]) -> StandInHost:
    return StandInHost(
        function_app.app,
        stack.settings,
        HostConfig(queues=FAST_QUEUES),
        functions=functions,
        enable_http=False,
        enable_timers=False,
    )


@pytest.mark.parametrize(
    "stack_options",
    # AC processes each import for 10 s (waiting, claimed, active): the worker is still reconciling when it dies
    [{"functions": ALL_BUT_SHARDS, "config": emulator_config(processing_delay_s=10.0), **ONE_SHARD}],
)
async def test_a_worker_killed_while_reconciling_resumes_without_sending_again(stack: Stack, tmp_path: Path) -> None:
    await stack.connect()
    await stack.create_export("reconciling")
    _, answer = await write_sample(stack, SampleOptions(profiles=2000, seed=41, partitions=1))  # 8 imports
    first = HostProcess(stack.settings, tmp_path, ["shard_worker"]).start()
    try:
        run_id = await stack.start_run("reconciling")

        async def all_checkpointed() -> bool:
            found = await checkpoints(stack, "reconciling", run_id)
            return 0 in found and sum(len(r.batch_ids) for r in found[0].batches.values()) >= imports(answer)

        await eventually(all_checkpointed, timeout=60)
        first.kill()  # every import accepted and checkpointed, none confirmed yet
    finally:
        first.kill()
    at_kill = (await checkpoints(stack, "reconciling", run_id))[0]
    assert not all(record.reconciled for record in at_kill.batches.values()), "killed too late"
    imports_at_kill = len(stack.emulator.state.batches)

    async with worker_host(stack, ["shard_worker"]):  # takes over once the dead worker's leases lapse
        run = await stack.wait_run("reconciling", run_id, timeout=90)

    assert_delivered(run, stack, answer)
    assert len(stack.emulator.state.batches) == imports_at_kill  # it only polled: nothing was sent again
    assert max(stack.emulator.state.write_counts().values()) == 1
    assert all(record.reconciled for record in (await checkpoints(stack, "reconciling", run_id))[0].batches.values())


@pytest.mark.parametrize("stack_options", [{**ONE_SHARD, "AC_SEND_CONCURRENCY": "1"}])
async def test_a_shard_message_delivered_twice_at_once_is_sent_once(stack: Stack) -> None:
    await stack.connect()
    await stack.create_export("twice")
    _, answer = await write_sample(stack, SampleOptions(profiles=2000, seed=42, partitions=1))  # 8 imports
    stack.emulator.patch_config({"stall_bulk_after": 2})  # the first delivery hangs on its 3rd import
    run_id = await stack.start_run("twice")

    async def hanging() -> bool:
        return bool((await stack.inspect("faults"))["stalled"])

    await eventually(hanging, timeout=30)
    copy = ShardMessage(
        export_id=await stack.export_id("twice"),
        export="twice",
        run_id=run_id,
        shard=0,
        account_host=stack.emulator.url.removeprefix("http://"),
    )
    queue = QueueClient.from_connection_string(
        stack.azurite.connection_string, SHARD_QUEUE, message_encode_policy=TextBase64EncodePolicy()
    )
    async with queue:
        await queue.send_message(copy.to_json())  # the same shard, delivered again while the first is mid-shard
    listener = stack.host.listeners["shard_worker"]
    await eventually(lambda: listener.max_active >= 2, timeout=30)  # both deliveries ran at the same time
    stack.emulator.patch_config({"stall_bulk_after": None})
    run = await stack.wait_run("twice", run_id, timeout=60)

    assert_delivered(run, stack, answer)
    assert len(stack.emulator.state.batches) == imports(answer)  # each import sent once
    assert max(stack.emulator.state.write_counts().values()) == 1
    assert run["shards"]["done"] == run["shards"]["total"] == 1


# 8 buckets of about 750 contacts, cut in 8 shard files each: the bucket planners spend long enough writing them
# that the kill lands mid-plan even on a loaded machine
@pytest.mark.parametrize(
    "stack_options", [{"functions": ALL_BUT_BUCKETS, "SHARD_SIZE": "100", "PLAN_ROWS_PER_BUCKET": "1000"}]
)
async def test_a_bucket_planner_killed_mid_plan_is_planned_again_and_the_run_completes_once(
    stack: Stack, tmp_path: Path
) -> None:
    await stack.connect()
    await stack.create_export("replanned")
    _, answer = await write_sample(stack, SampleOptions(profiles=6000, seed=43, partitions=2))
    first = HostProcess(stack.settings, tmp_path, ["plan_tasks"], lease_s=2).start()
    try:
        run_id = await stack.start_run("replanned")
        shards_prefix = await stack.run_path("replanned", run_id, "shards/")
        async with ContainerClient.from_connection_string(stack.azurite.connection_string, RUNS_CONTAINER) as runs:

            async def writing_shards() -> bool:
                return [b async for b in runs.list_blobs(name_starts_with=shards_prefix)] != []

            await eventually(writing_shards, timeout=60, interval=0.02)
            first.kill()
            written_at_kill = len([b async for b in runs.list_blobs(name_starts_with=shards_prefix)])
        planning = await stack.api.get_run("replanned", run_id)
        assert planning["status"] == "Planning", "the buckets were planned before the planner could be killed"
        assert planning["planning"]["buckets"] == 8, planning["planning"]
        assert planning["planning"]["bucketsDone"] < 8
        assert stack.emulator.state.batches == {}  # nothing queued, nothing sent
        async with worker_host(stack, ["plan_tasks"]):  # gets the bucket messages once their leases lapse
            run = await stack.wait_run("replanned", run_id, timeout=240)
    finally:
        first.kill()

    assert_delivered(run, stack, answer)
    # The kill lands after the first shard file and before the run left Planning: usually with part of the
    # shard files written, sometimes with all of them written but none queued. Both must replan to one delivery.
    assert 0 < written_at_kill <= run["shards"]["total"]
    assert run["shards"]["done"] == run["shards"]["total"]
    assert max(stack.emulator.state.write_counts().values()) == 1  # planned twice, sent once
    await assert_writes_explained(stack, "replanned", run_id)
