"""What must hold after any fault: the list matches the oracle, every row has one outcome, and every write
to ActiveCampaign is explained.

"Explained" is the sharp form of "no confirmed contact written twice after its checkpoint": a contact may
be written more than once only by a bulk import whose answer never reached the product (a connection
reset after AC applied it, a timeout, a crash before the checkpoint). Such an import is an *orphan*: AC
has its batchId, no checkpoint does. Every write beyond the first must come from an orphan.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pyarrow.compute as pc

from local.sample_data import VALID, Oracle, Sample, SampleOptions, generate, oracle, write_snapshot
from shared.names import RUNS_CONTAINER
from shared.pipeline.checkpoint import Checkpoint
from tests.e2e.stack import SNAPSHOT_ROOT, Stack

OUTCOMES = ("invalid", "duplicates", "unchanged", "optedOut", "confirmed", "rejected", "notSent")


async def write_sample(stack: Stack, options: SampleOptions) -> tuple[Sample, Oracle]:
    """Stack.write_sample without its pause: each fault test writes a single snapshot."""
    sample = generate(options)
    async with stack.container(stack.settings["SNAPSHOT_CONTAINER"]) as container:
        await write_snapshot(container, sample, root=SNAPSHOT_ROOT)
    return sample, oracle(sample)


def outcome_sum(counts: dict[str, int]) -> int:
    return sum(counts[k] for k in OUTCOMES)


def assert_rows_accounted(run: dict[str, Any], answer: Oracle) -> None:
    """Every row read ends in exactly one outcome, and the planner's counts match the oracle."""
    counts = run["counts"]
    assert counts["profilesRead"] == answer.rows, counts
    assert counts["invalid"] == answer.invalid, counts
    assert counts["duplicates"] == answer.duplicates, counts
    assert outcome_sum(counts) == counts["profilesRead"], counts


def assert_delivered(run: dict[str, Any], stack: Stack, answer: Oracle) -> None:
    """A Succeeded run: the list is exactly the oracle's set, all subscribed, each counted once."""
    assert run["status"] == "Succeeded", run
    members = stack.members()
    assert set(members) == answer.expected_set()  # nothing missing, nothing extra
    assert set(members.values()) == {1}
    assert run["counts"]["confirmed"] == answer.expected_unique  # counted once, however often delivered
    assert_rows_accounted(run, answer)


async def checkpoints(stack: Stack, export: str, run_id: str) -> dict[int, Checkpoint]:
    """The run's shard checkpoints as the workers left them in storage."""
    found: dict[int, Checkpoint] = {}
    async with stack.container(RUNS_CONTAINER) as runs:
        async for blob in runs.list_blobs(name_starts_with=await stack.run_path(export, run_id, "shards/")):
            if blob.name.endswith(".ckpt.json"):
                data = await (await runs.download_blob(blob.name)).readall()
                checkpoint = Checkpoint.model_validate_json(data)
                found[checkpoint.shard] = checkpoint
    return found


async def checkpointed_batches(stack: Stack, export: str, run_id: str) -> set[str]:
    return {
        batch_id
        for checkpoint in (await checkpoints(stack, export, run_id)).values()
        for record in checkpoint.batches.values()
        for batch_id in record.batch_ids
    }


async def orphan_writes(stack: Stack, export: str, run_id: str) -> Counter[str]:
    """Writes (per email) made by bulk imports that AC applied but no checkpoint recorded."""
    tracked = await checkpointed_batches(stack, export, run_id)
    state = stack.emulator.state
    email_of = {contact.id: key for key, contact in state.by_email.items()}
    extra: Counter[str] = Counter()
    for batch_id, batch in state.batches.items():
        if batch_id not in tracked:
            extra.update(email_of[cid] for cid in [*batch.new_ids, *batch.updated_ids])
    return extra


async def assert_writes_explained(stack: Stack, export: str, run_id: str) -> Counter[str]:
    """Each contact written once by a checkpointed import, plus once per orphan import that carried it."""
    orphans = await orphan_writes(stack, export, run_id)
    writes = stack.emulator.state.write_counts()
    unexplained = {e: n for e, n in writes.items() if n != 1 + orphans[e]}
    assert not unexplained, f"{len(unexplained)} contacts written more often than explained: {unexplained}"
    return orphans


def assert_values_match(stack: Stack, sample: Sample) -> None:
    """The contacts hold the sample's names and phones (a re-sent import must not leave stale or empty values)."""
    valid = sample.table.filter(pc.equal(sample.table["_kind"], VALID))
    checked = 0
    for row in valid.select(["Email", "FirstName", "LastName", "Phone"]).to_pylist():
        contact = stack.emulator.state.contact(row["Email"].strip().lower())
        assert contact is not None, "a valid contact is missing"
        for attribute, column in (("first_name", "FirstName"), ("last_name", "LastName"), ("phone", "Phone")):
            value = row[column]
            if value and value.strip():
                assert (getattr(contact, attribute) or "").strip() == value.strip(), (attribute, row)
                checked += 1
    assert checked > 0


def arrivals_with(arrivals: list[dict[str, Any]], status: int, route: str | None = None) -> list[dict[str, Any]]:
    return [a for a in arrivals if a["status"] == status and (route is None or a["route"] == route)]
