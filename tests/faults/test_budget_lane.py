"""Every call to an AC account stays inside the account's budget, whichever process makes it.

Another process holds the account's lane and spends the lane's whole general budget (tests/lane_holder.py,
through the product's own Services, lane and client).  Meanwhile, in the stand-in host:
- the API saves exports and a connection (list, /fields and key checks, a person waiting): they run as
  guests, at the share of the budget the lane leaves free, without waiting for the lane;
- a run is started: its planner waits for the lane (its message goes back to the queue, delayed), calls AC
  only once the other process has left it, and the run then completes.
Each with zero rate-limit answers from the emulator, at AC's limits x10 with the same budget in the product.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from local.azurite import REPO_ROOT
from local.sample_data import SampleOptions
from tests.e2e.stack import Stack, emulator_config
from tests.faults.checks import write_sample
from tests.helpers import eventually
from tests.leakprobe import child_command

SCALED = {
    "config": emulator_config(rate_scale=10.0),
    "AC_RATE_PER_SECOND": "50",
    "AC_BULK_PER_MINUTE": "1000",
    "AC_BULK_SINGLE_PER_MINUTE": "200",
}
FIELDS = 300  # three pages of /fields for every export saved
HOLDER_CALLS = "GET /users/me"


async def route_count(stack: Stack, route: str) -> int:
    return sum((await stack.inspect("requests"))["counts"].get(route, {}).values())


@asynccontextmanager
async def lane_held_elsewhere(stack: Stack, tmp_path: Path) -> AsyncIterator[Path]:
    """A child process holding the account's lane, spending its budget, until the block ends."""
    workdir = tmp_path / "holder"
    workdir.mkdir()
    settings_file = tmp_path / "holder-settings.json"
    settings_file.write_text(json.dumps(stack.settings))
    hostname = stack.emulator.url.removeprefix("http://")
    args = child_command("tests.lane_holder", str(settings_file), hostname, stack.emulator.api_key, str(workdir))
    log = (tmp_path / "holder.log").open("wb")
    process = subprocess.Popen(args, cwd=str(REPO_ROOT), stdout=log, stderr=subprocess.STDOUT)
    try:
        yield workdir
    finally:
        (workdir / "stop").touch()
        try:
            await asyncio.to_thread(process.wait, timeout=30)  # the emulator answers on this loop meanwhile
        finally:
            if process.poll() is None:
                process.kill()


@pytest.mark.parametrize("stack_options", [SCALED])
async def test_api_checks_while_another_process_holds_the_lane_stay_inside_the_budget(
    stack: Stack, tmp_path: Path
) -> None:
    for i in range(FIELDS):
        stack.emulator.state.add_field(f"Field {i}", "text")
    await stack.connect()
    body = {
        "connection": "ac",
        "listId": 1,
        "segments": ["ActiveCustomers"],
        "mapping": {"email": "Email", "customFields": [{"attribute": "Tier", "field": "Field 7"}]},
        "schedule": "manual",
    }
    async with lane_held_elsewhere(stack, tmp_path) as holder:
        await eventually(lambda: (holder / "holding").exists(), timeout=60)
        calls_before = await route_count(stack, HOLDER_CALLS)
        saves = [stack.api.put_export(f"guest-{i}", body) for i in range(12)]  # 12 x (list + 3 pages of /fields)
        saved = await asyncio.gather(*saves, stack.connect("second"))
        held = await route_count(stack, HOLDER_CALLS) - calls_before
        assert not (holder / "left").exists()  # the lane was held the whole time: the API never waited for it

    requests = await stack.inspect("requests")
    assert requests["rate_limited"] == []  # zero 429s: lane and guests together stay inside the account's budget
    assert len(saved) == 13
    assert await route_count(stack, "GET /fields") == 12 * 3  # each page asked once: nothing was retried
    assert held > 0  # the other process kept spending its share meanwhile


@pytest.mark.parametrize("stack_options", [SCALED])
async def test_a_planner_waits_for_the_lane_held_elsewhere_and_the_account_stays_inside_its_budget(
    stack: Stack, tmp_path: Path
) -> None:
    await stack.connect()
    await stack.create_export("queued")
    _, answer = await write_sample(stack, SampleOptions(profiles=1500, seed=95, partitions=1))
    list_checks = await route_count(stack, "GET /lists/{id}")  # saving the export checked the list once
    async with lane_held_elsewhere(stack, tmp_path) as holder:
        await eventually(lambda: (holder / "holding").exists(), timeout=60)
        run_id = await stack.start_run("queued")
        calls = await route_count(stack, HOLDER_CALLS)
        # while the other process spends a few seconds' worth of the lane's budget, the planner keeps away
        await eventually(lambda: route_count_at_least(stack, HOLDER_CALLS, calls + 150), timeout=60)
        run = await stack.api.get_run("queued", run_id)
        assert run["status"] == "Queued", run
        assert await route_count(stack, "GET /lists/{id}") == list_checks  # the planner has not called AC
    run = await stack.wait_run("queued", run_id, timeout=90)  # the lane is free: it plans and sends

    assert run["status"] == "Succeeded", run
    assert run["counts"]["confirmed"] == answer.expected_unique
    assert (await stack.inspect("requests"))["rate_limited"] == []


async def route_count_at_least(stack: Stack, route: str, n: int) -> bool:
    return await route_count(stack, route) >= n
