"""An export's whole life: ids, not names; state that belongs to a target; decisions made once per snapshot.

Each test would fail if state or history followed the export's name, or if a Skipped run were planned again
for the same snapshot on every timer tick.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from local.activecampaign_emulator import EmulatorServer
from local.sample_data import Sample, SampleOptions, mutate
from tests.e2e.stack import Stack, emulator_config

MIRROR = {"syncMode": "mirror", "leaverAction": "unsubscribe"}


@pytest.fixture
async def other() -> AsyncIterator[EmulatorServer]:
    """A second emulated ActiveCampaign account (its own contacts, lists and budget)."""
    async with EmulatorServer(emulator_config()) as server:
        yield server


@pytest.fixture
def stack_options(other: EmulatorServer) -> dict[str, Any]:
    return {"AC_ALLOWED_LOCAL_HOSTS": host_of(other)}


def host_of(emulator: EmulatorServer) -> str:
    return emulator.url.removeprefix("http://")


async def connect(stack: Stack, name: str, emulator: EmulatorServer) -> None:
    await stack.api.put_connection(
        name, hostname=host_of(emulator), api_key=emulator.api_key, usable_by="admins-and-contributors"
    )


def members(emulator: EmulatorServer, list_id: int = 1) -> dict[str, int]:
    return emulator.state.list_members(list_id)


def subscribed(emulator: EmulatorServer, list_id: int = 1) -> set[str]:
    return {e for e, s in members(emulator, list_id).items() if s == 1}


async def runs_of(stack: Stack, export: str) -> list[dict[str, Any]]:
    return await stack.api.runs(export)


async def test_moving_an_export_to_another_account_sends_everyone_there(stack: Stack, other: EmulatorServer) -> None:
    await stack.connect("first")
    await connect(stack, "second", other)
    await stack.create_export("moving", connection="first")
    _, answer = await stack.write_sample(SampleOptions(profiles=900, seed=81, partitions=1))
    assert (await stack.run("moving"))["status"] == "Succeeded"
    assert subscribed(stack.emulator) == answer.expected_set()

    await stack.create_export("moving", connection="second")  # the same export, moved to another account
    moved = await stack.run("moving")

    assert moved["status"] == "Succeeded", moved
    assert moved["counts"]["sent"] == answer.expected_unique and moved["counts"]["unchanged"] == 0
    assert subscribed(other) == answer.expected_set()  # the new account's list is full, not empty


async def test_mirror_mode_never_removes_anyone_from_a_list_the_export_never_wrote_to(
    stack: Stack, other: EmulatorServer
) -> None:
    await stack.connect("first")
    await connect(stack, "second", other)
    await stack.create_export("mirrored", connection="first", **MIRROR)
    sample, _ = await stack.write_sample(SampleOptions(profiles=800, seed=82, partitions=1))
    assert (await stack.run("mirrored"))["status"] == "Succeeded"
    # people subscribed in the second account by someone else, who then leave our segment
    change = mutate(sample, seed=8, change_rate=0.0, add_rate=0.0, remove_rate=0.05)
    for email in change.removed:
        other.state.seed_contact(email, lists={1: 1})
    before_first = members(stack.emulator)
    await stack.write_sample(change.sample)

    await stack.create_export("mirrored", connection="second", **MIRROR)
    moved = await stack.run("mirrored", force=True)

    assert moved["status"] == "Succeeded", moved
    assert moved["counts"]["toRemove"] == 0 and moved["counts"]["removed"] == 0
    assert {e: s for e, s in members(other).items() if e in change.removed} == dict.fromkeys(change.removed, 1)
    assert members(stack.emulator) == before_first  # the old account is left alone too


async def test_moving_to_another_list_of_the_same_account_sends_everyone(stack: Stack) -> None:
    stack.emulator.state.add_list("Second list", list_id=2)
    await stack.connect()
    await stack.create_export("relisted", **MIRROR)
    sample, answer = await stack.write_sample(SampleOptions(profiles=700, seed=83, partitions=1))
    assert (await stack.run("relisted"))["status"] == "Succeeded"
    change = mutate(sample, seed=9, change_rate=0.0, add_rate=0.0, remove_rate=0.05)
    await stack.write_sample(change.sample)

    await stack.create_export("relisted", listId=2, **MIRROR)
    run = await stack.run("relisted")

    assert run["status"] == "Succeeded", run
    assert subscribed(stack.emulator, 2) == answer.expected_set() - set(change.removed)
    assert run["counts"]["removed"] == 0 and subscribed(stack.emulator, 1) == answer.expected_set()


async def test_editing_the_connections_hostname_is_a_move_for_its_exports(stack: Stack, other: EmulatorServer) -> None:
    await stack.connect("conn")
    await stack.create_export("rehosted", connection="conn")
    _, answer = await stack.write_sample(SampleOptions(profiles=600, seed=84, partitions=1))
    assert (await stack.run("rehosted"))["status"] == "Succeeded"

    await connect(stack, "conn", other)  # the same connection, now pointing at another account
    run = await stack.run("rehosted")

    assert run["status"] == "Succeeded", run
    assert run["counts"]["sent"] == answer.expected_unique
    assert subscribed(other) == answer.expected_set()


async def test_moving_back_to_an_earlier_target_sends_everyone_again(stack: Stack, other: EmulatorServer) -> None:
    await stack.connect("first")
    await connect(stack, "second", other)
    await stack.create_export("roundtrip", connection="first")
    _, answer = await stack.write_sample(SampleOptions(profiles=500, seed=85, partitions=1))
    for connection in ("first", "second", "first"):
        await stack.create_export("roundtrip", connection=connection)
        run = await stack.run("roundtrip")
        assert run["status"] == "Succeeded" and run["counts"]["sent"] == answer.expected_unique, run
    assert all(n == 2 for n in stack.emulator.state.write_counts().values())  # A was written twice, in full


async def test_a_recreated_export_with_a_reused_name_starts_from_nothing(stack: Stack) -> None:
    await stack.connect()
    await stack.create_export("reborn", **MIRROR)
    sample, answer = await stack.write_sample(SampleOptions(profiles=600, seed=86, partitions=1))
    first = await stack.run("reborn")
    assert first["status"] == "Succeeded"
    status, _ = await stack.call("DELETE", "/exports/reborn")
    assert status == 200

    await stack.create_export("reborn", **MIRROR)
    change = mutate(sample, seed=10, change_rate=0.0, add_rate=0.0, remove_rate=0.05)
    await stack.write_sample(change.sample)
    again = await stack.run("reborn")

    assert again["status"] == "Succeeded", again
    assert again["counts"]["sent"] == len(answer.expected_set() - set(change.removed))  # everyone, nothing inherited
    assert again["counts"]["toRemove"] == 0  # the old export's state is not the new one's
    assert again["exportId"] != first["exportId"]
    assert [r["id"] for r in await runs_of(stack, "reborn")] == [again["id"]]  # nor its history


async def fire_timer(stack: Stack) -> None:
    await stack.host.run_function("refresh_timer")


async def settle(stack: Stack, export: str) -> list[dict[str, Any]]:
    """Every run of `export`, once none is in flight."""
    for run in await runs_of(stack, export):
        await stack.wait_run(export, run["id"])
    return await runs_of(stack, export)


async def test_a_tripped_guard_is_decided_once_per_snapshot(stack: Stack) -> None:
    await stack.connect()
    await stack.create_export("guarded", schedule="refresh", **MIRROR)
    sample, _ = await stack.write_sample(SampleOptions(profiles=600, seed=87, partitions=1))
    await fire_timer(stack)
    [first] = await settle(stack, "guarded")
    assert first["status"] == "Succeeded", first
    change = mutate(sample, seed=11, change_rate=0.0, add_rate=0.0, remove_rate=0.25)
    await stack.write_sample(change.sample)
    requests_before = len(stack.emulator.state.batches)

    for _ in range(4):  # timer ticks over the same snapshot
        await fire_timer(stack)
        await settle(stack, "guarded")

    runs = await runs_of(stack, "guarded")
    assert [r["status"] for r in runs] == ["Skipped", "Succeeded"], runs
    assert "mass-removal guard" in (runs[0]["reason"] or "")
    assert len(stack.emulator.state.batches) == requests_before

    forced = await stack.run("guarded", force=True)  # someone forces it: the guard is passed
    assert forced["status"] == "Succeeded" and forced["counts"]["removed"] == len(change.removed)
    await fire_timer(stack)
    assert len(await settle(stack, "guarded")) == 3  # and the timer still waits for a new snapshot

    await stack.write_sample(Sample(change.sample.options, change.sample.table, next_id=0, key="again"))
    await fire_timer(stack)
    assert len(await settle(stack, "guarded")) == 4  # a new snapshot is planned again


async def test_an_empty_snapshot_is_decided_once(stack: Stack) -> None:
    await stack.connect()
    await stack.create_export("emptied", schedule="refresh", **MIRROR)
    sample, _ = await stack.write_sample(SampleOptions(profiles=300, seed=88, partitions=1))
    await fire_timer(stack)
    await settle(stack, "emptied")
    await stack.write_sample(Sample(sample.options, sample.table.slice(0, 0), next_id=sample.next_id, key="none"))

    for _ in range(3):
        await fire_timer(stack)
        await settle(stack, "emptied")

    statuses = [r["status"] for r in await runs_of(stack, "emptied")]
    assert statuses == ["Skipped", "Succeeded"], statuses
