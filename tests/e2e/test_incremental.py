"""Beyond CI: incremental refresh, mirror mode, the removal guard, dry run, per-row reports, custom fields."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc
from azure.storage.queue.aio import QueueClient

import function_app
from local.host import index_app
from local.sample_data import Sample, SampleOptions, generate, mutate
from shared.activecampaign.dropped import Drop
from shared.names import FINALIZE_POISON_QUEUE, FINALIZE_QUEUE
from tests.e2e.stack import Stack
from tests.helpers import eventually

MIRROR = {"syncMode": "mirror", "leaverAction": "unsubscribe"}
ALL_FUNCTIONS = [spec.name for spec in index_app(function_app.app)]


def writes(stack: Stack) -> dict[str, int]:
    return dict(stack.emulator.state.write_counts())


def bulk_requests(stack: Stack) -> int:
    return len(stack.emulator.state.batches)


async def first_run(stack: Stack, name: str, options: SampleOptions, **export: object) -> tuple[Sample, dict]:
    await stack.connect()
    await stack.create_export(name, **export)
    sample, _ = await stack.write_sample(options)
    run = await stack.run(name)
    assert run["status"] == "Succeeded", run
    return sample, run


async def test_an_unchanged_segment_sends_nothing_and_a_changed_one_sends_exactly_the_changes(stack: Stack) -> None:
    sample, _ = await first_run(stack, "inc", SampleOptions(profiles=3000, seed=21, partitions=2))
    before, requests = writes(stack), bulk_requests(stack)
    await stack.write_sample(sample)  # the same content, as a new snapshot
    same = await stack.run("inc")
    assert same["status"] == "Succeeded", same
    assert same["counts"]["sent"] == 0 and same["counts"]["unchanged"] == len(before)
    assert writes(stack) == before and bulk_requests(stack) == requests  # AC heard nothing

    change = mutate(sample, seed=2, change_rate=0.01, add_rate=0.0, remove_rate=0.0)
    await stack.write_sample(change.sample)
    changed = await stack.run("inc")
    after = writes(stack)
    sent = {e for e, n in after.items() if n != before.get(e, 0)}
    assert sent == set(change.changed) and len(sent) > 10  # exactly the changed rows, each once
    assert changed["counts"]["sent"] == changed["counts"]["toUpdate"] == len(change.changed)
    assert all(after[e] == 2 for e in change.changed)

    full = await stack.run("inc", full=True)
    assert full["counts"]["sent"] == full["counts"]["toUpdate"] == len(after)
    assert all(n == before.get(e, 0) + (2 if e in change.changed else 1) for e, n in writes(stack).items())


async def test_rows_rejected_in_one_run_are_retried_in_the_next(stack: Stack) -> None:
    await stack.connect()
    await stack.create_export("retry")
    sample, answer = await stack.write_sample(SampleOptions(profiles=1000, seed=22, partitions=1))
    excluded = sorted(answer.expected_set())[:7]
    stack.emulator.state.seed_exclusions(excluded)
    run = await stack.run("retry")
    assert run["status"] == "PartiallySucceeded", run
    assert run["counts"]["rejected"] == 7
    report = await stack.report("retry", run["id"])
    rejected = {r["email"] for r in report if r["outcome"] == "rejected"}
    failures = {email for b in stack.emulator.state.batches.values() for email, _ in b.failures}
    assert rejected == set(excluded) == failures  # the report's rejected rows are AC's failure lists
    # AC's documented import/info names no reason, and they are not unsubscribed: that is all that is known
    assert all(r["reason"] == Drop.NO_REASON.value for r in report if r["outcome"] == "rejected")

    stack.emulator.state.exclusions.clear()
    before = writes(stack)
    await stack.write_sample(sample)
    again = await stack.run("retry")
    assert again["status"] == "Succeeded", again
    assert again["counts"]["sent"] == 7
    assert {e for e, n in writes(stack).items() if n != before.get(e, 0)} == set(excluded)


async def test_mirror_mode_unsubscribes_exactly_the_leavers(stack: Stack) -> None:
    sample, _ = await first_run(stack, "mirror", SampleOptions(profiles=2000, seed=23, partitions=1), **MIRROR)
    members = stack.members()
    change = mutate(sample, seed=3, change_rate=0.0, add_rate=0.0, remove_rate=0.05)
    await stack.write_sample(change.sample)
    run = await stack.run("mirror")
    assert run["status"] == "Succeeded", run
    after = stack.members()
    unsubscribed = {e for e, s in after.items() if s == 2}
    assert unsubscribed == set(change.removed) and len(unsubscribed) > 50
    assert run["counts"]["removed"] == run["counts"]["toRemove"] == len(change.removed)
    assert {e: s for e, s in after.items() if e not in unsubscribed} == {
        e: s for e, s in members.items() if e not in unsubscribed
    }  # no one else touched


async def test_the_mass_removal_guard_skips_the_run_until_forced(stack: Stack) -> None:
    sample, _ = await first_run(stack, "guarded", SampleOptions(profiles=1500, seed=24, partitions=1), **MIRROR)
    members, before, requests = stack.members(), writes(stack), bulk_requests(stack)
    change = mutate(sample, seed=4, change_rate=0.0, add_rate=0.0, remove_rate=0.20)
    await stack.write_sample(change.sample)
    skipped = await stack.run("guarded")
    assert skipped["status"] == "Skipped", skipped
    assert "mass-removal guard" in skipped["reason"] and "force" in skipped["reason"]
    assert str(len(change.removed)) in skipped["reason"]
    assert skipped["counts"]["toRemove"] == len(change.removed)
    assert stack.members() == members and writes(stack) == before and bulk_requests(stack) == requests

    forced = await stack.run("guarded", force=True)
    assert forced["status"] == "Succeeded", forced
    assert {e for e, s in stack.members().items() if s == 2} == set(change.removed)


async def test_an_empty_snapshot_removes_nobody(stack: Stack) -> None:
    sample, _ = await first_run(stack, "empty", SampleOptions(profiles=600, seed=25, partitions=1), **MIRROR)
    members = stack.members()
    empty = Sample(sample.options, sample.table.slice(0, 0), next_id=sample.next_id, key="empty")
    await stack.write_sample(empty)
    run = await stack.run("empty")
    assert run["status"] == "Skipped", run  # no data
    assert run["counts"]["profilesRead"] == 0 and run["counts"]["removed"] == 0
    assert "empty" in (run["reason"] or "") and "nobody was removed" in run["reason"]
    assert stack.members() == members


async def test_someone_who_unsubscribed_in_ac_is_never_resubscribed(stack: Stack) -> None:
    sample, _ = await first_run(stack, "optout", SampleOptions(profiles=800, seed=26, partitions=1), **MIRROR)
    person = sorted(stack.members())[0]
    contact = stack.emulator.state.contact(person)
    assert contact is not None
    stack.emulator.state.lists[1].set_status(contact.id, 2)  # they unsubscribed in AC themselves
    # they leave the segment, then come back with new details
    rows = sample.table
    emails = pc.utf8_lower(pc.utf8_trim(rows["Email"], " "))
    gone = Sample(sample.options, rows.filter(pc.not_equal(emails, person)), next_id=sample.next_id, key="gone")
    await stack.write_sample(gone)
    left = await stack.run("optout")  # a leaver who unsubscribed themselves: opted out, not removed by us
    assert left["status"] == "Succeeded", left
    assert left["counts"]["removalOptedOut"] == left["counts"]["toRemove"] == 1 and left["counts"]["removed"] == 0
    assert [r["outcome"] for r in await stack.report("optout", left["id"]) if r["email"] == person] == ["opted-out"]
    back = rows.set_column(
        rows.schema.get_field_index("LastName"),
        "LastName",
        pc.if_else(pc.equal(emails, person), pa.scalar("Returned"), rows["LastName"]),
    )
    await stack.write_sample(Sample(sample.options, back, next_id=sample.next_id, key="back"))
    run = await stack.run("optout")
    assert stack.members()[person] == 2  # still unsubscribed
    assert run["counts"]["optedOut"] == 1
    report = await stack.report("optout", run["id"])
    assert [r["outcome"] for r in report if r["email"] == person] == ["opted-out"]
    again = await stack.run("optout", full=True)
    assert again["counts"]["optedOut"] == 1 and stack.members()[person] == 2  # not even a full run


async def test_someone_we_removed_who_comes_back_is_resubscribed(stack: Stack) -> None:
    sample, _ = await first_run(stack, "reentry", SampleOptions(profiles=800, seed=27, partitions=1), **MIRROR)
    change = mutate(sample, seed=5, change_rate=0.0, add_rate=0.0, remove_rate=0.03)
    await stack.write_sample(change.sample)
    await stack.run("reentry")
    assert {e for e, s in stack.members().items() if s == 2} == set(change.removed)
    await stack.write_sample(sample)  # they are all back
    run = await stack.run("reentry")
    assert run["status"] == "Succeeded", run
    assert run["counts"]["toResubscribe"] == len(change.removed)
    assert set(stack.members().values()) == {1}  # re-subscribed through contactLists


async def test_a_dry_run_predicts_the_real_run_and_writes_nothing(stack: Stack) -> None:
    sample, _ = await first_run(stack, "dry", SampleOptions(profiles=2000, seed=28, partitions=1), **MIRROR)
    change = mutate(sample, seed=6, change_rate=0.02, add_rate=0.02, remove_rate=0.02)
    await stack.write_sample(change.sample)
    before, requests = writes(stack), bulk_requests(stack)
    dry = await stack.run("dry", dryRun=True)
    assert dry["status"] == "Succeeded" and "dry run" in dry["reason"], dry
    assert writes(stack) == before and bulk_requests(stack) == requests  # zero writes to AC
    report = await stack.report("dry", dry["id"])
    assert {"would-add", "would-update", "would-remove"} <= {r["outcome"] for r in report}
    real = await stack.run("dry")
    keys = ("toAdd", "toUpdate", "unchanged", "toRemove", "invalid", "duplicates", "optedOut")
    assert {k: dry["counts"][k] for k in keys} == {k: real["counts"][k] for k in keys}
    assert dry["counts"]["toAdd"] == len(change.added) and dry["counts"]["toRemove"] == len(change.removed)
    assert real["counts"]["sent"] == dry["counts"]["toSend"] and real["counts"]["removed"] == dry["counts"]["toRemove"]


async def test_custom_fields_arrive_in_acs_formats_and_bad_values_are_reported(stack: Stack) -> None:
    birthday = stack.emulator.state.add_field("Birthday", "date")
    tier = stack.emulator.state.add_field("Tier", "dropdown")
    interests = stack.emulator.state.add_field("Interests", "multiselect")
    sample = generate(SampleOptions(profiles=600, seed=29, partitions=1))
    emails = pc.utf8_lower(pc.utf8_trim(sample.table["Email"], " "))
    valid = sample.table.filter(pc.equal(sample.table["_kind"], 0))
    broken = valid["Email"][0].as_py().strip().lower()
    dates = pc.if_else(pc.equal(emails, broken), pa.scalar("31/31/2024"), sample.table["BirthDate"])
    table = sample.table.set_column(sample.table.schema.get_field_index("BirthDate"), "BirthDate", dates)
    await stack.connect()
    await stack.create_export(
        "fields",
        mapping={
            "email": "Email",
            "firstName": "FirstName",
            "customFields": [
                {"attribute": "BirthDate", "field": "Birthday"},
                {"attribute": "Tier", "field": str(tier.id)},
                {"attribute": "Interests", "field": "Interests"},
            ],
        },
        tags=["from-ci", "vip"],
    )
    await stack.write_sample(Sample(sample.options, table, next_id=sample.next_id, key="fields"))
    run = await stack.run("fields")
    assert run["status"] == "Succeeded", run
    assert run["counts"]["valueErrors"] == 1
    report = await stack.report("fields", run["id"])
    assert [(r["email"], r["outcome"]) for r in report if r["outcome"] == "field-skipped"] == [
        (broken, "field-skipped")
    ]
    state = stack.emulator.state
    for row in valid.slice(0, 50).to_pylist():
        contact = state.contact(row["Email"].strip().lower())
        assert contact is not None
        assert sorted(state.tag_names(contact)) == ["from-ci", "vip"]
        values = dict(zip(contact.fields[::2], contact.fields[1::2], strict=True)) if contact.fields else {}
        if row["Email"].strip().lower() == broken:
            assert birthday.id not in values  # the bad value was not sent
        elif row["BirthDate"]:
            assert len(values[birthday.id]) == 10 and values[birthday.id][4] == "-"  # YYYY-MM-DD
        if row["Interests"]:
            assert values[interests.id].startswith("||") and values[interests.id].endswith("||")


async def test_a_crash_between_sending_and_committing_state_never_loses_a_change(stack: Stack) -> None:
    sample, _ = await first_run(stack, "crashy", SampleOptions(profiles=1200, seed=30, partitions=1))
    change = mutate(sample, seed=7, change_rate=0.03, add_rate=0.0, remove_rate=0.0)
    await stack.write_sample(change.sample)
    # the finaliser is down: the changes reach AC, but the state is never committed
    await stack.restart_host([n for n in ALL_FUNCTIONS if n != "finalizer"])
    run_id = await stack.start_run("crashy")

    async def sent() -> bool:
        _, body = await stack.call("GET", f"/exports/crashy/runs/{run_id}")
        return bool(body["shards"]["total"]) and body["shards"]["done"] == body["shards"]["total"]

    await eventually(sent, timeout=60)
    conn = stack.azurite.connection_string
    async with (
        QueueClient.from_connection_string(conn, FINALIZE_QUEUE) as queue,
        QueueClient.from_connection_string(conn, FINALIZE_POISON_QUEUE) as poison,
    ):

        async def poisoned() -> bool:
            # the last shard's worker queues the finaliser just after it records the shard as done
            moved = False
            async for message in queue.receive_messages():  # it failed every time: to the poison queue
                await poison.send_message(message.content)
                await queue.delete_message(message)
                moved = True
            return moved

        await eventually(poisoned, timeout=30)
    failed = await stack.wait_run("crashy", run_id)
    assert failed["status"] == "Failed" and "finishing the run failed" in failed["error"]["message"]

    await stack.restart_host(ALL_FUNCTIONS)
    before = writes(stack)
    run = await stack.run("crashy")
    assert run["status"] == "Succeeded", run
    resent = {e for e, n in writes(stack).items() if n != before.get(e, 0)}
    assert resent == set(change.changed)  # the uncommitted changes went again, and only they
    expected = {r["Email"].strip().lower(): r for r in change.sample.table.to_pylist() if r["_kind"] == 0}
    for email in change.changed:
        contact = stack.emulator.state.contact(email)
        assert contact is not None and contact.last_name == (expected[email]["LastName"] or contact.last_name)
        assert contact.phone == (expected[email]["Phone"] or contact.phone)
