"""The export pipeline end to end: snapshot -> plan -> shards -> ActiveCampaign -> reconciled run.

Everything runs through function_app's real entry points in the stand-in host,
against Azurite and the AC emulator.
"""

from __future__ import annotations

import asyncio
import base64
import json
import math

import pyarrow.compute as pc
import pytest
from azure.storage.queue.aio import QueueClient

from local.sample_data import VALID, SampleOptions
from shared.names import SHARD_QUEUE
from shared.pipeline.run_watch import WATCH_MAX_AGE_S
from tests.e2e.stack import ALL_BUT_SHARDS, Stack, emulator_config
from tests.helpers import eventually

OUTCOMES = ("invalid", "duplicates", "unchanged", "optedOut", "confirmed", "rejected", "notSent")


def outcome_sum(counts: dict[str, int]) -> int:
    return sum(counts[k] for k in OUTCOMES)


async def test_a_segment_arrives_in_the_list_with_every_row_accounted_for(stack: Stack) -> None:
    await stack.connect()
    await stack.create_export("customers")
    _, answer = await stack.write_sample(SampleOptions(profiles=3000, seed=3, partitions=3))
    run = await stack.run("customers")
    assert run["status"] == "Succeeded", run
    counts = run["counts"]
    members = stack.members()
    assert set(members) == answer.expected_set()  # nothing missing, nothing extra
    assert set(members.values()) == {1}  # all subscribed
    assert counts["profilesRead"] == answer.rows
    assert counts["invalid"] == answer.invalid
    assert counts["duplicates"] == answer.duplicates
    assert counts["confirmed"] == counts["sent"] == answer.expected_unique
    assert outcome_sum(counts) == counts["profilesRead"]  # every row ends in exactly one outcome
    assert max(stack.emulator.state.write_counts().values()) == 1  # each contact written exactly once
    assert run["timings"]["durationS"] > 0 and run["timings"]["planningS"] is not None


async def test_ci_format_variety_header_less_csv_parquet_bom_and_quotes(stack: Stack) -> None:
    # two CSV partitions and one Parquet partition, header-less, with a BOM; the generator writes
    # names with quoted commas and newlines
    await stack.connect()
    await stack.create_export("variety")
    options = SampleOptions(profiles=1500, seed=11, partitions=3, parquet_partitions=1, bom=True, header=False)
    sample, answer = await stack.write_sample(options)
    run = await stack.run("variety")
    assert run["status"] == "Succeeded", run
    assert set(stack.members()) == answer.expected_set()
    rows = sample.table.filter(pc.equal(sample.table["_kind"], VALID)).select(["Email", "FirstName", "LastName"])
    tricky = [r for r in rows.to_pylist() if any(c in (r["LastName"] or "") + (r["FirstName"] or "") for c in ',"\n')]
    assert tricky  # the sample exercises CSV quoting
    for row in tricky:
        contact = stack.emulator.state.contact(row["Email"].strip().lower())
        assert contact is not None and (contact.first_name, contact.last_name) == (row["FirstName"], row["LastName"])


async def test_two_segments_with_overlapping_members_send_each_member_once(stack: Stack) -> None:
    await stack.connect()
    await stack.create_export("both", segments=["Loyal", "Recent"])
    options = SampleOptions(profiles=2000, seed=5, segments=("Loyal", "Recent"), partitions=2, duplicate_rate=0.05)
    _, answer = await stack.write_sample(options)
    run = await stack.run("both")
    assert run["status"] == "Succeeded", run
    assert set(stack.members()) == answer.expected_set()
    assert run["counts"]["duplicates"] == answer.duplicates > 0
    assert max(stack.emulator.state.write_counts().values()) == 1
    report = await stack.report("both", run["id"])
    assert sum(1 for r in report if r["outcome"] == "duplicate") == answer.duplicates
    assert sum(1 for r in report if r["outcome"] == "invalid") == answer.invalid


@pytest.mark.parametrize(
    "stack_options",
    # AC's limits x2 (10 rps, 200 bulk/min) in the emulator, and the same budget for the client
    [
        {
            "config": emulator_config(rate_scale=2.0),
            "AC_RATE_PER_SECOND": "10",
            "AC_BULK_PER_MINUTE": "200",
            "AC_BULK_SINGLE_PER_MINUTE": "40",
            "SHARD_SIZE": "500",
        }
    ],
)
async def test_two_exports_to_one_account_stay_inside_its_budget(stack: Stack) -> None:
    await stack.connect()
    await stack.create_export("first", segments=["A"])
    await stack.create_export("second", segments=["B"])
    _, answer = await stack.write_sample(SampleOptions(profiles=4000, seed=8, segments=("A", "B"), partitions=1))
    first, second = await asyncio.gather(stack.start_run("first"), stack.start_run("second"))
    runs = await asyncio.gather(stack.wait_run("first", first, 120), stack.wait_run("second", second, 120))
    assert [r["status"] for r in runs] == ["Succeeded", "Succeeded"], runs
    assert set(stack.members()) == answer.expected_set()
    requests = await stack.inspect("requests")
    assert requests["rate_limited"] == []  # zero 429 or "Rate limit exceeded." answers
    bulk = (await stack.inspect("budgets"))["accepted_bulk_multi"]
    assert 0 < bulk["count"] <= bulk["allowed"]  # never above what the account's bucket allowed


