"""Bucketed planning on small data: many buckets for a tiny segment (PLAN_ROWS_PER_BUCKET=400 or 200).

- The run records its bucket count, which follows the segment's size.
- Duplicates whose first occurrence sits in another segment or partition (another input of the bucket) are
  settled by the documented rule: the first occurrence in reading order wins, the rest are reported.
- Every row read ends in exactly one outcome; the list is exactly the oracle's.
- State is per bucket: a second run with 1% changed sends exactly the changed rows; a segment that grows
  into more buckets still reads the state written with fewer (nothing resent).
- An export planned by the layout before buckets (one state file, `contacts_blob`) continues incrementally:
  its next run sends only the changes, and its state moves to per-bucket files.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.ipc as ipc
import pytest

from local.sample_data import DUPLICATE, Sample, SampleOptions, generate, mutate
from shared.names import RUNS_CONTAINER, STATE_CONTAINER
from shared.pipeline import split
from shared.pipeline.shards import write_table
from shared.pipeline.state import STATE_SCHEMA
from shared.snapshot import read
from tests.e2e.stack import Stack
from tests.faults.checks import assert_delivered, assert_values_match

SMALL_BUCKETS = {"PLAN_ROWS_PER_BUCKET": "400", "SHARD_SIZE": "400"}
SMALLER_BUCKETS = {"PLAN_ROWS_PER_BUCKET": "200", "SHARD_SIZE": "400"}


def straddling_sample(profiles: int, seed: int) -> Sample:
    """Two segments of three partitions (one Parquet) with 10% duplicates; each duplicate gets other names, so
    the list shows whether the first occurrence won."""
    sample = generate(
        SampleOptions(
            profiles=profiles,
            seed=seed,
            segments=("Gold", "Silver"),
            partitions=3,
            parquet_partitions=1,
            duplicate_rate=0.1,
        )
    )
    table = sample.table
    is_duplicate = pc.equal(table["_kind"], DUPLICATE)
    names = pc.if_else(is_duplicate, pa.scalar("Later"), table["FirstName"])
    table = table.set_column(table.schema.get_field_index("FirstName"), "FirstName", names)
    return dataclasses.replace(sample, table=table)


def writes(stack: Stack) -> dict[str, int]:
    return dict(stack.emulator.state.write_counts())


@pytest.mark.parametrize("stack_options", [SMALL_BUCKETS])
async def test_many_buckets_on_a_tiny_segment_keep_the_first_occurrence_and_send_exactly_the_changes(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(read, "BLOCK_BYTES", 4096)  # CSV read in blocks of about 25 rows,
    monkeypatch.setattr(split, "PENDING_ROWS", 100)  # so each split writes its buckets' shares several times
    await stack.connect()
    await stack.create_export("tiny", segments=["Gold", "Silver"])
    sample, answer = await stack.write_sample(straddling_sample(1500, seed=71))
    duplicates = sample.table.filter(pc.equal(sample.table["_kind"], DUPLICATE))
    customer_segment = dict(
        zip(sample.table["CustomerId"].to_pylist(), sample.table["_segment"].to_pylist(), strict=True)
    )
    across = [
        d
        for d, s in zip(duplicates["_detail"].to_pylist(), duplicates["_segment"].to_pylist(), strict=True)
        if customer_segment.get(d) != s
    ]
    assert len(duplicates) > 100 and across  # duplicates whose first occurrence is in the other segment

    run = await stack.run("tiny", timeout=180)
    assert run["planning"]["buckets"] >= 8  # about 1,500 rows at 200 per bucket (estimated from the bytes)
    async with stack.container(RUNS_CONTAINER) as runs:
        prefix = await stack.run_path("tiny", run["id"], split.SPLITS)
        files = [b.name async for b in runs.list_blobs(name_starts_with=prefix) if b.name.endswith(".arrow")]
        pieces = [
            ipc.open_file(pa.BufferReader(await (await runs.download_blob(name)).readall())).num_record_batches
            for name in files
        ]
    # one file per split and bucket, each written in several pieces (blocks) as the split's rows came
    assert len(files) <= run["planning"]["partitions"] * run["planning"]["buckets"]
    assert max(pieces) > 1, pieces
    assert_delivered(run, stack, answer)
    assert_values_match(stack, sample)  # the first occurrence's names, never the duplicate's "Later"
    assert "Later" not in {c.first_name for c in stack.emulator.state.by_email.values()}
    report = await stack.report("tiny", run["id"])
    assert sum(r["outcome"] == "duplicate" for r in report) == answer.duplicates

    before = writes(stack)
    change = mutate(sample, seed=5, change_rate=0.02, add_rate=0.0, remove_rate=0.0)
    await stack.write_sample(change.sample)
    changed = await stack.run("tiny", timeout=180)
    after = writes(stack)
    assert {e for e, n in after.items() if n != before.get(e, 0)} == set(change.changed)
    assert changed["counts"]["sent"] == changed["counts"]["toUpdate"] == len(change.changed) > 10


@pytest.mark.parametrize("stack_options", [SMALLER_BUCKETS])
async def test_a_segment_that_grows_into_more_buckets_reads_the_state_written_with_fewer(stack: Stack) -> None:
    await stack.connect()
    await stack.create_export("grows")
    small, _ = await stack.write_sample(SampleOptions(profiles=300, seed=72, partitions=2))
    first = await stack.run("grows", timeout=180)
    assert first["status"] == "Succeeded" and first["planning"]["buckets"] >= 2, first
    before = writes(stack)

    grown = mutate(small, seed=6, change_rate=0.0, add_rate=4.0, remove_rate=0.0)  # five times the rows
    _, answer = await stack.write_sample(grown.sample)
    second = await stack.run("grows", timeout=180)
    assert second["planning"]["buckets"] >= 4 * first["planning"]["buckets"], second
    assert_delivered_incrementally(second, stack, answer.expected_set(), before, set(grown.added))


def assert_delivered_incrementally(
    run: dict[str, Any], stack: Stack, expected: set[str], before: dict[str, int], sent: set[str]
) -> None:
    assert run["status"] == "Succeeded", run
    assert set(stack.members()) == expected
    after = writes(stack)
    assert {e for e, n in after.items() if n != before.get(e, 0)} == sent  # exactly these, nobody resent
    assert run["counts"]["sent"] == len(sent)


async def rewrite_as_single_file_state(stack: Stack, export: str) -> int:
    """Turn the export's per-bucket state into the layout before buckets: one contacts file, meta v2."""
    export_id = await stack.export_id(export)
    async with stack.container(STATE_CONTAINER) as container:
        metas = [b.name async for b in container.list_blobs(name_starts_with=f"exports/{export_id}/")]
        (meta_name,) = [n for n in metas if n.endswith("/meta.json")]
        meta = json.loads(await (await container.download_blob(meta_name)).readall())
        assert meta["bits"] > 0 and meta["blobs"], meta  # written per bucket today
        tables = []
        for blob in [b for b in meta["blobs"] if b]:
            data = await (await container.download_blob(blob)).readall()
            tables.append(pa.ipc.open_file(pa.BufferReader(data)).read_all())
            await container.delete_blob(blob)
        table = pa.concat_tables(tables).cast(STATE_SCHEMA)
        prefix = meta_name.removesuffix("meta.json")
        single = f"{prefix}contacts-{meta['last_run_id']}.arrow"
        await write_table(container, single, table, max_chunksize=65536)
        old = {
            "schema_version": 2,
            "contacts_blob": single,
            "rows": table.num_rows,
            "last_run_id": meta["last_run_id"],
            "updated_at": meta["updated_at"],
        }
        await container.upload_blob(meta_name, json.dumps(old).encode(), overwrite=True)
        return table.num_rows


