"""Fault injection: seeded 5xx, storms with a counting-down Retry-After, resets, latency, revoked keys and
bulk imports that stall after N until released, and bulk imports applied whose answer is held until released."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest

from local.activecampaign_emulator import EmulatorServer, ManualClock
from tests.emulator.conftest import KEY, OTHER_KEY, Client, people
from tests.helpers import eventually


async def _statuses(client: Client, n: int) -> list[int]:
    return [(await client.get("/api/3/users/me")).status for _ in range(n)]


async def test_503_probability_is_reproducible_with_a_seed(client: Client, emu: EmulatorServer) -> None:
    emu.patch_config(error_503_probability=0.5, fault_seed=7)
    first = await _statuses(client, 40)
    assert set(first) == {200, 503}
    emu.patch_config(fault_seed=7)  # re-seeding restarts the same sequence
    assert await _statuses(client, 40) == first
    counts = (await client.inspect("requests"))["counts"]["GET /users/me"]
    assert counts == {"200": first.count(200) * 2, "503": first.count(503) * 2}


async def test_5xx_can_be_limited_to_some_routes(client: Client, emu: EmulatorServer) -> None:
    emu.patch_config(error_500_probability=1.0, fault_routes=["GET /import"])
    assert (await client.get("/api/3/users/me")).status == 200
    assert (await client.get("/api/3/import/info?batchId=x")).status == 500
    emu.patch_config(error_500_probability=0.0, error_502_probability=1.0, fault_routes=[])
    bad_gateway = await client.get("/api/3/users/me")
    assert bad_gateway.status == 502
    assert bad_gateway.headers["Content-Type"].startswith("text/plain")


async def test_429_storm_counts_retry_after_down(client: Client, emu: EmulatorServer, clock: ManualClock) -> None:
    emu.patch_config(storm_kind="429", storm_start_after_s=2.0, storm_duration_s=10.0)
    assert (await client.get("/api/3/lists")).status == 200
    seen = []
    for step in (2.0, 3.5, 6.4):
        clock.advance(step)
        reply = await client.get("/api/3/lists")
        seen.append((reply.status, reply.headers.get("Retry-After")))
    assert seen == [(429, "10"), (429, "7"), (429, "1")]
    clock.advance(0.1)
    assert (await client.get("/api/3/lists")).status == 200
    storm_entries = [e for e in (await client.inspect("requests"))["rate_limited"] if e["kind"] == "storm"]
    assert [e["retry_after"] for e in storm_entries] == [10, 7, 1]


async def test_503_storm_and_its_optional_retry_after(client: Client, emu: EmulatorServer, clock: ManualClock) -> None:
    emu.patch_config(storm_kind="503", storm_duration_s=5.0)
    reply = await client.bulk(people(2))
    assert reply.status == 503
    assert "Retry-After" not in reply.headers
    emu.patch_config(storm_503_retry_after=True, storm_duration_s=5.0)
    clock.advance(1.5)
    assert (await client.get("/api/3/lists")).headers["Retry-After"] == "4"
    assert emu.state.contact_count == 0


async def test_connection_reset_before_handling_loses_the_request(client: Client, emu: EmulatorServer) -> None:
    emu.patch_config(reset_probability=1.0)
    with pytest.raises(aiohttp.ClientError):
        await client.bulk(people(2))
    assert emu.state.contact_count == 0
    emu.patch_config(reset_probability=0.0)
    assert (await client.get("/api/3/users/me")).status == 200
    counts = (await client.inspect("requests"))["counts"]
    assert counts["POST /import/bulk_import"] == {"0": 1}


async def test_connection_reset_after_handling_applies_but_loses_the_answer(
    client: Client, emu: EmulatorServer
) -> None:
    emu.patch_config(reset_probability=1.0, reset_phase="after", fault_routes=["POST /import/bulk_import"])
    with pytest.raises(aiohttp.ClientError):
        await client.bulk(people(2))
    assert emu.state.write_count("person0@example.com") == 1
    assert (await client.get("/api/3/users/me")).status == 200


async def test_latency_only_on_chosen_routes(client: Client, emu: EmulatorServer) -> None:
    emu.patch_config(latency_ms=60_000, latency_routes=["/import/info"])
    assert (await client.get("/api/3/users/me")).status == 200
    with pytest.raises(asyncio.TimeoutError):
        await asyncio.wait_for(client.get("/api/3/import/info?batchId=x"), timeout=0.5)


async def test_revoked_key_gets_403_at_once(client: Client, emu: EmulatorServer) -> None:
    await client.inspect("config", {"revoked_keys": [OTHER_KEY]})
    assert (await client.get("/api/3/users/me", key=OTHER_KEY)).status == 403
    assert (await client.get("/api/3/users/me", key=KEY)).status == 200
    emu.patch_config(forbidden_body="")
    empty = await client.get("/api/3/users/me", key=OTHER_KEY)
    assert (empty.status, empty.text, empty.headers.get("Content-Type")) == (403, "", None)


async def _stalled(client: Client) -> int:
    return int((await client.inspect("faults"))["stalled"])


async def test_stall_after_n_hangs_until_released(client: Client, emu: EmulatorServer) -> None:
    emu.patch_config(stall_bulk_after=1)
    assert (await client.bulk(people(2))).status == 200
    hung = asyncio.create_task(client.bulk(people(2, start=10)))

    async def one_stalled() -> bool:
        return await _stalled(client) == 1

    await eventually(one_stalled)
    assert not hung.done()
    assert emu.state.contact("person10@example.com") is None  # not applied while it hangs
    emu.patch_config(stall_bulk_after=None)
    reply = await hung
    assert reply.status == 200
    assert emu.state.write_count("person10@example.com") == 1


async def test_stalled_import_whose_client_went_away_is_never_applied(emu: EmulatorServer) -> None:
    emu.patch_config(stall_bulk_after=0)
    async with aiohttp.ClientSession() as session:
        hung = asyncio.create_task(
            session.post(
                f"{emu.url}/api/3/import/bulk_import", json={"contacts": people(2)}, headers={"Api-Token": KEY}
            )
        )
        await eventually(lambda: emu.emulator.faults.stalled == 1)
        hung.cancel()  # the worker dies: its connection closes
        with pytest.raises(asyncio.CancelledError):
            await hung
    await eventually(lambda: emu.emulator.faults.stalled == 0)
    emu.patch_config(stall_bulk_after=None)
    await asyncio.sleep(0)
    assert emu.state.contact_count == 0
    assert emu.state.batches == {}


async def _held(client: Client) -> int:
    return int((await client.inspect("faults"))["held"])


async def test_hold_after_n_applies_the_import_and_answers_only_when_released(
    client: Client, emu: EmulatorServer
) -> None:
    emu.patch_config(hold_bulk_answer_after=1)
    assert (await client.bulk(people(2))).status == 200
    held = asyncio.create_task(client.bulk(people(2, start=10)))

    async def one_held() -> bool:
        return await _held(client) == 1

    await eventually(one_held)
    assert not held.done()
    assert emu.state.write_count("person10@example.com") == 1  # applied while its answer is held
    faults = await client.inspect("faults")
    assert len(faults["held_batches"]) == 1
    assert faults["held_batches"][0] in emu.state.batches
    emu.patch_config(hold_bulk_answer_after=None)
    reply = await held
    assert reply.status == 200
    assert reply.body["batchId"] == faults["held_batches"][0]
    assert emu.state.write_count("person10@example.com") == 1


async def test_held_import_whose_client_went_away_stays_applied(emu: EmulatorServer) -> None:
    emu.patch_config(hold_bulk_answer_after=0)
    async with aiohttp.ClientSession() as session:
        held = asyncio.create_task(
            session.post(
                f"{emu.url}/api/3/import/bulk_import", json={"contacts": people(2)}, headers={"Api-Token": KEY}
            )
        )
        await eventually(lambda: emu.emulator.faults.held == 1)
        held.cancel()  # the worker dies: its connection closes, the answer is never read
        with pytest.raises(asyncio.CancelledError):
            await held
    await eventually(lambda: emu.emulator.faults.held == 0)
    assert emu.state.contact_count == 2
    assert list(emu.state.batches) == emu.emulator.faults.held_batches