async def test_a_duplicated_shard_message_is_harmless(stack: Stack) -> None:
    await stack.restart_host(ALL_BUT_SHARDS)  # without the shard worker, so the shard messages wait in the queue
    await stack.connect()
    await stack.create_export("dup")
    _, answer = await stack.write_sample(SampleOptions(profiles=1200, seed=9, partitions=1))
    run_id = await stack.start_run("dup")
    async with QueueClient.from_connection_string(stack.azurite.connection_string, SHARD_QUEUE) as queue:

        async def queued() -> bool:
            return (await queue.get_queue_properties()).approximate_message_count >= 3

        await eventually(queued, timeout=30)
        messages = await queue.peek_messages(max_messages=32)
        for message in messages:  # every shard message, twice
            await queue.send_message(message.content)
    async with stack.workers():
        run = await stack.wait_run("dup", run_id, 90)
    assert run["status"] == "Succeeded", run
    assert run["counts"]["confirmed"] == answer.expected_unique  # counted once, not twice
    assert run["shards"]["done"] == run["shards"]["total"]
    assert set(stack.members()) == answer.expected_set()
    assert max(stack.emulator.state.write_counts().values()) == 1


@pytest.mark.parametrize(
    "stack_options", [{"config": emulator_config(latency_ms=40.0), "SHARD_SIZE": "100000", "AC_SEND_CONCURRENCY": "1"}]
)
async def test_cancel_stops_sending_within_a_quarter_second_of_batches(stack: Stack) -> None:
    await stack.connect()
    await stack.create_export("slow")
    await stack.write_sample(SampleOptions(profiles=8000, seed=4, partitions=1))
    run_id = await stack.start_run("slow")
    state = stack.emulator.state
    await stack.imports_accepted(3)
    status, body = await stack.call("POST", f"/exports/slow/runs/{run_id}/cancel")
    assert status == 202, body
    at_cancel = len(state.batches)
    run = await stack.wait_run("slow", run_id, 60)
    assert run["status"] == "Canceled", run
    # one request at a time, each taking at least 40 ms: the batch in flight, and those started in the quarter
    # second a shard may still trust its last read of the run record (shared/pipeline/run_watch.py RunWatch)
    assert len(state.batches) - at_cancel <= 1 + math.ceil(WATCH_MAX_AGE_S / 0.040)
    counts = run["counts"]
    assert counts["notSent"] > 0
    assert outcome_sum(counts) == counts["profilesRead"]
    assert counts["confirmed"] == len(stack.members())  # what went is recorded; the rest goes next run


async def test_a_refresh_export_with_an_unchanged_snapshot_does_not_run_again(stack: Stack) -> None:
    await stack.connect()
    await stack.create_export("auto", schedule="refresh")
    await stack.write_sample(SampleOptions(profiles=500, seed=2, partitions=1))
    assert await stack.host.run_function("refresh_timer")

    async def one_finished_run() -> bool:
        _, runs = await stack.call("GET", "/exports/auto/runs")
        return len(runs["items"]) == 1 and runs["items"][0]["status"] == "Succeeded"

    await eventually(one_finished_run, timeout=60)
    assert await stack.host.run_function("refresh_timer")  # the next tick: nothing new
    await asyncio.sleep(1.0)
    _, runs = await stack.call("GET", "/exports/auto/runs")
    assert len(runs["items"]) == 1


@pytest.mark.parametrize(
    "stack_options", [{"config": emulator_config(latency_ms=30.0), "SHARD_SIZE": "500", "AC_SEND_CONCURRENCY": "1"}]
)
async def test_an_api_key_revoked_mid_run_fails_the_run_without_hammering(stack: Stack) -> None:
    await stack.connect()
    await stack.create_export("revoked")
    await stack.write_sample(SampleOptions(profiles=6000, seed=6, partitions=1))
    run_id = await stack.start_run("revoked")

    await stack.imports_accepted(2)
    stack.emulator.patch_config(revoked_keys=[stack.emulator.api_key])
    run = await stack.wait_run("revoked", run_id, 60)
    assert run["status"] == "Failed", run
    assert "refused the API key" in run["error"]["message"]
    assert stack.emulator.api_key not in str(run)
    arrivals = (await stack.inspect("arrivals"))["arrivals"]
    forbidden = [a["t"] for a in arrivals if a["status"] == 403]
    # no hammering: only requests already in flight (a send and its polls per running shard) met the 403,
    # and nothing was sent once the run knew
    assert 0 < len(forbidden) <= 24
    assert max(forbidden) - min(forbidden) < 5.0
    assert not [a for a in arrivals if a["t"] > max(forbidden) + 0.5]  # then AC heard nothing more
    assert outcome_sum(run["counts"]) == run["counts"]["profilesRead"]


