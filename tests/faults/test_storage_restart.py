"""Azurite (the app's storage: queues, checkpoints, leases, run documents) restarted while shards are sending."""

from __future__ import annotations

import asyncio

import pytest

from local.sample_data import SampleOptions
from tests.e2e.stack import Stack, emulator_config
from tests.faults.checks import assert_delivered, assert_values_match, assert_writes_explained, write_sample

# AC's real limits (5 requests/s) on both sides: the shards send for several seconds
PACED = {"AC_RATE_PER_SECOND": "5", "AC_BULK_PER_MINUTE": "100", "AC_BULK_SINGLE_PER_MINUTE": "20"}


@pytest.mark.parametrize("stack_options", [{"persistent": True, "config": emulator_config(rate_scale=1.0), **PACED}])
async def test_storage_restarted_mid_run_loses_nothing_and_counts_nothing_twice(stack: Stack) -> None:
    await stack.connect()
    await stack.create_export("restart")
    sample, answer = await write_sample(stack, SampleOptions(profiles=3000, seed=51, partitions=1))
    run_id = await stack.start_run("restart")

    await stack.imports_accepted(3)
    imports_at_restart = len(stack.emulator.state.batches)
    await asyncio.to_thread(stack.azurite.restart)  # same ports, same data on disk; every client sees it go
    run = await stack.wait_run("restart", run_id, timeout=120)

    assert len(stack.emulator.state.batches) > imports_at_restart  # storage went away mid-run
    assert_delivered(run, stack, answer)
    # an import accepted just before the restart may be sent again if its checkpoint could not be saved:
    # then it is an orphan, and its contacts hold the same values
    await assert_writes_explained(stack, "restart", run_id)
    assert_values_match(stack, sample)
