"""Contacts ActiveCampaign drops after its 200: every self-unsubscribed one is opted out (reported, committed,
never sent again), found at the fewest requests; the others say what is known of why.

Requests are counted on the emulator's inspection routes (GET /contacts serves both the list's unsubscribed
members and the per-email look-up; GET /contacts/{id}/contactLists is the look-up's second request).
"""

from __future__ import annotations

from collections import Counter

import pytest

from local.sample_data import SampleOptions
from shared.activecampaign.dropped import Drop
from shared.pipeline.outcomes import OPTED_OUT_REASON
from tests.e2e.stack import Stack, emulator_config

ONE_SHARD = {"SHARD_SIZE": "5000"}
CONTACTS = "GET /contacts"
CONTACT_LISTS = "GET /contacts/{id}/contactLists"


async def requests(stack: Stack) -> Counter[str]:
    counts = (await stack.inspect("requests"))["counts"]
    return Counter({route: sum(by_status.values()) for route, by_status in counts.items()})


async def sent_once(stack: Stack, name: str, profiles: int, seed: int) -> list[str]:
    """A first run of a fresh export: everyone subscribed.  The list's members, sorted."""
    await stack.connect()
    await stack.create_export(name)
    await stack.write_sample(SampleOptions(profiles=profiles, seed=seed, partitions=1))
    run = await stack.run(name)
    assert run["status"] == "Succeeded", run
    return sorted(stack.members())


def unsubscribe_themselves(stack: Stack, emails: list[str]) -> None:
    """As if each had clicked "unsubscribe" in an email from AC."""
    for email in emails:
        contact = stack.emulator.state.contact(email)
        assert contact is not None
        stack.emulator.state.lists[1].set_status(contact.id, 2)


@pytest.mark.parametrize("stack_options", [ONE_SHARD])
async def test_three_hundred_self_unsubscribed_in_one_shard_are_all_opted_out_and_never_sent_again(
    stack: Stack,
) -> None:
    members = await sent_once(stack, "optouts", 1000, seed=81)
    left = members[100:400]  # 300 people in the one shard
    unsubscribe_themselves(stack, left)
    before = await requests(stack)
    run = await stack.run("optouts", full=True)  # everyone is sent again: AC drops the 300

    assert run["status"] == "Succeeded", run
    assert run["counts"]["optedOut"] == 300 and run["counts"]["rejected"] == 0, run["counts"]
    report = await stack.report("optouts", run["id"])
    opted = {r["email"]: r["reason"] for r in report if r["outcome"] == "opted-out"}
    assert set(opted) == set(left) and set(opted.values()) == {OPTED_OUT_REASON}
    assert all(stack.emulator.state.member_status(1, e) == 2 for e in left)  # nobody re-subscribed
    spent = await requests(stack) - before
    # 300 drops, 300 unsubscribed members: three pages of the list beat 600 look-ups
    assert spent[CONTACTS] == 3 and spent[CONTACT_LISTS] == 0, spent

    failed = dict(stack.emulator.state.failed_sends)
    again = await stack.run("optouts", full=True)  # committed as opted out: not sent, not even with full
    assert again["status"] == "Succeeded", again
    assert again["counts"]["optedOut"] == 300 and again["counts"]["toSend"] == len(members) - 300
    assert stack.emulator.state.failed_sends == failed  # AC was not asked to import any of them again


@pytest.mark.parametrize("stack_options", [ONE_SHARD])
async def test_with_a_huge_unsubscribed_list_and_three_drops_each_is_looked_up_instead(stack: Stack) -> None:
    for i in range(5000):  # other people who left the list over the years: 50 pages of members
        stack.emulator.state.seed_contact(f"former{i}@example.org", lists={1: 2})
    members = await sent_once(stack, "few", 600, seed=82)
    unsubscribe_themselves(stack, members[:3])
    before = await requests(stack)
    run = await stack.run("few", full=True)

    assert run["counts"]["optedOut"] == 3 and run["counts"]["rejected"] == 0, run["counts"]
    spent = await requests(stack) - before
    # one page (its meta.total shows 49 more), then 2 requests for each of the 3: 7, not 50
    assert spent[CONTACTS] == 1 + 3 and spent[CONTACT_LISTS] == 3, spent


@pytest.mark.parametrize("stack_options", [ONE_SHARD])
async def test_a_contact_dropped_without_a_reason_says_what_its_look_up_shows(stack: Stack) -> None:
    await stack.connect()
    await stack.create_export("silent")
    _, answer = await stack.write_sample(SampleOptions(profiles=400, seed=83, partitions=1))
    bounced = sorted(answer.expected_set())[0]
    contact = stack.emulator.state.seed_contact(bounced)
    stack.emulator.state.lists[1].set_status(contact.id, 3)  # bounced on the list (UNCONFIRMED numbering)
    stack.emulator.state.seed_bounced([bounced])
    before = await requests(stack)
    run = await stack.run("silent")  # AC's documented import/info: failure is a list of emails, no reason

    assert run["status"] == "PartiallySucceeded", run
    reasons = {r["email"]: r["reason"] for r in await stack.report("silent", run["id"]) if r["outcome"] == "rejected"}
    assert reasons == {bounced: Drop.BOUNCED.value}  # one drop: its look-up (2 requests) shows the bounce
    spent = await requests(stack) - before
    assert spent[CONTACTS] == 1 and spent[CONTACT_LISTS] == 1, spent


@pytest.mark.parametrize("stack_options", [{"config": emulator_config(info_failure_reasons=True), **ONE_SHARD}])
async def test_when_ac_gives_reasons_each_dropped_row_says_which_without_a_look_up(stack: Stack) -> None:
    await stack.connect()
    await stack.create_export("told")
    _, answer = await stack.write_sample(SampleOptions(profiles=1000, seed=84, partitions=1))
    emails = sorted(answer.expected_set())
    excluded, bounced, left = emails[:2], emails[2], emails[3]
    state = stack.emulator.state
    state.seed_exclusions(excluded)
    state.seed_bounced([bounced])
    state.seed_contact(left, lists={1: 2})  # unsubscribed from the list before we ever sent
    # the plan's contact limit leaves room for all but 3 of the new contacts
    new = len(emails) - len(excluded) - 1 - 1
    stack.emulator.patch_config({"contact_limit": state.contact_count + new - 3})
    before = await requests(stack)
    run = await stack.run("told")

    assert run["status"] == "PartiallySucceeded", run
    report = await stack.report("told", run["id"])
    reasons = Counter(r["reason"] for r in report if r["outcome"] == "rejected")
    assert reasons == {Drop.EXCLUDED.value: 2, Drop.BOUNCED.value: 1, Drop.OVER_LIMIT.value: 3}, reasons
    assert [r["email"] for r in report if r["outcome"] == "opted-out"] == [left]
    assert run["counts"]["optedOut"] == 1 and run["counts"]["rejected"] == 6
    spent = await requests(stack) - before
    assert spent[CONTACTS] == 0 and spent[CONTACT_LISTS] == 0  # AC said why: nothing to look up