async def test_a_poisoned_shard_fails_the_run_naming_the_shard(stack: Stack) -> None:
    await stack.restart_host(ALL_BUT_SHARDS)
    await stack.connect()
    await stack.create_export("poisoned")
    await stack.write_sample(SampleOptions(profiles=1200, seed=7, partitions=1))
    run_id = await stack.start_run("poisoned")

    async def planned() -> bool:
        _, body = await stack.call("GET", f"/exports/poisoned/runs/{run_id}")
        return body["status"] == "Sending"

    await eventually(planned, timeout=30)
    async with stack.container("runs") as runs:  # shard 1's file is damaged: every attempt fails
        path = await stack.run_path("poisoned", run_id, "shards/b0000-00001.arrow")
        await runs.upload_blob(path, b"not an arrow file", overwrite=True)
    async with stack.workers():
        run = await stack.wait_run("poisoned", run_id, 90)
    assert run["status"] == "Failed", run
    assert "shard 1" in run["error"]["message"] and "poison" in run["error"]["message"]
    assert run["shards"]["failed"] == [1]
    counts = run["counts"]
    assert outcome_sum(counts) == counts["profilesRead"]
    assert counts["notSent"] == run["shards"]["sizes"][1]


@pytest.mark.parametrize("stack_options", [{"config": emulator_config(latency_ms=25.0), "SHARD_SIZE": "300"}])
async def test_run_status_shows_counts_and_timings_in_flight_and_after(stack: Stack) -> None:
    await stack.connect()
    await stack.create_export("watched")
    await stack.write_sample(SampleOptions(profiles=3000, seed=12, partitions=1))
    run_id = await stack.start_run("watched")
    seen: set[str] = set()
    while True:
        status, body = await stack.call("GET", f"/exports/watched/runs/{run_id}")
        assert status == 200
        seen.add(body["status"])
        assert {"counts", "timings", "shards"} <= set(body)
        if body["status"] == "Sending":
            assert body["counts"]["toSend"] > 0 and body["timings"]["plannedAt"]
        if body["status"] in ("Succeeded", "Failed", "PartiallySucceeded"):
            break
        await asyncio.sleep(0.05)
    assert "Sending" in seen
    assert body["timings"]["finishedAt"] and body["timings"]["durationS"] > 0
    _, listing = await stack.call("GET", "/exports/watched/runs")
    assert [r["id"] for r in listing["items"]] == [run_id]


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


@pytest.mark.parametrize(
    "stack_options",
    [
        {
            "config": emulator_config(latency_ms=40.0),
            "SHARD_SIZE": "100000",
            "AC_SEND_CONCURRENCY": "1",
            "RUN_PROGRESS_SECONDS": "0.3",
        }
    ],
)
async def test_a_long_shard_shows_what_ac_accepted_before_it_ends_and_counts_it_once(stack: Stack) -> None:
    """One shard of 4,000 contacts at 40 ms a request: the run shows accepted contacts while the shard sends
    (its counts only move when it ends), then counts them once and shows nothing in flight."""
    await stack.connect()
    await stack.create_export("long")
    _, answer = await stack.write_sample(SampleOptions(profiles=4000, seed=6, partitions=1))
    run_id = await stack.start_run("long")
    seen: list[tuple[int, int]] = []

    async def accepted_while_sending() -> bool:
        _, run = await stack.call("GET", f"/exports/long/runs/{run_id}")
        accepted = run["acceptedInFlight"]
        if run["shards"]["done"] == 0 and accepted and (not seen or accepted != seen[-1][0]):
            seen.append((accepted, run["counts"]["confirmed"]))
        return len(seen) >= 2

    await eventually(accepted_while_sending, timeout=60, interval=0.1)
    assert seen[0][1] == 0 and 0 < seen[0][0] < seen[-1][0] < answer.expected_unique  # it grows, before any count
    run = await stack.wait_run("long", run_id, 120)
    assert run["status"] == "Succeeded", run
    async with stack.container("runs") as runs:  # the shard's entry left the record when its counts went in
        stored = json.loads(
            await (await runs.download_blob(await stack.run_path("long", run_id, "run.json"))).readall()
        )
    assert stored["inFlight"] == {} and run["acceptedInFlight"] == 0
    assert run["counts"]["confirmed"] == run["counts"]["sent"] == answer.expected_unique == len(stack.members())
    assert outcome_sum(run["counts"]) == run["counts"]["profilesRead"]
