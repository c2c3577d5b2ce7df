"""The export pipeline end to end: snapshot -> plan -> shards -> ActiveCampaign -> reconciled run."""

from __future__ import annotations

from local.sample_data import SampleOptions
from tests.e2e.stack import Stack


async def test_a_segment_arrives_in_the_list_with_every_row_accounted_for(stack: Stack) -> None:
    await stack.connect()
    await stack.create_export("customers")
    sample, answer = await stack.write_sample(SampleOptions(profiles=3000, seed=3, partitions=3))
    run = await stack.run("customers")
    assert run["status"] in ("Succeeded", "PartiallySucceeded"), run
    counts = run["counts"]
    members = stack.members()
    assert set(members) == answer.expected_set()  # nothing missing, nothing extra
    assert set(members.values()) == {1}  # all subscribed
    assert counts["profilesRead"] == answer.rows
    assert counts["invalid"] == answer.invalid
    assert counts["duplicates"] == answer.duplicates
    assert counts["confirmed"] == answer.expected_unique
    outcome_sum = sum(counts[k] for k in ("invalid", "duplicates", "unchanged", "optedOut", "confirmed", "rejected", "notSent"))
    assert outcome_sum == counts["profilesRead"]
    writes = stack.emulator.state.write_counts()
    assert max(writes.values()) == 1  # each contact written exactly once
