"""What must hold after any fault: the list matches the oracle, every row has one outcome, and every write
to ActiveCampaign is explained.

"Explained" is the sharp form of "no confirmed contact written twice after its checkpoint": a contact may
be written more than once only by a bulk import whose answer never reached the product (a connection
reset after AC applied it, a timeout, a crash before the checkpoint). Such an import is an *orphan*: AC
has its batchId, no checkpoint does. Every write beyond the first must come from an orphan.
"""

from __future__ import annotations

import base64
import fnmatch
from collections import Counter
from collections.abc import Iterable
from typing import Any, Final
from urllib.parse import quote, quote_plus

import pyarrow.compute as pc
from azure.core.exceptions import ResourceNotFoundError
from azure.storage.blob.aio import BlobServiceClient
from azure.storage.queue.aio import QueueServiceClient

from local.sample_data import VALID, Oracle, Sample, SampleOptions, generate, oracle, write_snapshot
from shared.names import ALL_CONTAINERS, RUNS_CONTAINER, STATE_CONTAINER
from shared.pipeline.checkpoint import Checkpoint
from tests.e2e.stack import SNAPSHOT_ROOT, Stack
from tests.security.probe import decoded, email_tokens, expand_blob

# The app's blobs that hold the rows an export moves, by design (shards, outcomes, reports, incremental state: the
# leak probe's places for emails, tests/security/probe.py); any other blob of the app's containers, and every queue
# message, must hold no email.  Containers that are not the app's hold customer input (the snapshots).
EMAIL_BLOBS: Final = {RUNS_CONTAINER: ("*.arrow", "*/report.csv"), STATE_CONTAINER: ("*.arrow",)}
PEEK_LIMIT: Final = 32
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


def sample_emails(sample: Sample) -> set[str]:
    """Every address of the sample (valid, invalid and duplicate rows), trimmed and lowercased."""
    return {str(e).strip().lower() for e in sample.table["Email"].to_pylist() if e and "@" in str(e)}


def key_forms(key: str) -> list[bytes]:
    """A key raw, base64 (both alphabets), hex and URL-encoded."""
    raw = key.encode()
    forms = {raw, base64.b64encode(raw), base64.urlsafe_b64encode(raw), raw.hex().encode(), raw.hex().upper().encode()}
    forms |= {quote(key, safe="").encode(), quote_plus(key).encode()}
    return sorted(forms)


def emails_allowed(container: str, blob: str) -> bool:
    if container not in ALL_CONTAINERS:
        return True
    return any(fnmatch.fnmatchcase(blob, pattern) for pattern in EMAIL_BLOBS.get(container, ()))


async def storage_leaks(connection_string: str, emails: Iterable[str], keys: Iterable[str]) -> list[str]:
    """Where a key (in any of its forms) or one of `emails` outside EMAIL_BLOBS lies in the storage account:
    every blob of every container (Arrow files decompressed) and every queue message (raw and base64-decoded)."""
    wanted, forms = set(emails), [form for key in keys for form in key_forms(key)]
    hits: list[str] = []

    def search(where: str, data: bytes, *, may_hold_emails: bool) -> None:
        hits.extend(f"key in {where}" for form in forms if form in data)
        if not may_hold_emails and wanted & {t.lower() for t in email_tokens(data.decode("utf-8", "replace"))}:
            hits.append(f"email in {where}")

    async with BlobServiceClient.from_connection_string(connection_string) as blobs:
        async for container in blobs.list_containers():
            client = blobs.get_container_client(container.name)
            async for blob in client.list_blobs():
                try:
                    data = expand_blob(await (await client.download_blob(blob.name)).readall())
                except ResourceNotFoundError:
                    continue
                search(
                    f"blob {container.name}/{blob.name}",
                    data,
                    may_hold_emails=emails_allowed(container.name, blob.name),
                )
    async with QueueServiceClient.from_connection_string(connection_string) as queues:
        async for queue in queues.list_queues():
            client = queues.get_queue_client(queue.name)
            count = (await client.get_queue_properties()).approximate_message_count or 0
            assert count <= PEEK_LIMIT, f"{queue.name} holds {count} messages: more than a peek shows"
            for message in await client.peek_messages(max_messages=PEEK_LIMIT):
                text = str(message.content)
                search(f"queue {queue.name}", (text + "\n" + decoded(text)).encode(), may_hold_emails=False)
    return hits
