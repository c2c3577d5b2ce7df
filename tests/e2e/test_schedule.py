"""The scheduled refresh over an export's life: cron waits for its schedule, stuck runs end whatever the export's
state, a snapshot whose leavers were not all removed is retried, and an unreadable message fails its run."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from azure.storage.queue import TextBase64EncodePolicy
from azure.storage.queue.aio import QueueClient

import function_app
from local.host import index_app
from local.sample_data import SampleOptions, mutate
from shared.config import Settings
from shared.names import SHARD_QUEUE
from shared.pipeline.messages import RunMessage
from shared.pipeline.schedule import RETRY_S, STALE_AFTER, scheduled_refresh
from shared.services import Services
from tests.e2e.stack import Stack

MIRROR = {"syncMode": "mirror", "leaverAction": "unsubscribe"}
ALL_BUT_PLANNER = [spec.name for spec in index_app(function_app.app) if spec.name != "planner"]


@pytest.fixture
async def services(stack: Stack) -> AsyncIterator[Services]:
    """The product's services on the stack's settings, to call the scheduled refresh at a chosen time."""
    built = await Services(Settings.from_env(stack.settings)).ready()
    try:
        yield built
    finally:
        await built.close()


async def started(services: Services, now: datetime) -> list[str]:
    """The exports the scheduled refresh starts at `now` (their run messages are not sent)."""
    return [RunMessage.parse(m).export for m in await scheduled_refresh(services, now=now)]


async def test_a_cron_exports_first_run_waits_for_its_schedule(stack: Stack, services: Services) -> None:
    await stack.connect()
    saved = datetime.now(UTC)
    await stack.create_export("nightly", schedule=f"0 {(saved.hour + 2) % 24} * * *")
    await stack.write_sample(SampleOptions(profiles=50, seed=91, partitions=1))

    assert await started(services, saved + timedelta(minutes=1)) == []  # saved after the last fire time
    fire = (saved + timedelta(hours=2)).replace(minute=0, second=5, microsecond=0)
    assert await started(services, fire) == ["nightly"]


async def test_a_stuck_run_of_a_disabled_export_is_ended(stack: Stack, services: Services) -> None:
    await stack.restart_host(ALL_BUT_PLANNER)  # nobody plans: the run stays Queued
    await stack.connect()
    await stack.create_export("paused", enabled=False)
    run_id = await stack.start_run("paused")

    assert await started(services, datetime.now(UTC) + STALE_AFTER + timedelta(minutes=5)) == []

    run = await stack.api.get_run("paused", run_id)
    assert run["status"] == "Failed" and run["error"]["code"] == "stale_run", run


async def test_leavers_left_on_the_list_keep_the_snapshot_unsettled(stack: Stack, services: Services) -> None:
    await stack.connect()
    await stack.create_export("leaving", schedule="refresh", **MIRROR)
    sample, _ = await stack.write_sample(SampleOptions(profiles=400, seed=92, partitions=1))
    assert (await stack.run("leaving"))["status"] == "Succeeded"
    change = mutate(sample, seed=12, change_rate=0.0, add_rate=0.0, remove_rate=0.05)
    stuck = sorted(change.removed)[:3]
    stack.emulator.state.seed_exclusions(stuck)  # AC refuses to unsubscribe these three
    await stack.write_sample(change.sample)
    run = await stack.run("leaving")
    assert run["status"] == "PartiallySucceeded" and run["counts"]["removalRejected"] == 3, run
    ended = datetime.fromisoformat(run["timings"]["finishedAt"])

    assert await started(services, ended + timedelta(seconds=5)) == []  # not in a loop
    assert await started(services, ended + timedelta(seconds=RETRY_S + 5)) == ["leaving"]  # but retried


async def test_an_unreadable_message_is_poisoned_and_fails_its_run(stack: Stack) -> None:
    await stack.restart_host(ALL_BUT_PLANNER)
    await stack.connect()
    await stack.create_export("garbled")
    run_id = await stack.start_run("garbled")
    export_id = await stack.export_id("garbled")
    # a shard message of this run that no worker can read (no shard number): it must not vanish
    body = f'{{"exportId": "{export_id}", "export": "garbled", "runId": "{run_id}", "shard": "three"}}'
    queue = QueueClient.from_connection_string(
        stack.azurite.connection_string, SHARD_QUEUE, message_encode_policy=TextBase64EncodePolicy()
    )
    async with queue:
        await queue.send_message(body)

    run = await stack.wait_run("garbled", run_id, timeout=60)

    assert run["status"] == "Failed" and run["error"]["code"] == "message_unreadable", run
    assert "export-shards-poison" in run["error"]["message"]
