"""The sample generator: reproducible, the asked-for mix of rows, an honest oracle, exact mutations,
and files that the snapshot reader reads back to the same values."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pytest
from azure.storage.blob.aio import ContainerClient

from local.sample_data import (
    COLUMNS,
    INVALID,
    VALID,
    Sample,
    SampleOptions,
    cached_sample,
    generate,
    mutate,
    oracle,
    partitions,
    rendered_files,
    write_snapshot,
)
from local.sample_data.__main__ import main
from shared.snapshot import find_snapshot
from tests.snapshot.support import read_all

# ActiveCampaign's documented syntax rules (activecampaign-api.md 7.5), written here independently of
# the product's validator: something before @, one @, no " ( ) , : ; < > [ \ ] or spaces, and a domain
# with a dot followed by at least two letters.
AC_SYNTAX = re.compile(r'^[^@\s"(),:;<>\[\\\]]+@[^@\s"(),:;<>\[\\\]]+\.[A-Za-z]{2,}$')
ROOT = "CustomerInsights_sample/Export"
SMALL = SampleOptions(profiles=3_000, seed=5, segments=("Gold", "Silver"), partitions=3, parquet_partitions=1)
SMALL_SAMPLE = generate(SMALL)


def column(table: pa.Table, name: str) -> list[Any]:
    return list(table.column(name).to_pylist())


def test_the_same_seed_gives_the_same_sample_and_another_seed_another() -> None:
    options = SampleOptions(profiles=2_000, seed=11)
    assert generate(options).table.equals(generate(options).table)
    assert not generate(options).table.equals(generate(SampleOptions(profiles=2_000, seed=12)).table)


def test_rates_are_roughly_as_asked_and_optional_values_are_sometimes_empty() -> None:
    sample = generate(SampleOptions(profiles=50_000, seed=3))
    answer = oracle(sample)

    assert 0.008 < answer.invalid / answer.rows < 0.012
    assert 0.008 < answer.duplicates / answer.rows < 0.012
    for name in ("FirstName", "LastName", "Phone", "BirthDate", "Tier", "Interests"):
        values = sample.table.column(name)
        assert values.null_count > 0, name
        assert pc.sum(pc.equal(values, "")).as_py() > 0, name
    kinds = set(answer.invalid_rows.column("kind").to_pylist())
    assert {"missing_at", "space", "no_tld", "special_char", "empty", "missing"} <= kinds


def test_the_oracle_is_consistent_with_the_rows_and_with_acs_syntax_rules() -> None:
    sample = generate(SampleOptions(profiles=20_000, seed=9, segments=("A", "B", "C"), partitions=4))
    answer = oracle(sample)
    table = sample.table
    emails = column(table, "Email")
    kinds = column(table, "_kind")
    ids = column(table, "CustomerId")
    position = {customer: i for i, customer in enumerate(ids)}

    assert answer.expected_unique == answer.rows - answer.invalid - answer.duplicates
    assert answer.invalid_rows.num_rows == answer.invalid and answer.duplicate_rows.num_rows == answer.duplicates
    for email, kind in zip(emails, kinds, strict=True):
        syntactically_valid = email is not None and AC_SYNTAX.match(email.strip()) is not None
        assert syntactically_valid == (kind != INVALID), email
    for row in answer.duplicate_rows.to_pylist():
        mine, source = position[row["CustomerId"]], position[row["duplicate_of"]]
        assert source < mine and kinds[source] == VALID  # the original is read first
        assert emails[mine].strip().lower() == emails[source].strip().lower()
    normalised = {e.strip().lower() for e, k in zip(emails, kinds, strict=True) if k == VALID}
    assert answer.expected_set() == normalised


def test_oracle_locations_point_at_the_rows_in_the_written_partitions() -> None:
    answer = oracle(SMALL_SAMPLE)
    written = {(part.entity, part.index): rows for part, rows in partitions(SMALL_SAMPLE)}

    for located in (answer.invalid_rows, answer.duplicate_rows):
        assert located.num_rows > 0
        for row in located.to_pylist():
            rows = written[(row["segment"], row["partition"])]
            assert column(rows, "CustomerId")[row["row"] - 1] == row["CustomerId"]


def test_mutate_reports_exactly_what_changed_appeared_and_went() -> None:
    before = generate(SampleOptions(profiles=20_000, seed=4, segments=("A", "B")))
    step = mutate(before, seed=1)
    after = step.sample
    old, new = oracle(before).expected_set(), oracle(after).expected_set()

    assert new - old == step.added
    assert old - new == step.removed
    assert step.changed <= old & new
    for count in (len(step.changed), len(step.added), len(step.removed)):
        assert 120 < count < 280  # about 1% of 20,000
    fields = ("FirstName", "LastName", "Phone", "BirthDate", "Tier", "Interests", "CustomerId")

    def profiles(sample: Sample) -> dict[str, tuple[object, ...]]:
        valid = sample.table.filter(pc.equal(sample.table.column("_kind"), VALID)).to_pylist()
        return {r["Email"].strip().lower(): tuple(r[f] for f in fields) for r in valid}

    first, second = profiles(before), profiles(after)
    differing = {email for email in old & new if first[email] != second[email]}
    assert differing == step.changed
    assert mutate(before, seed=1).changed == step.changed  # reproducible
    assert oracle(after).duplicates == oracle(before).duplicates


async def test_written_snapshots_read_back_to_the_generated_values(container: ContainerClient) -> None:
    written = await write_snapshot(container, SMALL_SAMPLE, root=ROOT)

    for index, segment in enumerate(SMALL.segments):
        snapshot = await find_snapshot(container, ROOT, segment)
        rows = await read_all(container, snapshot, list(COLUMNS))
        assert snapshot.source == "model.json"
        assert [p.blob_name.rsplit("/", 1)[1] for p in snapshot.partitions] == [
            f"{segment}_1.csv",
            f"{segment}_2.csv",
            f"{segment}_3.parquet",
        ]
        assert rows.bad_rows == []
        assert rows.table.equals(SMALL_SAMPLE.segment_table(index).select(list(COLUMNS)))
    first_blob = await (await container.get_blob_client(written.blobs[0]).download_blob()).readall()
    assert first_blob.startswith(b'\xef\xbb\xbf"CUST-')  # BOM, no header, every value quoted


@pytest.mark.parametrize("style", ["client", "dfs"])
async def test_header_files_and_other_location_styles_read_back(container: ContainerClient, style: str) -> None:
    options = SampleOptions(profiles=500, seed=2, segments=("Hdr",), partitions=2, header=True, bom=False)
    sample = generate(options)
    await write_snapshot(container, sample, root=ROOT, location_style=style)  # type: ignore[arg-type]

    rows = await read_all(container, await find_snapshot(container, ROOT, "Hdr"), ["Email", "Phone"])

    assert rows.table.equals(sample.table.select(["Email", "Phone"]))


async def test_a_mutated_sample_is_a_newer_snapshot_and_model_json_keeps_other_segments(
    container: ContainerClient,
) -> None:
    first = await write_snapshot(container, SMALL_SAMPLE, root=ROOT)
    before = await find_snapshot(container, ROOT, "Gold")
    other = generate(SampleOptions(profiles=100, seed=1, segments=("Bronze",), partitions=1))
    await write_snapshot(container, other, root=ROOT)
    step = mutate(SMALL_SAMPLE, seed=3)
    second = await write_snapshot(container, step.sample, root=ROOT)

    after = await find_snapshot(container, ROOT, "Gold")
    rows = await read_all(container, after, ["Email"])
    model = json.loads(await (await container.get_blob_client(f"{ROOT}/model.json").download_blob()).readall())

    assert second.written_at > first.written_at  # a new <HHmm> folder even within the same minute
    assert after.snapshot_id != before.snapshot_id
    assert rows.table.column("Email").equals(step.sample.segment_table(0).column("Email"))
    assert sorted(e["name"] for e in model["entities"]) == ["Bronze", "Gold", "Silver"]


def test_the_cache_returns_the_same_sample_and_reuses_rendered_files(tmp_path: Path) -> None:
    options = SampleOptions(profiles=1_000, seed=8, partitions=2)
    first = cached_sample(options, tmp_path)
    files = rendered_files(first, tmp_path)
    stamps = [path.stat().st_mtime_ns for _, path in files]

    again = cached_sample(options, tmp_path)
    files_again = rendered_files(again, tmp_path)

    assert again.table.equals(first.table) and again.key == first.key and again.next_id == first.next_id
    assert [p for p, _ in files_again] == [p for p, _ in files]
    assert [path.stat().st_mtime_ns for _, path in files_again] == stamps


async def test_the_command_line_writes_a_sample_and_prints_its_oracle_counts(
    storage_connection: str, unique: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import asyncio

    args = ["--profiles", "800", "--segments", "One,Two", "--partitions", "2", "--parquet", "1", "--mutations", "1"]
    args += ["--connection-string", storage_connection, "--container", unique, "--cache-dir", str(tmp_path)]
    await asyncio.to_thread(main, args)

    summary = json.loads(capsys.readouterr().out)
    assert summary["rows"] == 800
    assert summary["expected_unique"] == 800 - summary["invalid"] - summary["duplicates"]
    assert len(summary["mutations"]) == 1
    async with ContainerClient.from_connection_string(storage_connection, unique) as container:
        rows = await read_all(container, await find_snapshot(container, summary["root"], "Two"), ["Email"])
    assert rows.rows_read > 0