@pytest.mark.parametrize("stack_options", [SMALL_BUCKETS])
async def test_an_export_planned_with_one_state_file_continues_incrementally_with_no_full_resend(
    stack: Stack,
) -> None:
    await stack.connect()
    await stack.create_export("migrates", syncMode="mirror", leaverAction="unsubscribe")
    sample, _ = await stack.write_sample(SampleOptions(profiles=800, seed=73, partitions=2))
    first = await stack.run("migrates", timeout=180)
    assert first["status"] == "Succeeded", first
    assert await rewrite_as_single_file_state(stack, "migrates") == first["counts"]["confirmed"]
    before = writes(stack)

    change = mutate(sample, seed=7, change_rate=0.02, add_rate=0.02, remove_rate=0.02)
    _, answer = await stack.write_sample(change.sample)
    second = await stack.run("migrates", timeout=180)
    assert second["status"] == "Succeeded", second
    upserted = set(change.changed) | set(change.added)
    counts = second["counts"]
    assert (counts["toAdd"], counts["toUpdate"], counts["toRemove"]) == (
        len(change.added),
        len(change.changed),
        len(change.removed),
    )
    after = writes(stack)
    # no full resend: AC heard only of the changed, the new and the leavers (whom the old file named)
    assert {e for e, n in after.items() if n != before.get(e, 0)} == upserted | set(change.removed)
    members = stack.members()
    assert {e for e, s in members.items() if s == 1} == answer.expected_set()
    assert {e for e, s in members.items() if s == 2} == set(change.removed)

    prefix = f"exports/{await stack.export_id('migrates')}/"
    async with stack.container(STATE_CONTAINER) as container:
        names = [b.name async for b in container.list_blobs(name_starts_with=prefix)]
    assert not [n for n in names if "/contacts-" in n]  # the single file was replaced by per-bucket files
    third = await stack.run("migrates", timeout=180)
    assert third["counts"]["sent"] == 0 and third["status"] == "Succeeded", third  # and the new layout holds
